package device

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/go-pdf/fpdf"
	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/problem"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/app/tlscert"
	"github.com/mesi/mconnect/internal/testfs"
)

var errInjected = errors.New("injected failure")

// fakeHub is the hub over a real store: worklists from the store, results
// saved with one delivery to a connection named "ehr".
type fakeHub struct {
	st            *store.Store
	failWorklist  atomic.Bool
	failAccept    atomic.Bool
	worklistCalls atomic.Int64
}

func (h *fakeHub) Worklist(ctx context.Context, group string) ([]domain.Order, error) {
	h.worklistCalls.Add(1)
	if h.failWorklist.Load() {
		return nil, errInjected
	}
	return h.st.Worklist(ctx, group)
}

func (h *fakeHub) AcceptResult(ctx context.Context, r domain.Result) (domain.Result, bool, error) {
	if h.failAccept.Load() {
		return domain.Result{}, false, errInjected
	}
	return h.st.SaveResult(ctx, r, []string{"ehr"})
}

// failingStore is the real store with a switch that makes every call fail.
type failingStore struct {
	*store.Store
	fail atomic.Bool
}

func (f *failingStore) err() error {
	if f.fail.Load() {
		return fmt.Errorf("store: %w", errInjected)
	}
	return nil
}

func (f *failingStore) PairDevice(ctx context.Context, c string, d domain.Device, t string) (domain.Device, error) {
	if err := f.err(); err != nil {
		return d, err
	}
	return f.Store.PairDevice(ctx, c, d, t)
}

func (f *failingStore) Heartbeat(ctx context.Context, id string, b int, v, ip string) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.Heartbeat(ctx, id, b, v, ip)
}

func (f *failingStore) Order(ctx context.Context, id string) (domain.Order, error) {
	if err := f.err(); err != nil {
		return domain.Order{}, err
	}
	return f.Store.Order(ctx, id)
}

func (f *failingStore) StartOrder(ctx context.Context, id, g, d string) (domain.Order, error) {
	if err := f.err(); err != nil {
		return domain.Order{}, err
	}
	return f.Store.StartOrder(ctx, id, g, d)
}

// env is a running server on 127.0.0.1:0 over a real store in a temp dir.
type env struct {
	t      testing.TB
	dir    string
	st     *store.Store
	fs     *failingStore
	hub    *fakeHub
	srv    *Server
	base   string // https://127.0.0.1:port/api/v1
	client *http.Client
	cov    *coverage
	cancel context.CancelFunc
	done   chan error
}

