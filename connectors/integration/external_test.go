package integration

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/mesi/mconnect/app/domain"
)

// idp is an identity provider publishing its RSA keys as a JWKS.
type idp struct {
	*httptest.Server
	mu      sync.Mutex
	keys    map[string]*rsa.PrivateKey
	fetches atomic.Int64
	down    atomic.Bool
}

func newIDP(t testing.TB, kids ...string) *idp {
	t.Helper()
	p := &idp{keys: map[string]*rsa.PrivateKey{}}
	for _, k := range kids {
		p.addKey(t, k)
	}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		if p.down.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		p.mu.Lock()
		var set jose.JSONWebKeySet
		for kid, k := range p.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"})
		}
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *idp) addKey(t testing.TB, kid string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.keys[kid] = k
	p.mu.Unlock()
}

func (p *idp) token(t testing.TB, kid string, now time.Time, mod func(m jwt.MapClaims)) string {
	t.Helper()
	p.mu.Lock()
	k := p.keys[kid]
	p.mu.Unlock()
	c := jwt.MapClaims{"iss": "https://idp.test", "aud": []string{"api://mconnect"}, "azp": "join-backend",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "scp": "appointments:write"}
	if mod != nil {
		mod(c)
	}
	return mint(t, jwt.SigningMethodRS256, k, kid, c)
}

// TestExternalIssuer: tokens of an identity provider are checked against
// its JWKS; a new key is fetched when a token names it; a forged token
// with a known key ID fetches nothing; the keys fetched keep working while
// the provider is down, and the hub's health says it is.
func TestExternalIssuer(t *testing.T) {
	p := newIDP(t, "k1")
	e := newEnv(t, func(o *Options) { o.Config = externalConfig(p.URL + "/jwks") })
	now := e.clk.now
	// Run fetched once at start.
	waitFor(t, "first fetch", func() bool { return p.fetches.Load() >= 1 })
	if a := e.put(p.token(t, "k1", now(), nil), "X1", sample()); a.status != http.StatusCreated {
		t.Fatalf("valid token: %d %s", a.status, a.body)
	}
	if o, _ := e.st.OrderByPlacer(t.Context(), testConn, "X1"); o.Meta[metaClient] != "join-backend" {
		t.Errorf("client of the order: %q", o.Meta[metaClient])
	}
	base := p.fetches.Load()
	tests := []struct {
		name   string
		tok    string
		status int
		title  string
	}{
		{"wrong audience", p.token(t, "k1", now(), func(m jwt.MapClaims) { m["aud"] = "api://other" }), 401, "Token for another audience"},
		{"wrong issuer", p.token(t, "k1", now(), func(m jwt.MapClaims) { m["iss"] = "https://idp.evil" }), 401, "Token from another issuer"},
		{"expired", p.token(t, "k1", now(), func(m jwt.MapClaims) { m["exp"] = now().Add(-2 * time.Minute).Unix() }), 401, "Token expired"},
		{"roles as scopes (Azure AD apps)", p.token(t, "k1", now(), func(m jwt.MapClaims) { delete(m, "scp"); m["roles"] = []string{"appointments:write"} }), 200, ""},
		{"scope claim", p.token(t, "k1", now(), func(m jwt.MapClaims) { delete(m, "scp"); m["scope"] = "openid appointments:write" }), 200, ""},
		{"wrong scope", p.token(t, "k1", now(), func(m jwt.MapClaims) { m["scp"] = "appointments:read" }), 403, "Insufficient scope"},
		{"forged with a known key ID", forge(t, p.token(t, "k1", now(), nil)), 401, "Token signature invalid"},
	}
	for _, tc := range tests {
		a := e.put(tc.tok, "X1", sample())
		if a.status != tc.status || (tc.title != "" && a.problem(t).Title != tc.title) {
			t.Errorf("%s: %d %s", tc.name, a.status, a.body)
		}
	}
	if n := p.fetches.Load(); n != base {
		t.Errorf("bad tokens with a known key ID fetched the key set %d times", n-base)
	}
	// The provider rotates: a token of the new key makes the hub fetch once.
	p.addKey(t, "k2")
	e.clk.advance(11 * time.Second)
	if a := e.put(p.token(t, "k2", now(), nil), "X2", sample()); a.status != http.StatusCreated {
		t.Fatalf("token of a new key: %d %s", a.status, a.body)
	}
	if n := p.fetches.Load(); n != base+1 {
		t.Errorf("new key: %d fetches, want 1", n-base)
	}
	// Unknown key IDs fetch at most every 10 s, however many arrive.
	for i := 0; i < 5; i++ {
		if a := e.put(p.token(t, "k1", now(), func(jwt.MapClaims) {}), "X3", sample()); a.status/100 != 2 {
			t.Fatalf("known key: %d", a.status)
		}
		tok := mint(t, jwt.SigningMethodRS256, p.keys["k1"], "k-unknown", jwt.MapClaims{"iss": "https://idp.test"})
		if a := e.put(tok, "X3", sample()); a.status != 401 || a.problem(t).Title != "Token signed with an unknown key" {
			t.Errorf("unknown kid: %d %s", a.status, a.body)
		}
	}
	if n := p.fetches.Load(); n > base+2 {
		t.Errorf("5 unknown key IDs within 10 s fetched %d times", n-base-1)
	}
	// Down: the cached keys keep working; a new key cannot be had (503),
	// and the health turns amber naming the provider.
	p.down.Store(true)
	e.clk.advance(time.Minute)
	if a := e.put(p.token(t, "k1", now(), nil), "X4", sample()); a.status != http.StatusCreated {
		t.Errorf("cached key while the provider is down: %d %s", a.status, a.body)
	}
	p.addKey(t, "k3")
	e.clk.advance(time.Minute)
	a := e.put(p.token(t, "k3", now(), nil), "X5", sample())
	if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" || a.problem(t).Title != "Issuer keys unavailable" {
		t.Errorf("new key while the provider is down: %d %s", a.status, a.body)
	}
	waitFor(t, "health amber", func() bool {
		h := e.health.last()
		return h.Code == "jwks-unreachable" && h.Severity == domain.SeverityWarning && strings.Contains(h.Detail, "503") && h.Args["url"] == p.URL+"/jwks"
	})
	p.down.Store(false)
	e.clk.advance(time.Minute)
	if a := e.put(p.token(t, "k3", now(), nil), "X5", sample()); a.status != http.StatusCreated {
		t.Errorf("provider back: %d %s", a.status, a.body)
	}
	waitFor(t, "health green", func() bool { h := e.health.last(); return h.Code == "listening" && h.Severity == domain.SeverityOK })
}

