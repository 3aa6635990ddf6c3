package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/problem"
)

// mint signs claims with key under kid (nil key: alg none).
func mint(t testing.TB, m jwt.SigningMethod, key any, kid string, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// claimsOf are valid claims of the built-in mode for the env's client.
func (e *env) claimsOf(mod func(c *accessClaims)) *accessClaims {
	now := e.clk.now()
	c := &accessClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: DefaultIssuer, Subject: e.creds.ClientID,
		Audience: jwt.ClaimStrings{DefaultAudience}, IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(5 * time.Minute))}, ClientID: e.creds.ClientID, Scope: ScopeWrite}
	if mod != nil {
		mod(c)
	}
	return c
}

// TestTokenChecks: every kind of bad token gets 401 or 403 with its own
// title and WWW-Authenticate; good ones pass.
func TestTokenChecks(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	good := e.token("")
	key, err := e.srv.keys.signer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	hub := func(mod func(c *accessClaims)) string {
		return mint(t, jwt.SigningMethodES256, key.priv, key.id, e.claimsOf(mod))
	}
	tests := []struct {
		name   string
		authz  string
		status int
		slug   string
	}{
		{"no token", "", 401, "token-missing"},
		{"not bearer", "Basic " + good, 401, "token-malformed"},
		{"not a JWT", "Bearer abc.def", 401, "token-malformed"},
		{"forged signature", "Bearer " + mint(t, jwt.SigningMethodES256, other, key.id, e.claimsOf(nil)), 401, "token-signature"},
		{"tampered payload", "Bearer " + tamper(t, good), 401, "token-signature"},
		{"unknown key ID", "Bearer " + mint(t, jwt.SigningMethodES256, other, "nope", e.claimsOf(nil)), 401, "token-key-unknown"},
		{"alg none", "Bearer " + mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, key.id, e.claimsOf(nil)), 401, "token-algorithm"},
		{"alg HS256", "Bearer " + mint(t, jwt.SigningMethodHS256, []byte("a shared secret of 32 bytes...."), key.id, e.claimsOf(nil)), 401, "token-algorithm"},
		{"wrong audience", "Bearer " + hub(func(c *accessClaims) { c.Audience = jwt.ClaimStrings{"urn:someone:else"} }), 401, "token-audience"},
		{"wrong issuer", "Bearer " + hub(func(c *accessClaims) { c.Issuer = "https://evil.example" }), 401, "token-issuer"},
		{"expired", "Bearer " + hub(func(c *accessClaims) { c.ExpiresAt = jwt.NewNumericDate(e.clk.now().Add(-61 * time.Second)) }), 401, "token-expired"},
		{"without exp", "Bearer " + hub(func(c *accessClaims) { c.ExpiresAt = nil }), 401, "token-claims"},
		{"not yet valid", "Bearer " + hub(func(c *accessClaims) { c.NotBefore = jwt.NewNumericDate(e.clk.now().Add(5 * time.Minute)) }), 401, "token-not-yet-valid"},
		{"unknown client", "Bearer " + hub(func(c *accessClaims) { c.ClientID, c.Subject = "mci_nobody", "mci_nobody" }), 401, "client-unknown"},
		{"no client", "Bearer " + hub(func(c *accessClaims) { c.ClientID, c.Subject = "", "" }), 401, "token-claims"},
		{"read scope writes", "Bearer " + e.token(ScopeRead), 403, "insufficient-scope"},
		{"no scope", "Bearer " + hub(func(c *accessClaims) { c.Scope = "" }), 403, "insufficient-scope"},
		{"expired 30 s ago (clock skew)", "Bearer " + hub(func(c *accessClaims) { c.ExpiresAt = jwt.NewNumericDate(e.clk.now().Add(-30 * time.Second)) }), 201, ""},
		{"issued 30 s ahead (clock skew)", "Bearer " + hub(func(c *accessClaims) {
			c.IssuedAt, c.NotBefore = jwt.NewNumericDate(e.clk.now().Add(30*time.Second)), jwt.NewNumericDate(e.clk.now().Add(30*time.Second))
		}), 200, ""},
		{"good", "Bearer " + good, 200, ""},
	}
	b, _ := json.Marshal(sample())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{"Content-Type": "application/json"}
			if tc.authz != "" {
				h["Authorization"] = tc.authz
			}
			a := e.do(http.MethodPut, "/appointments/TOK-1", strings.NewReader(string(b)), h)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %s", a.status, tc.status, a.body)
			}
			if tc.slug == "" {
				return
			}
			p := a.problem(t)
			if p.Type != problem.TypeBase+tc.slug || p.Field != "Authorization" {
				t.Errorf("problem %+v, want %s", p, tc.slug)
			}
			wa := a.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(wa, `Bearer realm="mconnect-integration"`) {
				t.Errorf("WWW-Authenticate %q", wa)
			}
			if tc.status == 403 && !strings.Contains(wa, `error="insufficient_scope", scope="appointments:write"`) {
				t.Errorf("403 WWW-Authenticate %q", wa)
			}
		})
	}
	// The read scope reads.
	if a := e.do(http.MethodGet, "/appointments/TOK-1", nil, bearer(e.token(ScopeRead))); a.status != http.StatusOK {
		t.Errorf("GET with appointments:read: %d %s", a.status, a.body)
	}
	// A revoked client's token stops working at once.
	if _, err := RevokeClient(ctx, e.st, e.creds.ClientID, "test", "leaked"); err != nil {
		t.Fatal(err)
	}
	a := e.do(http.MethodGet, "/appointments/TOK-1", nil, bearer(good))
	if a.status != http.StatusUnauthorized || a.problem(t).Title != "Client revoked" {
		t.Errorf("revoked client's token: %d %s", a.status, a.body)
	}
}