func newEnv(t testing.TB, mod func(*Options)) *env {
	t.Helper()
	dir := testfs.TempDir(t)
	st, err := store.Open(filepath.Join(dir, "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opts := Options{Listen: "127.0.0.1:0", DataDir: dir, HubID: "hub-test", HubName: "Test Hub", Version: "1.2.3"}
	if mod != nil {
		mod(&opts)
	}
	e := &env{t: t, dir: dir, st: st, fs: &failingStore{Store: st}, hub: &fakeHub{st: st}, cov: newCoverage()}
	log := logrus.New()
	log.SetOutput(io.Discard)
	e.srv, err = NewServer(opts, e.fs, e.hub, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.done = make(chan error, 1)
	go func() { e.done <- e.srv.Run(ctx) }()
	addr := e.srv.Addr()
	if addr == nil {
		t.Fatal("server did not start")
	}
	scheme := "https"
	if opts.PlainHTTP {
		scheme = "http"
	}
	e.base = fmt.Sprintf("%s://%s%s", scheme, addr, APIPrefix)
	e.client = &http.Client{Timeout: 2 * time.Minute, Transport: &specTransport{t: t, base: pinnedTransport(e.srv.Fingerprint()), spec: loadSpec(t, e.base), cov: e.cov}}
	t.Cleanup(e.stop)
	return e
}

func (e *env) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	e.cancel = nil
	select {
	case err := <-e.done:
		if err != nil {
			e.t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		e.t.Error("server did not stop within 30 s")
	}
}

// pinnedTransport trusts exactly the certificate with fingerprint fp.
func pinnedTransport(fp string) *http.Transport {
	return &http.Transport{
		MaxIdleConnsPerHost: 64,
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

var specOnce sync.Once
var specDoc *openapi3.T
var specErr error

// loadSpec loads docs/lan-api.yaml once and returns a router for base.
func loadSpec(t testing.TB, base string) routers.Router {
	t.Helper()
	specOnce.Do(func() {
		l := openapi3.NewLoader()
		l.IsExternalRefsAllowed = true
		specDoc, specErr = l.LoadFromFile(filepath.Join("..", "docs", "lan-api.yaml"))
		if specErr == nil {
			specErr = specDoc.Validate(l.Context)
		}
		openapi3filter.RegisterBodyDecoder("application/pdf", openapi3filter.FileBodyDecoder)
	})
	if specErr != nil {
		t.Fatalf("docs/lan-api.yaml: %v", specErr)
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
// response against docs/lan-api.yaml.
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
	if rerr != nil {
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			s.t.Errorf("%s %s is not in docs/lan-api.yaml (%v) but answered %d", req.Method, req.URL.Path, rerr, resp.StatusCode)
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
	if resp.StatusCode < 300 || resp.StatusCode == http.StatusNotModified {
		// A request the server accepted must be valid by the spec too.
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			s.t.Errorf("%s %s accepted (%d) but invalid by docs/lan-api.yaml: %v", req.Method, req.URL.Path, resp.StatusCode, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(respBody)), Options: in.Options,
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		s.t.Errorf("%s %s -> %d: response invalid by docs/lan-api.yaml: %v\nbody: %.500s", req.Method, req.URL.Path, resp.StatusCode, err, respBody)
	}
	if resp.StatusCode >= 400 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			s.t.Errorf("%s %s -> %d with Content-Type %q, want application/problem+json", req.Method, req.URL.Path, resp.StatusCode, ct)
		}
	}
	return resp, nil
}

// do sends a request and decodes a JSON answer into out (if not nil).
func (e *env) do(method, path, token string, body io.Reader, ctype string, hdr map[string]string, out any) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp
}

func (e *env) postJSON(path, token string, v any, out any) *http.Response {
	e.t.Helper()
	var body []byte
	switch x := v.(type) {
	case string:
		body = []byte(x)
	default:
		body, _ = json.Marshal(v)
	}
	return e.do(http.MethodPost, path, token, bytes.NewReader(body), "application/json", nil, out)
}

// pair creates a code for group and pairs a tablet with it.
func (e *env) pair(group, serial string) PairingResponse {
	e.t.Helper()
	code, _, err := NewPairingCode(context.Background(), e.st, time.Minute, group)
	if err != nil {
		e.t.Fatal(err)
	}
	var pr PairingResponse
	resp := e.postJSON("/pairings", "", map[string]string{"code": code, "serial": serial, "name": "Tablet " + serial, "model": "mTABLET", "appVersion": "2.0"}, &pr)
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("pairing: %d", resp.StatusCode)
	}
	return pr
}

// addOrder stores an order in group and returns its ID.
func (e *env) addOrder(group, placer string) string {
	e.t.Helper()
	if group != domain.DefaultGroupID {
		if err := e.st.EnsureGroup(context.Background(), group, group); err != nil {
			e.t.Fatal(err)
		}
	}
	acc, err := e.st.ApplyOrder(context.Background(), domain.Order{
		Connection: "birpis", SourceMessageID: "msg-" + placer, PlacerNumber: placer, Action: domain.ActionNew,
		Measurement: "ECG", ServiceCode: "93000", ServiceText: "Resting ECG", Group: group,
		RequestedAt: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC),
		Patient: domain.Patient{ID: "P-" + placer, Name: domain.PersonName{Family: "Novak", Given: "Ana"}, BirthDate: "1960-04-02", Sex: domain.SexFemale,
			Address: domain.Address{Street: "Main 1", City: "Ljubljana"}},
		Visit:            domain.Visit{Class: "O", Location: "ECG room"},
		OrderingProvider: domain.Provider{ID: "D1", Name: domain.PersonName{Family: "Kos"}},
		Fields:           []domain.Field{{Key: "ORC-7", Label: "Quantity/timing", Value: "^^^20250301"}, {Key: "ZX-1", Value: "other"}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv.GroupChanged(group)
	return acc.OrderID
}

// testPDF returns a small real PDF.
func testPDF(t testing.TB) []byte {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 12)
	pdf.Cell(40, 10, "ECG report")
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type part struct {
	name, ctype string
	data        []byte
}

func multipartBody(t testing.TB, parts ...part) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.name == "report" {
			disp += `; filename="report.pdf"`
		}
		h.Set("Content-Disposition", disp)
		if p.ctype != "" {
			h.Set("Content-Type", p.ctype)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.data)
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

func resultJSON(appointmentID string) []byte {
	m := map[string]any{
		"measurement": "ECG", "performedAt": "2025-03-01T10:15:00+01:00", "operator": "nurse1",
		"observations": []map[string]any{
			{"code": "HR", "name": "Heart rate", "value": 72, "unit": "bpm", "low": 60, "high": 100, "flag": "N"},
			{"code": "QTc", "name": "QTc", "value": "412", "unit": "ms", "low": "350", "high": "450"},
		},
		"interpretation": "Sinus rhythm", "device": map[string]string{"serial": "MT-1", "model": "mTABLET ECG"},
	}
	if appointmentID != "" {
		m["appointmentId"] = appointmentID
	} else {
		m["patient"] = map[string]any{"id": "P-77", "name": map[string]string{"family": "Horvat", "given": "Jan"}, "birthDate": "1950-01-31"}
	}
	b, _ := json.Marshal(m)
	return b
}

func (e *env) upload(token, key string, parts ...part) (*http.Response, ResultCreated) {
	e.t.Helper()
	body, ct := multipartBody(e.t, parts...)
	hdr := map[string]string{}
	if key != "" {
		hdr["Idempotency-Key"] = key
	}
	var rc ResultCreated
	resp := e.do(http.MethodPost, "/results", token, body, ct, hdr, nil)
	if resp.StatusCode == http.StatusCreated {
		json.NewDecoder(resp.Body).Decode(&rc)
	}
	return resp, rc
}

func problemOf(t testing.TB, resp *http.Response) problem.Problem {
	t.Helper()
	var p problem.Problem
	b, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("problem body %q: %v", b, err)
	}
	return p
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// certPool is unused by pinned clients; kept for the CA-verification test.
func certPool(t testing.TB, dir string) *x509.CertPool {
	t.Helper()
	c, _, err := tlscert.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	p.AddCert(leaf)
	return p
}
