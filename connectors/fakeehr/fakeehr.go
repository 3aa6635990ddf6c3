// Package fakeehr is a strict stand-in for a cloud EHR that pushes
// appointments to the hub's Integration API and takes results back (Join,
// ZipLaneRx), for tests on loopback. It has both sides of that EHR:
//
//   - its OAuth 2.0 token endpoint (client-credentials grant) issuing
//     opaque tokens to the hub, accepting exactly the configured client,
//     authentication style, scopes and audience;
//   - its results endpoint, accepting a POST only with a live token of its
//     own, Content-Type application/json, an Idempotency-Key, and a body
//     that matches docs/result.schema.json and decodes without unknown
//     fields, with an inline PDF whose size and SHA-256 are right; a retry
//     under the same key is answered as the first time and not stored twice;
//   - an identity provider (a JWKS and JWTs signed with its RSA key) for
//     an Integration API in the external mode, and a Pusher that calls the
//     Integration API as the EHR does.
//
// Every refusal is recorded with its reason, so that a test can tell why
// the hub's delivery did not arrive. Faults can be switched on: the token
// endpoint down, tokens revoked, results answered with a given status.
package fakeehr

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/mesi/mconnect/connectors/resultjson"
)

// Paths the fake EHR serves.
const (
	TokenPath   = "/oauth2/token"
	JWKSPath    = "/.well-known/jwks.json"
	DefaultPath = "/mesi/v1/results"
)

// Options configure the fake EHR.
type Options struct {
	// ClientID and ClientSecret are the hub's credentials at the token endpoint.
	ClientID, ClientSecret string
	// AuthStyle is "basic" (client_secret_basic) or "post"; the other is refused.
	AuthStyle string
	// Scopes are required exactly (in any order); Audience, when set, as
	// the "audience" form parameter.
	Scopes   []string
	Audience string
	// TokenTTL is the expires_in of the tokens (default 1 h).
	TokenTTL time.Duration
	// ResultsPath is where results are POSTed (default DefaultPath); it may
	// end in a path segment of the appointment's external ID, which must
	// then equal the body's appointment.externalId: "/appointments/{externalId}/results".
	ResultsPath string
	// SchemaFile is docs/result.schema.json (required).
	SchemaFile string
	// Issuer and Audience of the JWTs it mints as identity provider.
	IDPIssuer, IDPAudience string
}

// Received is one result the EHR accepted.
type Received struct {
	Header         http.Header
	Body           []byte
	Doc            resultjson.Result
	Token          string
	IdempotencyKey string
	Path           string
	PDF            []byte
	At             time.Time
}

// EHR is a running fake EHR.
type EHR struct {
	*httptest.Server
	opts   Options
	schema *jsonschema.Schema
	key    *rsa.PrivateKey
	kid    string

	// TokenDown makes the token endpoint close connections unanswered.
	TokenDown atomic.Bool
	// TokenRequests and ResultRequests count the calls.
	TokenRequests, ResultRequests atomic.Int64

	mu       sync.Mutex
	tokens   map[string]time.Time
	status   []int // answers to force on the next result POSTs
	byKey    map[string]keyed
	received []Received
	refused  []string
	arrived  chan Received
	nextID   int
}

type keyed struct {
	sum [32]byte
	id  string
}

// Start starts the fake EHR on 127.0.0.1.
func Start(opts Options) (*EHR, error) {
	if opts.ClientID == "" || opts.ClientSecret == "" {
		return nil, errors.New("fakeehr: ClientID and ClientSecret are required")
	}
	if opts.AuthStyle == "" {
		opts.AuthStyle = "basic"
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.ResultsPath == "" {
		opts.ResultsPath = DefaultPath
	}
	sch, err := loadSchema(opts.SchemaFile)
	if err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	e := &EHR{opts: opts, schema: sch, key: key, kid: "fake-1", tokens: map[string]time.Time{}, byKey: map[string]keyed{},
		arrived: make(chan Received, 64)}
	mux := http.NewServeMux()
	mux.HandleFunc(TokenPath, e.serveToken)
	mux.HandleFunc(JWKSPath, e.serveJWKS)
	mux.HandleFunc("/", e.serveResult)
	e.Server = httptest.NewServer(mux)
	return e, nil
}

func loadSchema(path string) (*jsonschema.Schema, error) {
	if path == "" {
		return nil, errors.New("fakeehr: SchemaFile (docs/result.schema.json) is required")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fakeehr: %w", err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("fakeehr: %s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("result.schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("result.schema.json")
}

// TokenURL and ResultsURL are what the hub's config names.
func (e *EHR) TokenURL() string { return e.URL + TokenPath }

// ResultsURL is the results endpoint (with {externalId} still in it when
// the path has it).
func (e *EHR) ResultsURL() string { return e.URL + e.opts.ResultsPath }

// JWKSURL is the identity provider's key set.
func (e *EHR) JWKSURL() string { return e.URL + JWKSPath }

// Next waits for the next result accepted.
func (e *EHR) Next(timeout time.Duration) (Received, error) {
	select {
	case r := <-e.arrived:
		return r, nil
	case <-time.After(timeout):
		return Received{}, fmt.Errorf("fakeehr: no result within %v; refusals: %q", timeout, e.Refusals())
	}
}

// Received returns every result accepted, in order.
func (e *EHR) Received() []Received {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Received(nil), e.received...)
}

// Refusals returns why requests were refused.
func (e *EHR) Refusals() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.refused...)
}

