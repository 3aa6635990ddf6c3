package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/problem"
)

// clockSkew is how far the hub's and the issuer's clocks may differ.
const clockSkew = 60 * time.Second

// maxTokenLen bounds a bearer token (a JWT of an identity provider with
// many claims stays well below).
const maxTokenLen = 8192

var errUnknownKey = errors.New("no key with this key ID")

// externalAlgs are the signature algorithms accepted from an identity
// provider; builtinAlgs those of the hub's own tokens. Never "none" and
// never HMAC (a public key must not become a shared secret).
var (
	externalAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
	builtinAlgs  = []string{"ES256"}
)

// principal is who called, as the token says.
type principal struct {
	client string
	scopes []string
}

func (p principal) has(scope string) bool {
	for _, s := range p.scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// accessClaims are the claims of an access token (RFC 9068), with the
// places identity providers put the client and the scopes.
type accessClaims struct {
	jwt.RegisteredClaims
	ClientID string    `json:"client_id,omitempty"`
	AZP      string    `json:"azp,omitempty"`
	AppID    string    `json:"appid,omitempty"`
	Scope    string    `json:"scope,omitempty"`
	Scp      scopeList `json:"scp,omitempty"`
	Roles    scopeList `json:"roles,omitempty"`
	// extra keeps every claim for ClientClaim.
	extra map[string]any
}

// UnmarshalJSON keeps the claims by name as well.
func (c *accessClaims) UnmarshalJSON(b []byte) error {
	type plain accessClaims
	if err := json.Unmarshal(b, (*plain)(c)); err != nil {
		return err
	}
	return json.Unmarshal(b, &c.extra)
}

// scopeList reads a space-separated string or an array of strings.
type scopeList []string

func (s *scopeList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = strings.Fields(one)
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("scopes must be a string or an array of strings")
	}
	*s = many
	return nil
}

func (c *accessClaims) scopes() []string {
	out := strings.Fields(c.Scope)
	out = append(out, c.Scp...)
	return append(out, c.Roles...)
}

// client names the caller: the configured claim, else client_id, azp,
// appid, sub.
func (c *accessClaims) client(claim string) string {
	if claim != "" {
		if v, ok := c.extra[claim].(string); ok {
			return v
		}
		return ""
	}
	for _, v := range []string{c.ClientID, c.AZP, c.AppID, c.Subject} {
		if v != "" {
			return v
		}
	}
	return ""
}

// verifier checks bearer tokens of one connection.
type verifier struct {
	mode   string
	parser *jwt.Parser
	algs   []string
	// key returns the public key for a token's header.
	key func(ctx context.Context, kid, alg string) (any, error)
	// active checks the client (built-in: registered and not revoked;
	// external: allowed).
	active      func(ctx context.Context, client string) *problem.Problem
	clientClaim string
}

func newVerifier(mode, issuer, audience string, algs []string, now func() time.Time) *verifier {
	return &verifier{mode: mode, algs: algs, parser: jwt.NewParser(
		jwt.WithValidMethods(algs),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(clockSkew),
		jwt.WithTimeFunc(now),
	)}
}

// authProblem is a 401 or 403 with the headers RFC 6750 asks for.
type authProblem struct {
	*problem.Problem
	wwwAuth string
}

func unauthorized(slug, title, detail, code string) *authProblem {
	h := `Bearer realm="mconnect-integration"`
	if code != "" {
		h += fmt.Sprintf(`, error=%q, error_description=%q`, code, title)
	}
	return &authProblem{Problem: problem.New(http.StatusUnauthorized, slug, title, detail).WithField("Authorization"), wwwAuth: h}
}

// authenticate reads the Authorization header and checks the token; the
// principal must hold one of scopes.
func (v *verifier) authenticate(ctx context.Context, r *http.Request, scopes ...string) (principal, *authProblem) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return principal{}, unauthorized("token-missing", "Authentication required",
			"the Authorization header is missing: send 'Authorization: Bearer <access token>'", "")
	}
	scheme, raw, ok := strings.Cut(h, " ")
	raw = strings.TrimSpace(raw)
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return principal{}, unauthorized("token-malformed", "Malformed token",
			"the Authorization header must be 'Bearer <access token>'", "invalid_request")
	}
	if len(raw) > maxTokenLen {
		return principal{}, unauthorized("token-malformed", "Malformed token", fmt.Sprintf("the token is longer than %d bytes", maxTokenLen), "invalid_token")
	}
	p, ap := v.check(ctx, raw)
	if ap != nil {
		return p, ap
	}
	for _, s := range scopes {
		if p.has(s) {
			return p, nil
		}
	}
	want := strings.Join(scopes, " or ")
	return p, &authProblem{
		Problem: problem.New(http.StatusForbidden, "insufficient-scope", "Insufficient scope",
			fmt.Sprintf("the token's scopes (%s) do not include %s", strings.Join(p.scopes, " "), want)).WithField("Authorization"),
		wwwAuth: fmt.Sprintf(`Bearer realm="mconnect-integration", error="insufficient_scope", scope=%q`, scopes[0]),
	}
}

