package integration

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/problem"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/app/tlscert"
)

var errInjected = errors.New("injected failure")

// clock is a settable clock for Options.Now.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }

// sink is the hub's order path over the real store.
type sink struct {
	st   *store.Store
	fail atomic.Bool
	n    atomic.Int64
}

func (s *sink) AcceptOrder(ctx context.Context, o domain.Order) (domain.Accepted, error) {
	if s.fail.Load() {
		return domain.Accepted{}, fmt.Errorf("store: %w", errInjected)
	}
	s.n.Add(1)
	return s.st.ApplyOrder(ctx, o)
}

// faultStore is the real store with a switch that makes reads fail.
type faultStore struct {
	*store.Store
	fail atomic.Bool
}

func (f *faultStore) OrderByPlacer(ctx context.Context, conn, placer string) (domain.Order, error) {
	if f.fail.Load() {
		return domain.Order{}, fmt.Errorf("store: %w", errInjected)
	}
	return f.Store.OrderByPlacer(ctx, conn, placer)
}

func (f *faultStore) Groups(ctx context.Context) ([]domain.Group, error) {
	if f.fail.Load() {
		return nil, fmt.Errorf("store: %w", errInjected)
	}
	return f.Store.Groups(ctx)
}

func (f *faultStore) IntegrationClientByID(ctx context.Context, id string) (store.IntegrationClient, error) {
	if f.fail.Load() {
		return store.IntegrationClient{}, fmt.Errorf("store: %w", errInjected)
	}
	return f.Store.IntegrationClientByID(ctx, id)
}

// healthLog keeps every report.
type healthLog struct {
	mu  sync.Mutex
	all []domain.Health
}

func (h *healthLog) Report(x domain.Health) {
	h.mu.Lock()
	h.all = append(h.all, x)
	h.mu.Unlock()
}

func (h *healthLog) last() domain.Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.all) == 0 {
		return domain.Health{}
	}
	return h.all[len(h.all)-1]
}

// env is a running Integration API on 127.0.0.1:0 over a real store.
type env struct {
	t      testing.TB
	dir    string
	st     *store.Store
	fs     *faultStore
	sink   *sink
	clk    *clock
	health *healthLog
	srv    *Server
	opts   Options
	base   string // https://127.0.0.1:port/integration/v1
	client *http.Client
	cov    *coverage
	creds  Credentials
	stop   func()
}

const testConn = "join"

func testConfig() Config {
	c := Config{Listen: "127.0.0.1:0", RateLimit: RateLimitConfig{PerMinute: 100_000, Burst: 10_000}}
	c.ApplyDefaults()
	return c
}

func quietLog() logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

func newEnv(t testing.TB, mod func(*Options)) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.EnsureGroup(context.Background(), "cardiology", "Cardiology"); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, st: st, fs: &faultStore{Store: st}, sink: &sink{st: st}, clk: &clock{}, health: &healthLog{}, cov: newCoverage()}
	e.opts = Options{
		Name: testConn, Config: testConfig(), Orders: e.sink, Store: e.fs, Health: e.health, Log: quietLog(), Now: e.clk.now,
		Mapping: config.Mapping{MeasurementMap: map[string]string{"EKG-12": "ECG"}, GroupMap: map[string]string{"KARD": "cardiology"}},
		Certificate: func() (tls.Certificate, error) {
			c, _, err := tlscert.LoadOrCreate(dir)
			return c, err
		},
	}
	if mod != nil {
		mod(&e.opts)
	}
	if e.opts.Config.Auth.Mode == ModeBuiltin {
		e.creds, err = AddClient(context.Background(), st, testConn, "Join test", "test")
		if err != nil {
			t.Fatal(err)
		}
	}
	e.start()
	t.Cleanup(func() { e.stop() })
	return e
}

// start runs a new server on the env's options (again, after stop).
func (e *env) start() {
	t := e.t
	t.Helper()
	srv, err := New(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	e.base = "https://" + srv.Addr().String() + Prefix
	cert, fp, err := tlscert.LoadOrCreate(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	_ = cert
	e.client = &http.Client{Timeout: 2 * time.Minute, Transport: &specTransport{t: t, base: pinnedTransport(fp), spec: loadSpec(t, e.base), cov: e.cov}}
	e.stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("server did not stop within 30 s")
		}
		e.stop = func() {}
	}
}

func pinnedTransport(fp string) *http.Transport {
	return &http.Transport{
		MaxIdleConnsPerHost: 64,
		ForceAttemptHTTP2:   true,
		TLSClientConfig: &tls.Config{
			MinVersion:         tls.VersionTLS12,
			InsecureSkipVerify: true, // replaced by the pin check below
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 || tlscert.Fingerprint(cs.PeerCertificates[0].Raw) != fp {
					return errors.New("server certificate does not match the pinned fingerprint")
				}
				return nil
			},
		},
	}
}

// answer is a response read to its end.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) problem(t testing.TB) problem.Problem {
	t.Helper()
	var p problem.Problem
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatalf("problem %d %q: %v", a.status, a.body, err)
	}
	return p
}

func (a answer) state(t testing.TB) AppointmentState {
	t.Helper()
	var s AppointmentState
	if err := json.Unmarshal(a.body, &s); err != nil {
		t.Fatalf("state %d %q: %v", a.status, a.body, err)
	}
	return s
}