// ForceStatus answers the next result POSTs with these statuses (after
// checking the token), storing nothing.
func (e *EHR) ForceStatus(codes ...int) {
	e.mu.Lock()
	e.status = append(e.status, codes...)
	e.mu.Unlock()
}

// RevokeTokens forgets every token issued: the next result POST gets 401.
func (e *EHR) RevokeTokens() {
	e.mu.Lock()
	e.tokens = map[string]time.Time{}
	e.mu.Unlock()
}

func (e *EHR) refuse(w http.ResponseWriter, status int, code, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	e.mu.Lock()
	e.refused = append(e.refused, fmt.Sprintf("%d %s: %s", status, code, msg))
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusUnauthorized && code == "invalid_token" {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": msg})
}

// serveToken is the client-credentials grant, strictly.
func (e *EHR) serveToken(w http.ResponseWriter, r *http.Request) {
	e.TokenRequests.Add(1)
	if e.TokenDown.Load() {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		e.refuse(w, http.StatusServiceUnavailable, "temporarily_unavailable", "down")
		return
	}
	if r.Method != http.MethodPost {
		e.refuse(w, http.StatusMethodNotAllowed, "invalid_request", "token request with %s", r.Method)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		e.refuse(w, http.StatusBadRequest, "invalid_request", "token request Content-Type %q", r.Header.Get("Content-Type"))
		return
	}
	if err := r.ParseForm(); err != nil {
		e.refuse(w, http.StatusBadRequest, "invalid_request", "form: %v", err)
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "client_credentials" {
		e.refuse(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type %q", f.Get("grant_type"))
		return
	}
	id, secret, basic := r.BasicAuth()
	inForm := f.Has("client_id") || f.Has("client_secret")
	switch e.opts.AuthStyle {
	case "basic":
		if !basic || inForm {
			e.refuse(w, http.StatusUnauthorized, "invalid_client", "client_secret_basic expected (basic=%v, in form=%v)", basic, inForm)
			return
		}
	case "post":
		if basic || !inForm {
			e.refuse(w, http.StatusUnauthorized, "invalid_client", "client_secret_post expected (basic=%v, in form=%v)", basic, inForm)
			return
		}
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	if id != e.opts.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(e.opts.ClientSecret)) != 1 {
		e.refuse(w, http.StatusUnauthorized, "invalid_client", "client %q or its secret is wrong", id)
		return
	}
	got := strings.Fields(f.Get("scope"))
	sort.Strings(got)
	want := append([]string(nil), e.opts.Scopes...)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		e.refuse(w, http.StatusBadRequest, "invalid_scope", "scope %q, want %q", f.Get("scope"), strings.Join(want, " "))
		return
	}
	if e.opts.Audience != "" && f.Get("audience") != e.opts.Audience {
		e.refuse(w, http.StatusBadRequest, "invalid_request", "audience %q, want %q", f.Get("audience"), e.opts.Audience)
		return
	}
	b := make([]byte, 24)
	rand.Read(b)
	tok := "ehr-" + hex.EncodeToString(b)
	e.mu.Lock()
	e.tokens[tok] = time.Now().Add(e.opts.TokenTTL)
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer",
		"expires_in": int(e.opts.TokenTTL / time.Second), "scope": strings.Join(want, " ")})
}

