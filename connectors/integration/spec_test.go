package integration

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestSpecCoverage drives every documented response of every operation
// through the spec-checking transport, which validates each request the
// server accepted and each response against docs/integration-api.yaml.
func TestSpecCoverage(t *testing.T) {
	cov := newCoverage()
	share := func(e *env) { e.client.Transport.(*specTransport).cov = cov }
	e := newEnv(t, nil)
	share(e)
	ctx := context.Background()
	tok := e.token("")
	read := e.token(ScopeRead)
	auth := func(tok string) map[string]string {
		return map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tok}
	}

	e.do(http.MethodGet, "/health", nil, nil)
	// token endpoint
	cc := url.Values{"grant_type": {"client_credentials"}}
	e.tokenForm(url.Values{"grant_type": {"password"}}, e.creds.ClientID, e.creds.ClientSecret, nil)
	e.fs.fail.Store(true)
	e.tokenForm(cc, e.creds.ClientID, e.creds.ClientSecret, nil)
	e.fs.fail.Store(false)
	for i := 0; i < 11; i++ {
		e.tokenForm(cc, e.creds.ClientID, "mcs_wrong", nil) // 401 ten times, then 429
	}
	e.clk.advance(2 * time.Minute)

	// PUT
	e.put(tok, "C1", sample())                     // 201
	e.put(tok, "C1", sample())                     // 200
	e.put(tok, "C1", `{"patient":`)                // 400
	e.put("", "C1", sample())                      // 401
	e.put(read, "C1", sample())                    // 403
	e.put(tok, "C1", strings.Repeat("x", 300<<10)) // 413
	e.do(http.MethodPut, "/appointments/C1", strings.NewReader("x"), map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "text/plain"})
	e.put(tok, "C1", with(func(m map[string]any) { delete(patientOf(m), "id") })) // 422
	e.fs.fail.Store(true)
	e.put(tok, "C2", sample()) // 503
	e.fs.fail.Store(false)
	done := e.put(tok, "C3", sample()).state(t)
	if _, err := e.st.SetOrderState(ctx, done.AppointmentID, "done", "", ""); err != nil {
		t.Fatal(err)
	}
	e.put(tok, "C3", with(func(m map[string]any) { m["measurement"] = "ABI" })) // 409

	// GET
	for _, h := range []map[string]string{auth(read), auth(tok), nil} {
		e.do(http.MethodGet, "/appointments/C1", nil, h)
	}
	e.do(http.MethodGet, "/appointments/bad%20id", nil, auth(tok))
	e.do(http.MethodGet, "/appointments/NOPE", nil, auth(tok))
	e.fs.fail.Store(true)
	e.do(http.MethodGet, "/appointments/C1", nil, auth(tok))
	e.fs.fail.Store(false)
	noScope := mint(t, jwt.SigningMethodES256, mustSigner(t, e).priv, mustSigner(t, e).id, e.claimsOf(func(c *accessClaims) { c.Scope = "other" }))
	e.do(http.MethodGet, "/appointments/C1", nil, auth(noScope))

	// DELETE
	e.do(http.MethodDelete, "/appointments/C1", nil, auth(tok))
	e.do(http.MethodDelete, "/appointments/bad%20id", nil, auth(tok))
	e.do(http.MethodDelete, "/appointments/C1", nil, nil)
	e.do(http.MethodDelete, "/appointments/C1", nil, auth(read))
	e.do(http.MethodDelete, "/appointments/NOPE", nil, auth(tok))
	e.do(http.MethodDelete, "/appointments/C3", nil, auth(tok))
	e.fs.fail.Store(true)
	e.do(http.MethodDelete, "/appointments/C1", nil, auth(tok))
	e.fs.fail.Store(false)

	// 429 on every appointment operation: a server with a burst of one.
	rl := newEnv(t, func(o *Options) { o.Config.RateLimit = RateLimitConfig{PerMinute: 1, Burst: 1} })
	share(rl)
	rtok := rl.token("")
	for _, m := range []string{http.MethodPut, http.MethodGet, http.MethodDelete} {
		for i := 0; i < 2; i++ {
			if m == http.MethodPut {
				rl.put(rtok, "L1", sample())
			} else {
				rl.do(m, "/appointments/L1", nil, bearer(rtok))
			}
		}
	}
	// The token endpoint of the external mode: 404.
	p := newIDP(t, "k1")
	ext := newEnv(t, func(o *Options) { o.Config = externalConfig(p.URL + "/jwks") })
	share(ext)
	ext.tokenForm(cc, "x", "y", nil)

	seen := map[string]bool{}
	for _, k := range cov.keys() {
		seen[k] = true
	}
	var missing []string
	for path, pi := range specDoc.Paths.Map() {
		for method, op := range pi.Operations() {
			for code := range op.Responses.Map() {
				if k := method + " " + path + " " + code; !seen[k] {
					missing = append(missing, k)
				}
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("documented responses never produced:\n%s\nseen:\n%s", strings.Join(missing, "\n"), strings.Join(cov.keys(), "\n"))
	}
}

func mustSigner(t *testing.T, e *env) *ringKey {
	t.Helper()
	k, err := e.srv.keys.signer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSpecTransportCatchesDrift makes sure the spec check is not a no-op:
// an answer that breaks the spec must be reported.
func TestSpecTransportCatchesDrift(t *testing.T) {
	rec := &recordingTB{TB: t}
	base := "https://127.0.0.1:1" + Prefix
	for _, body := range []string{`{"status":"fine"}`, `{"status":"ok","extra":1}`} {
		st := &specTransport{t: rec, base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
		}), spec: loadSpec(t, base), cov: newCoverage()}
		req, _ := http.NewRequest(http.MethodGet, base+"/health", nil)
		before := rec.errors
		if _, err := st.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		if rec.errors == before {
			t.Errorf("health answer %s passed the spec check", body)
		}
	}
}

type recordingTB struct {
	testing.TB
	errors int
}

func (r *recordingTB) Errorf(string, ...any) { r.errors++ }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
