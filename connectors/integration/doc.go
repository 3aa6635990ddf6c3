// Package integration is the hub's Integration API: the HTTPS endpoint
// through which cloud EHRs (Join, ZipLaneRx) push appointments to the hub
// and read back what became of them. It is the OAuth 2.0 resource server
// of those calls and, in the built-in mode, their authorisation server too.
//
// Routes, under /integration/v1 (docs/integration-api.yaml is the
// contract; docs/INTEGRATION-API.md explains it to vendors):
//
//   - PUT /appointments/{externalId} creates or updates an appointment and
//     answers 201 or 200 only after the order is durably stored; an
//     identical repeat changes nothing.
//   - DELETE /appointments/{externalId} takes it off the worklist.
//   - GET /appointments/{externalId} tells its state, its results and
//     their delivery state.
//   - POST /oauth/token (built-in mode) issues short-lived ES256 access
//     tokens (RFC 9068 JWTs) to clients registered in the hub by ID and
//     secret (client-credentials grant); signing keys rotate without
//     downtime.
//   - GET /health answers without a token (reachability).
//
// Tokens are checked for signature, issuer, audience, expiry (60 s of
// clock skew tolerated) and scope; in the external mode against the keys
// an identity provider publishes (JWKS, cached, refetched for an unknown
// key ID at most every few seconds). A revoked client's tokens stop working
// at once. Every call is audit-logged with the client ID before it is
// answered; errors are problem+json naming the field at fault; bodies are
// bounded, every client is rate limited (429 with Retry-After) and wrong
// secrets at the token endpoint lock the address and the client out for a
// while.
package integration