// serveResult takes one result, strictly.
func (e *EHR) serveResult(w http.ResponseWriter, r *http.Request) {
	e.ResultRequests.Add(1)
	prefix, suffix, templated := strings.Cut(e.opts.ResultsPath, "{externalId}")
	ext := ""
	switch {
	case templated && strings.HasPrefix(r.URL.Path, prefix) && strings.HasSuffix(r.URL.Path, suffix) && len(r.URL.Path) > len(prefix)+len(suffix):
		ext = strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, prefix), suffix)
	case !templated && r.URL.Path == e.opts.ResultsPath:
	default:
		e.refuse(w, http.StatusNotFound, "not_found", "%s %s", r.Method, r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		e.refuse(w, http.StatusMethodNotAllowed, "invalid_request", "%s on the results endpoint", r.Method)
		return
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	e.mu.Lock()
	exp, known := e.tokens[tok]
	e.mu.Unlock()
	if scheme != "Bearer" || !known || time.Now().After(exp) {
		e.refuse(w, http.StatusUnauthorized, "invalid_token", "token %q unknown, revoked or expired", cut(tok, 12))
		return
	}
	e.mu.Lock()
	var forced int
	if len(e.status) > 0 {
		forced, e.status = e.status[0], e.status[1:]
	}
	e.mu.Unlock()
	if forced != 0 {
		e.refuse(w, forced, "forced", "status %d forced by the test", forced)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		e.refuse(w, http.StatusUnsupportedMediaType, "invalid_request", "Content-Type %q", ct)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" || len(key) > 200 {
		e.refuse(w, http.StatusBadRequest, "invalid_request", "Idempotency-Key %q", key)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		e.refuse(w, http.StatusBadRequest, "invalid_request", "read body: %v", err)
		return
	}
	sum := sha256.Sum256(body)
	e.mu.Lock()
	prev, seen := e.byKey[key]
	e.mu.Unlock()
	if seen {
		if prev.sum != sum {
			e.refuse(w, http.StatusUnprocessableEntity, "idempotency_mismatch", "Idempotency-Key %s reused with another body", key)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]string{"id": prev.id, "status": "duplicate"})
		return
	}
	doc, pdf, err := e.check(body)
	if err != nil {
		e.refuse(w, http.StatusUnprocessableEntity, "invalid_result", "%v", err)
		return
	}
	if templated && (doc.Appointment == nil || doc.Appointment.ExternalID != ext) {
		e.refuse(w, http.StatusUnprocessableEntity, "invalid_result", "path names appointment %q, the body another", ext)
		return
	}
	e.mu.Lock()
	e.nextID++
	id := fmt.Sprintf("ehr-result-%d", e.nextID)
	e.byKey[key] = keyed{sum: sum, id: id}
	rec := Received{Header: r.Header.Clone(), Body: body, Doc: doc, Token: tok, IdempotencyKey: key, Path: r.URL.Path, PDF: pdf, At: time.Now()}
	e.received = append(e.received, rec)
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]string{"id": id, "status": "stored"})
	select {
	case e.arrived <- rec:
	default:
	}
}

// check validates a result body against the schema and decodes it
// without unknown fields; an inline PDF must match its size and hash.
func (e *EHR) check(body []byte) (resultjson.Result, []byte, error) {
	var doc resultjson.Result
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return doc, nil, fmt.Errorf("not JSON: %w", err)
	}
	if err := e.schema.Validate(v); err != nil {
		return doc, nil, fmt.Errorf("does not match result.schema.json: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return doc, nil, fmt.Errorf("decode: %w", err)
	}
	var pdf []byte
	if rep := doc.Report; rep != nil && rep.Base64 != "" {
		if pdf, err = base64.StdEncoding.DecodeString(rep.Base64); err != nil {
			return doc, nil, fmt.Errorf("report.base64: %w", err)
		}
		s := sha256.Sum256(pdf)
		if int64(len(pdf)) != rep.Size || hex.EncodeToString(s[:]) != rep.SHA256 {
			return doc, nil, fmt.Errorf("report: %d bytes with SHA-256 %x, the document says %d and %s", len(pdf), s, rep.Size, rep.SHA256)
		}
	}
	return doc, pdf, nil
}

// ---- the identity provider ----

func (e *EHR) serveJWKS(w http.ResponseWriter, r *http.Request) {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &e.key.PublicKey, KeyID: e.kid, Algorithm: "RS256", Use: "sig"}}}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(set)
}

// Mint signs an access token as the EHR's identity provider, for the
// Integration API in the external mode; claims override the defaults
// (iss, aud, client_id, scope, iat, exp one hour ahead).
func (e *EHR) Mint(clientID string, claims map[string]any) (string, error) {
	now := time.Now()
	c := jwt.MapClaims{"iss": e.opts.IDPIssuer, "aud": e.opts.IDPAudience, "client_id": clientID, "sub": clientID,
		"scope": "appointments:write", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["kid"] = e.kid
	return t.SignedString(e.key)
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