// TestExternalAllowedClients: with allowedClients only those are served;
// clientClaim picks the claim naming the client.
func TestExternalAllowedClients(t *testing.T) {
	p := newIDP(t, "k1")
	e := newEnv(t, func(o *Options) {
		o.Config = externalConfig(p.URL + "/jwks")
		o.Config.Auth.AllowedClients = []string{"zip-1"}
		o.Config.Auth.ClientClaim = "tenant_app"
	})
	now := e.clk.now()
	ok := p.token(t, "k1", now, func(m jwt.MapClaims) { m["tenant_app"] = "zip-1" })
	other := p.token(t, "k1", now, func(m jwt.MapClaims) { m["tenant_app"] = "zip-2" })
	missing := p.token(t, "k1", now, nil)
	if a := e.put(ok, "Y1", sample()); a.status != http.StatusCreated {
		t.Errorf("allowed client: %d %s", a.status, a.body)
	}
	if a := e.put(other, "Y1", sample()); a.status != http.StatusForbidden || a.problem(t).Title != "Client not allowed" {
		t.Errorf("other client: %d %s", a.status, a.body)
	}
	if a := e.put(missing, "Y1", sample()); a.status != http.StatusUnauthorized || a.problem(t).Title != "Token names no client" {
		t.Errorf("no client claim: %d %s", a.status, a.body)
	}
	if a := e.do(http.MethodPost, "/oauth/token", strings.NewReader("grant_type=client_credentials"),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); a.status != http.StatusNotFound {
		t.Errorf("token endpoint in the external mode: %d", a.status)
	}
}

// forge keeps a token's header and payload and puts another key's
// signature under them.
func forge(t *testing.T, tok string) string {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	parts := strings.Split(tok, ".")
	sig, err := jwt.SigningMethodRS256.Sign(parts[0]+"."+parts[1], k)
	if err != nil {
		t.Fatal(err)
	}
	return parts[0] + "." + parts[1] + "." + jwtSegment(sig)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	end := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(end) {
			t.Fatalf("%s: not within 30 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
