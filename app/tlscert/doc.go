// Package tlscert keeps the hub's own TLS certificate: a self-signed ECDSA
// P-256 certificate created on first use in the data folder and loaded on
// every later start, its SHA-256 fingerprint (what tablets and other LAN
// clients pin instead of trusting a CA), and the hardened server TLS
// configuration every TLS endpoint of the hub uses (the tablets' LAN API,
// the FTPS endpoint for GDT files, the Integration API).
//
// The certificate is valid for 20 years: clients pin its fingerprint, so a
// new certificate means pairing every tablet again. Nothing here renews it.
package tlscert