// tamper changes the payload of a signed token, keeping its signature.
func tamper(t testing.TB, tok string) string {
	parts := strings.Split(tok, ".")
	var c map[string]any
	b, _ := jwt.NewParser().DecodeSegment(parts[1])
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	c["scope"] = "appointments:write appointments:admin"
	nb, _ := json.Marshal(c)
	parts[1] = base64.RawURLEncoding.EncodeToString(nb)
	return strings.Join(parts, ".")
}

// TestTokenExpiresWithTheClock: a token of the endpoint works until its
// lifetime and the clock skew are over, then 401 "Token expired".
func TestTokenExpiresWithTheClock(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token("")
	e.clk.advance(e.opts.Config.Auth.TokenTTL.D() + 30*time.Second)
	if a := e.put(tok, "E1", sample()); a.status != http.StatusCreated {
		t.Fatalf("within the skew: %d %s", a.status, a.body)
	}
	e.clk.advance(31 * time.Second)
	a := e.put(tok, "E1", sample())
	if a.status != http.StatusUnauthorized || a.problem(t).Title != "Token expired" {
		t.Errorf("after the skew: %d %s", a.status, a.body)
	}
}

// TestTokenEndpoint: the client-credentials grant as RFC 6749 has it, and
// what a real OAuth 2.0 client library makes of it.
func TestTokenEndpoint(t *testing.T) {
	e := newEnv(t, nil)
	cc := url.Values{"grant_type": {"client_credentials"}}
	if a := e.tokenForm(cc, e.creds.ClientID, e.creds.ClientSecret, nil); a.status != 200 || a.header.Get("Cache-Control") != "no-store" || a.header.Get("Pragma") != "no-cache" {
		t.Fatalf("basic: %d %v %s", a.status, a.header, a.body)
	} else {
		var tr TokenResponse
		json.Unmarshal(a.body, &tr)
		if tr.TokenType != "Bearer" || tr.ExpiresIn != 600 || tr.Scope != ScopeWrite {
			t.Errorf("token response %+v", tr)
		}
		parsed, _, err := jwt.NewParser().ParseUnverified(tr.AccessToken, &accessClaims{})
		c := parsed.Claims.(*accessClaims)
		if err != nil || parsed.Header["typ"] != "at+jwt" || parsed.Header["alg"] != "ES256" || c.ClientID != e.creds.ClientID ||
			c.Subject != e.creds.ClientID || c.ID == "" || c.Issuer != DefaultIssuer || c.Audience[0] != DefaultAudience {
			t.Errorf("token %v %+v %v", parsed.Header, c, err)
		}
	}
	post := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.creds.ClientID}, "client_secret": {e.creds.ClientSecret},
		"scope": {"appointments:read appointments:write"}}
	if a := e.tokenForm(post, "", "", nil); a.status != 200 {
		t.Errorf("post: %d %s", a.status, a.body)
	}
	tests := []struct {
		name         string
		form         url.Values
		user, pass   string
		status       int
		oauthError   string
		wwwAuthBasic bool
	}{
		{"both basic and form", post, e.creds.ClientID, e.creds.ClientSecret, 400, "invalid_request", false},
		{"wrong grant", url.Values{"grant_type": {"password"}}, e.creds.ClientID, e.creds.ClientSecret, 400, "unsupported_grant_type", false},
		{"no grant", url.Values{}, e.creds.ClientID, e.creds.ClientSecret, 400, "unsupported_grant_type", false},
		{"unknown scope", url.Values{"grant_type": {"client_credentials"}, "scope": {"admin"}}, e.creds.ClientID, e.creds.ClientSecret, 400, "invalid_scope", false},
		{"no credentials", cc, "", "", 401, "invalid_client", true},
		{"wrong secret", cc, e.creds.ClientID, "mcs_wrong", 401, "invalid_client", true},
		{"unknown client", cc, "mci_0000000000000000", e.creds.ClientSecret, 401, "invalid_client", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := e.tokenForm(tc.form, tc.user, tc.pass, nil)
			var op struct {
				Error string `json:"error"`
				Title string `json:"title"`
			}
			json.Unmarshal(a.body, &op)
			if a.status != tc.status || op.Error != tc.oauthError || op.Title == "" {
				t.Errorf("%d %s", a.status, a.body)
			}
			if got := a.header.Get("WWW-Authenticate") != ""; got != tc.wwwAuthBasic {
				t.Errorf("WWW-Authenticate %q", a.header.Get("WWW-Authenticate"))
			}
		})
	}
	h := map[string]string{"Content-Type": "application/json"}
	if a := e.do(http.MethodPost, "/oauth/token", strings.NewReader(`{"grant_type":"client_credentials"}`), h); a.status != 400 {
		t.Errorf("JSON token request: %d %s", a.status, a.body)
	}

	// A real OAuth 2.0 client gets tokens and reads refusals.
	cfg := clientcredentials.Config{ClientID: e.creds.ClientID, ClientSecret: e.creds.ClientSecret, TokenURL: e.base + "/oauth/token",
		Scopes: []string{ScopeWrite}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, e.client)
	tok, err := cfg.Token(ctx)
	if err != nil || tok.AccessToken == "" || time.Until(tok.Expiry) < 9*time.Minute {
		t.Fatalf("clientcredentials: %+v %v", tok, err)
	}
	if a := e.put(tok.AccessToken, "OA-1", sample()); a.status != http.StatusCreated {
		t.Errorf("PUT with the library's token: %d %s", a.status, a.body)
	}
	cfg.ClientSecret = "mcs_wrong"
	if _, err := cfg.Token(ctx); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("wrong secret through the library: %v", err)
	}
}