// check verifies one token: algorithm, signature, claims, client.
func (v *verifier) check(ctx context.Context, raw string) (principal, *authProblem) {
	var claims accessClaims
	tok, err := v.parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return v.key(ctx, kid, t.Method.Alg())
	})
	if err != nil {
		return principal{}, v.classify(tok, err)
	}
	client := claims.client(v.clientClaim)
	if client == "" {
		return principal{}, unauthorized("token-claims", "Token names no client", "the token carries no client_id, azp, appid or sub claim", "invalid_token")
	}
	if v.active != nil {
		if p := v.active(ctx, client); p != nil {
			return principal{client: client}, &authProblem{Problem: p, wwwAuth: `Bearer realm="mconnect-integration", error="invalid_token"`}
		}
	}
	return principal{client: client, scopes: claims.scopes()}, nil
}

// classify turns a parse error into the specific problem: what is wrong
// with the token, never why the library thought so.
func (v *verifier) classify(tok *jwt.Token, err error) *authProblem {
	alg := ""
	if tok != nil {
		alg, _ = tok.Header["alg"].(string)
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return unauthorized("token-malformed", "Malformed token", "the bearer token is not a JWT (header.payload.signature)", "invalid_token")
	case tok != nil && !contains(v.algs, alg):
		return unauthorized("token-algorithm", "Token algorithm not accepted",
			fmt.Sprintf("tokens signed with %q are refused; accepted: %s", alg, strings.Join(v.algs, ", ")), "invalid_token")
	case errors.Is(err, errUnknownKey):
		return unauthorized("token-key-unknown", "Token signed with an unknown key",
			"no key of the issuer has the token's key ID (kid); get a new token", "invalid_token")
	case errors.Is(err, errKeysUnavailable):
		p := unauthorized("token-keys-unavailable", "Issuer keys unavailable",
			"the identity provider's keys (JWKS) cannot be fetched just now; retry later", "invalid_token")
		p.Status = http.StatusServiceUnavailable
		p.RetryAfter = 30
		return p
	case errors.Is(err, jwt.ErrTokenUnverifiable), errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return unauthorized("token-signature", "Token signature invalid", "the token's signature does not verify with the issuer's key", "invalid_token")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return unauthorized("token-issuer", "Token from another issuer", "the token's iss is not the issuer this connection trusts", "invalid_token")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return unauthorized("token-audience", "Token for another audience", "the token's aud does not name this Integration API", "invalid_token")
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauthorized("token-expired", "Token expired", "the token's exp has passed: get a new token", "invalid_token")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return unauthorized("token-not-yet-valid", "Token not valid yet", "the token's nbf or iat lies in the future (check the clocks)", "invalid_token")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return unauthorized("token-claims", "Token lacks a required claim", "the token must carry exp, iss and aud", "invalid_token")
	}
	return unauthorized("token-invalid", "Invalid token", "the token's claims cannot be read", "invalid_token")
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// builtinActive accepts a client registered for conn and not revoked,
// looked up on every call so that a revocation works at once.
func builtinActive(st ClientStore, conn string) func(context.Context, string) *problem.Problem {
	return func(ctx context.Context, id string) *problem.Problem {
		c, err := st.IntegrationClientByID(ctx, id)
		switch {
		case errors.Is(err, domain.ErrNotFound) || (err == nil && c.Connection != conn):
			return problem.New(http.StatusUnauthorized, "client-unknown", "Unknown client", "the token's client is not registered for this connection").WithField("Authorization")
		case err != nil:
			p := problem.New(http.StatusServiceUnavailable, "store-unavailable", "Hub storage unavailable", "the hub cannot read its clients just now; retry later")
			p.RetryAfter = 5
			return p
		case c.Revoked():
			return problem.New(http.StatusUnauthorized, "client-revoked", "Client revoked",
				fmt.Sprintf("client %s was revoked on the hub on %s; its tokens are refused", id, c.RevokedAt.Format(time.RFC3339))).WithField("Authorization")
		}
		return nil
	}
}

// allowedActive accepts the listed clients only (all when the list is empty).
func allowedActive(list []string) func(context.Context, string) *problem.Problem {
	if len(list) == 0 {
		return nil
	}
	return func(_ context.Context, id string) *problem.Problem {
		if contains(list, id) {
			return nil
		}
		return problem.New(http.StatusForbidden, "client-not-allowed", "Client not allowed",
			fmt.Sprintf("client %q is not among this connection's allowed clients", cut(id, 60))).WithField("Authorization")
	}
}
