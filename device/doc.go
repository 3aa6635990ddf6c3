// Package device is the LAN endpoint that MESI mTABLETs use: an HTTPS API
// (TLS 1.2+, self-signed certificate pinned by its SHA-256 fingerprint),
// pairing with one-time codes, per-group worklists with long-polling, result
// upload (JSON validated against an embedded JSON Schema plus a streamed PDF
// report), heartbeats, and mDNS/DNS-SD discovery.
//
// The contract is docs/lan-api.yaml (OpenAPI 3); docs/DISCOVERY.md describes
// the discovery protocol, and PairingURL builds what the Dashboard's QR code
// holds. The JSON documents are this package's own types (lanapi.go),
// mapped from and to the domain types, so that a change of a domain type
// cannot change what tablets receive; golden files in testdata/lan-api pin
// the bytes.
//
// The package consumes two small interfaces: Store (devices, pairing codes
// and orders; *store.Store satisfies it) and Hub (worklists, which may ask
// pull-type cloud connectors, and durable result acceptance). The hub calls
// Server.GroupChanged whenever an order of a group changes so that
// long-polling tablets of that group wake up.
//
// Errors are application/problem+json (RFC 9457, package app/problem) with a
// title and a detail naming the offending field. Tokens, pairing codes and
// patient names or birth dates are never logged at info level.
package device