// TestTokenEndpointLockout: wrong secrets lock the address, and a client
// guessed at from many addresses; the lock refuses even the right secret
// and ends by itself.
func TestTokenEndpointLockout(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Config.TrustedProxies = []string{"127.0.0.1"} })
	cc := url.Values{"grant_type": {"client_credentials"}}
	for i := 0; i < 10; i++ {
		if a := e.tokenForm(cc, e.creds.ClientID, "mcs_wrong", nil); a.status != 401 {
			t.Fatalf("wrong secret %d: %d", i, a.status)
		}
	}
	a := e.tokenForm(cc, e.creds.ClientID, e.creds.ClientSecret, nil)
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "60" {
		t.Fatalf("after 10 wrong secrets: %d %v %s", a.status, a.header, a.body)
	}
	// Another address (through the trusted proxy) is not locked.
	other := map[string]string{"X-Forwarded-For": "203.0.113.7"}
	if a := e.tokenForm(cc, e.creds.ClientID, e.creds.ClientSecret, other); a.status != 200 {
		t.Fatalf("another address: %d %s", a.status, a.body)
	}
	e.clk.advance(61 * time.Second)
	if a := e.tokenForm(cc, e.creds.ClientID, e.creds.ClientSecret, nil); a.status != 200 {
		t.Fatalf("after the lock: %d %s", a.status, a.body)
	}
	// 20 wrong secrets from 20 addresses lock the client everywhere.
	for i := 0; i < 20; i++ {
		h := map[string]string{"X-Forwarded-For": "198.51.100." + strconv.Itoa(i+1)}
		if a := e.tokenForm(cc, e.creds.ClientID, "mcs_wrong", h); a.status != 401 {
			t.Fatalf("distributed wrong secret %d: %d %s", i, a.status, a.body)
		}
	}
	a = e.tokenForm(cc, e.creds.ClientID, e.creds.ClientSecret, map[string]string{"X-Forwarded-For": "192.0.2.99"})
	if a.status != http.StatusTooManyRequests || !strings.Contains(string(a.body), "for client "+e.creds.ClientID) {
		t.Fatalf("client after 20 wrong secrets: %d %s", a.status, a.body)
	}
	// The audit log has every try, with the client ID.
	log, _ := e.st.AuditLog(context.Background(), 100)
	n := 0
	for _, en := range log {
		if en.Action == "integration.token" && en.Target == e.creds.ClientID {
			n++
		}
	}
	if n < 33 {
		t.Errorf("%d token calls audited, want every one (33)", n)
	}
}