// do sends a request; hdr may set headers (Authorization among them).
func (e *env) do(method, path string, body io.Reader, hdr map[string]string) answer {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func bearer(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok}
}

// put sends an appointment body as the token's client.
func (e *env) put(tok, id string, body any) answer {
	e.t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			e.t.Fatal(err)
		}
	}
	h := bearer(tok)
	h["Content-Type"] = "application/json"
	return e.do(http.MethodPut, "/appointments/"+url.PathEscape(id), bytes.NewReader(b), h)
}

// token gets a token from the built-in endpoint with the env's client.
func (e *env) token(scope string) string {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	req, _ := http.NewRequest(http.MethodPost, e.base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.creds.ClientID, e.creds.ClientSecret)
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr TokenResponse
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &tr) != nil {
		e.t.Fatalf("token: %d %s", resp.StatusCode, b)
	}
	return tr.AccessToken
}

// tokenForm posts a token request with optional Basic credentials.
func (e *env) tokenForm(form url.Values, user, pass string, hdr map[string]string) answer {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// sample is a complete, valid appointment.
func sample() map[string]any {
	return map[string]any{
		"patient":     map[string]any{"id": "12345", "firstName": "Ana", "lastName": "Novak", "birthDate": "1960-03-15", "gender": "female"},
		"measurement": "ECG",
		"tabletGroup": "cardiology",
		"scheduledAt": "2026-03-02T09:30:00+01:00",
		"visitIds":    []any{map[string]any{"value": "V-889", "system": "urn:join:encounter"}},
		"fields":      map[string]any{"room": "3", "referrer": "Dr. Kovač"},
	}
}

// ---- the spec ----

var (
	specOnce sync.Once
	specDoc  *openapi3.T
	specErr  error
)

// loadSpec loads docs/integration-api.yaml once and returns a router for base.
func loadSpec(t testing.TB, base string) routers.Router {
	t.Helper()
	specOnce.Do(func() {
		l := openapi3.NewLoader()
		specDoc, specErr = l.LoadFromFile(filepath.Join("..", "..", "docs", "integration-api.yaml"))
		if specErr == nil {
			specErr = specDoc.Validate(l.Context)
		}
	})
	if specErr != nil {
		t.Fatalf("docs/integration-api.yaml: %v", specErr)
	}
	doc := *specDoc
	doc.Servers = openapi3.Servers{{URL: base}}
	r, err := legacy.NewRouter(&doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return r
}

// coverage records which documented (method path status) were answered.
type coverage struct {
	mu   sync.Mutex
	seen map[string]bool
}

func newCoverage() *coverage { return &coverage{seen: map[string]bool{}} }

func (c *coverage) add(k string) {
	c.mu.Lock()
	c.seen[k] = true
	c.mu.Unlock()
}

func (c *coverage) keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for k := range c.seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// specTransport checks every request the server accepted and every
// response against docs/integration-api.yaml.
type specTransport struct {
	t    testing.TB
	base http.RoundTripper
	spec routers.Router
	cov  *coverage
}

func (s *specTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		var err error
		reqBody, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	route, params, rerr := s.spec.FindRoute(req)
	resp, err := s.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if resp.StatusCode >= 400 {
		if ct := resp.Header.Get("Content-Type"); ct != problem.ContentType {
			s.t.Errorf("%s %s -> %d with Content-Type %q, want %s", req.Method, req.URL.Path, resp.StatusCode, ct, problem.ContentType)
		}
	}
	if rerr != nil {
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			s.t.Errorf("%s %s is not in docs/integration-api.yaml (%v) but answered %d", req.Method, req.URL.Path, rerr, resp.StatusCode)
		}
		return resp, nil
	}
	s.cov.add(fmt.Sprintf("%s %s %d", req.Method, route.Path, resp.StatusCode))
	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{
		Request: req.Clone(ctx), PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true},
	}
	in.Request.Body = io.NopCloser(bytes.NewReader(reqBody))
	if resp.StatusCode < 300 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			s.t.Errorf("%s %s accepted (%d) but invalid by docs/integration-api.yaml: %v", req.Method, req.URL.Path, resp.StatusCode, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(respBody)), Options: in.Options,
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		s.t.Errorf("%s %s -> %d: response invalid by docs/integration-api.yaml: %v\nbody: %.500s", req.Method, req.URL.Path, resp.StatusCode, err, respBody)
	}
	return resp, nil
}

// externalConfig is the external mode with an identity provider's JWKS.
func externalConfig(jwksURL string) Config {
	c := Config{Listen: "127.0.0.1:0", RateLimit: RateLimitConfig{PerMinute: 100_000, Burst: 10_000},
		Auth: AuthConfig{Mode: ModeExternal, Issuer: "https://idp.test", Audience: "api://mconnect", JWKSURL: jwksURL}}
	c.ApplyDefaults()
	return c
}

func jwtSegment(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// frozen is a clock that moves only when told.
type frozen struct {
	mu sync.Mutex
	t  time.Time
}

func newFrozen() *frozen { return &frozen{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (f *frozen) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *frozen) advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}