// TestKeyRotation: a new key signs after KeyRotation; tokens of the old
// key keep working until they expire; keys survive a restart.
func TestKeyRotation(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Config.Auth.KeyRotation = config.Duration(time.Hour) })
	kidOf := func(tok string) string {
		p, _, _ := jwt.NewParser().ParseUnverified(tok, &accessClaims{})
		return p.Header["kid"].(string)
	}
	t1 := e.token("")
	e.clk.advance(55 * time.Minute)
	tA := e.token("")
	if kidOf(tA) != kidOf(t1) {
		t.Fatal("rotated before its time")
	}
	e.clk.advance(6 * time.Minute)
	t3 := e.token("")
	if kidOf(t3) == kidOf(t1) {
		t.Fatal("not rotated after an hour")
	}
	if a := e.put(tA, "R1", sample()); a.status != http.StatusCreated {
		t.Errorf("unexpired token of the retired key: %d %s", a.status, a.body)
	}
	if a := e.put(t1, "R1", sample()); a.status != 401 || a.problem(t).Title != "Token expired" {
		t.Errorf("expired token of the retired key: %d %s", a.status, a.body)
	}
	e.stop()
	e.start() // the keys come from the store
	t4 := e.token("")
	if kidOf(t4) != kidOf(t3) {
		t.Errorf("after a restart another key signs: %s, want %s", kidOf(t4), kidOf(t3))
	}
	for _, tok := range []string{tA, t3, t4} {
		if a := e.put(tok, "R2", sample()); a.status/100 != 2 {
			t.Errorf("token after the restart: %d %s", a.status, a.body)
		}
	}
	keys, _ := e.st.SigningKeys(context.Background(), testConn)
	if len(keys) != 2 || keys[0].ID != kidOf(t3) || keys[1].RetiredAt.IsZero() {
		t.Errorf("stored keys: %+v", keys)
	}
	// Once the retired key's last token expired, the key verifies nothing.
	e.clk.advance(12 * time.Minute)
	old, _ := ecdsaKey(e, kidOf(t1))
	late := mint(t, jwt.SigningMethodES256, old, kidOf(t1), e.claimsOf(nil))
	if a := e.put(late, "R3", sample()); a.status != 401 || a.problem(t).Title != "Token signed with an unknown key" {
		t.Errorf("token of a key retired too long ago: %d %s", a.status, a.body)
	}
}

// ecdsaKey reads a stored signing key.
func ecdsaKey(e *env, kid string) (*ecdsa.PrivateKey, error) {
	keys, err := e.st.SigningKeys(context.Background(), testConn)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.ID == kid {
			p, err := x509.ParsePKCS8PrivateKey(k.Private)
			if err != nil {
				return nil, err
			}
			return p.(*ecdsa.PrivateKey), nil
		}
	}
	return nil, errInjected
}
