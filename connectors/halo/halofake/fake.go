// Package halofake is a strict stand-in for HALO Connect's integrator API
// (the SQL passthrough of one site), for tests on loopback: it checks
// every header, path, query and body a client sends against the published
// API, answers in HALO's shapes (query objects, base64 result data, the
// {"error":{...}} envelope) and plays the faults a site has (offline,
// unreachable, expired queues, failed SQL, 5xx, slowness, malformed or
// oversized answers). Anything it does not expect is answered 400 and
// recorded as a violation, which a test asserts to be none.
//
// It declares its own wire types instead of the client's, so that a test
// against it checks the client's shapes rather than echoing them.
package halofake

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Op is an endpoint of the fake.
type Op string

// Endpoints.
const (
	OpImmediate Op = "immediate" // POST /integrator/sites/{siteId}/queries/immediate
	OpAsync     Op = "async"     // POST /integrator/sites/{siteId}/queries/async
	OpStatus    Op = "status"    // GET /integrator/sites/{siteId}/queries/{queryId}
	OpSite      Op = "site"      // GET /integrator/sites/{siteId}
)

// Fault is how the fake answers requests of one endpoint instead of
// normally.
type Fault struct {
	// HTTP answers with this status and HALO's error envelope (Message,
	// or Body verbatim when set).
	HTTP    int
	Message string
	Body    string
	// QueryStatus answers a query object in this status (immediate: at
	// once, with HTTP 200 unless HTTP is set; async: the status a
	// submitted query ends in).
	QueryStatus  string
	ErrorType    string // errorDetails of an executionFailed query
	ErrorMessage string
	// Delay holds every answer this long (a slow site).
	Delay time.Duration
	// Times is how many requests get the fault (0: all until cleared).
	Times int
}

// Written is one result the site's database received (an async nonQuery
// command that ended successful).
type Written struct {
	QueryID       string
	ResultID      string
	AppointmentID string
	PatientID     string
	ResultJSON    json.RawMessage
	PDF           []byte
	PDFType       string
}

// Request is one request as the fake received it.
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// Options configure the fake.
type Options struct {
	SiteID    string
	Key       string // the integrator subscription key
	Catalogue string
	// Query and Command are the exact texts the client must send for the
	// appointments (immediate reader) and the results (async nonQuery).
	Query, Command string
	// PDFType is the type @pdf must have (VarBinary or NVarChar).
	PDFType string
	// Steps are the statuses an async query passes through, one per
	// status read, before it ends (default initialising, queued,
	// executing).
	Steps []string
}

// Fake is a running fake.
type Fake struct {
	opts Options
	srv  *httptest.Server

	mu          sync.Mutex
	rows        []map[string]any
	rawRows     []byte // when set, result.data is the base64 of these bytes
	encoded     []byte // result.data as sent, made once per SetRows
	encodedSize int
	faults      map[Op]*Fault
	hold        bool // async queries stay executing
	queries     map[string]*query
	written     []Written
	requests    []Request
	violations  []string
	calls       map[Op]int
}

type query struct {
	id, status string
	step       int
	command    command
	fault      *Fault
	created    time.Time
}

// Wire shapes, as HALO publishes them.
type (
	parameter struct {
		Name      string  `json:"name"`
		Value     *string `json:"value"`
		Direction string  `json:"direction"`
		Type      string  `json:"type"`
		Size      int     `json:"size,omitempty"`
	}
	command struct {
		Text          string      `json:"text"`
		ExecutionMode string      `json:"executionMode"`
		Type          string      `json:"type"`
		Parameters    []parameter `json:"parameters"`
	}
	queryRequest struct {
		MaxTimeInQueue *int64   `json:"maxTimeInQueue"`
		Catalogue      string   `json:"catalogue"`
		Command        *command `json:"command"`
	}
)

// New starts a fake on 127.0.0.1; it stops when the test ends.
func New(t interface{ Cleanup(func()) }, opts Options) *Fake {
	if len(opts.Steps) == 0 {
		opts.Steps = []string{"initialising", "queued", "executing"}
	}
	if opts.PDFType == "" {
		opts.PDFType = "VarBinary"
	}
	f := &Fake{opts: opts, faults: map[Op]*Fault{}, queries: map[string]*query{}, calls: map[Op]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the fake's base URL (the client's baseURL).
func (f *Fake) URL() string { return f.srv.URL }

// Close stops the fake (a site that is gone).
func (f *Fake) Close() { f.srv.Close() }

// SetRows sets the rows the appointments query returns.
func (f *Fake) SetRows(rows []map[string]any) {
	f.mu.Lock()
	f.rows, f.rawRows, f.encoded = rows, nil, nil
	f.encode()
	f.mu.Unlock()
}

// encode makes result.data of the rows once; f.mu is held.
func (f *Fake) encode() {
	data := f.rawRows
	if data == nil {
		data, _ = json.Marshal(f.rows)
		if f.rows == nil {
			data = []byte("[]")
		}
	}
	f.encoded = []byte(base64.StdEncoding.EncodeToString(data))
	f.encodedSize = len(data)
}

// SetRawData makes result.data the base64 of b (a malformed row array).
func (f *Fake) SetRawData(b []byte) {
	f.mu.Lock()
	f.rawRows, f.encoded = b, nil
	f.encode()
	f.mu.Unlock()
}

// SetFault makes the fake answer op with fault; the zero Fault clears it.
func (f *Fake) SetFault(op Op, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fault == (Fault{}) {
		delete(f.faults, op)
		return
	}
	f.faults[op] = &fault
}

// Hold keeps submitted async queries executing (until Hold(false)).
func (f *Fake) Hold(on bool) {
	f.mu.Lock()
	f.hold = on
	f.mu.Unlock()
}

// Written returns the results written so far.
func (f *Fake) Written() []Written {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Written(nil), f.written...)
}

// Requests returns every request received so far.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// Violations lists what clients sent that HALO would not take.
func (f *Fake) Violations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.violations...)
}

// Calls returns how many requests reached op.
func (f *Fake) Calls(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// Submitted returns the async queries submitted, by ID.
func (f *Fake) Submitted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id := range f.queries {
		ids = append(ids, id)
	}
	return ids
}

func (f *Fake) violate(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	f.mu.Lock()
	f.violations = append(f.violations, msg)
	f.mu.Unlock()
	writeError(w, http.StatusBadRequest, msg)
}

// writeError answers HALO's error envelope.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"status": status, "statusText": http.StatusText(status), "message": msg,
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// takeFault returns op's fault (counting down Times); f.mu is held.
func (f *Fake) takeFault(op Op) *Fault {
	flt := f.faults[op]
	if flt == nil {
		return nil
	}
	if flt.Times > 0 {
		flt.Times--
		if flt.Times == 0 {
			delete(f.faults, op)
		}
	}
	c := *flt
	return &c
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := readAll(r)
	f.mu.Lock()
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	f.mu.Unlock()

	// Authentication comes first, as in HALO's gateway.
	switch key := r.Header.Get("Ocp-Apim-Subscription-Key"); {
	case key == "":
		writeError(w, http.StatusUnauthorized, "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.")
		return
	case key != f.opts.Key:
		writeError(w, http.StatusUnauthorized, "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.")
		return
	}
	if r.Header.Get("Authorization") != "" || r.Header.Get("DeviceId") != "" {
		f.violate(w, "the integrator API takes the subscription key, not desktop credentials")
		return
	}
	if a := r.Header.Get("Accept"); a != "application/json" {
		f.violate(w, "Accept is %q, want application/json", a)
		return
	}
	if r.URL.RawQuery != "" {
		f.violate(w, "unexpected query string %q", r.URL.RawQuery)
		return
	}
	prefix := "/integrator/sites/"
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		writeError(w, http.StatusNotFound, "Operation Not Found")
		return
	}
	site, rest, _ := strings.Cut(rest, "/")
	if site != f.opts.SiteID {
		writeError(w, http.StatusNotFound, "Site not found.")
		return
	}
	var op Op
	switch {
	case rest == "" && r.Method == http.MethodGet:
		op = OpSite
	case rest == "queries/immediate" && r.Method == http.MethodPost:
		op = OpImmediate
	case rest == "queries/async" && r.Method == http.MethodPost:
		op = OpAsync
	case strings.HasPrefix(rest, "queries/") && !strings.Contains(strings.TrimPrefix(rest, "queries/"), "/") && r.Method == http.MethodGet:
		op = OpStatus
	default:
		writeError(w, http.StatusNotFound, "Operation Not Found")
		return
	}
	f.mu.Lock()
	f.calls[op]++
	flt := f.takeFault(op)
	f.mu.Unlock()
	if flt != nil && flt.Delay > 0 {
		select {
		case <-time.After(flt.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if flt != nil && (flt.HTTP != 0 || flt.Body != "") && !(op == OpImmediate && flt.QueryStatus != "") {
		status := flt.HTTP
		if status == 0 {
			status = http.StatusOK
		}
		if flt.Body != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write([]byte(flt.Body))
			return
		}
		msg := flt.Message
		if msg == "" {
			msg = http.StatusText(status)
		}
		writeError(w, status, msg)
		return
	}
	switch op {
	case OpSite:
		f.site(w, flt)
	case OpImmediate:
		f.immediate(w, r, body, flt)
	case OpAsync:
		f.async(w, r, body, flt)
	case OpStatus:
		f.status(w, strings.TrimPrefix(rest, "queries/"))
	}
}

func readAll(r *http.Request) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(http.MaxBytesReader(nil, r.Body, 256<<20))
	return b.Bytes(), err
}

func (f *Fake) site(w http.ResponseWriter, flt *Fault) {
	avail := "online"
	if flt != nil && flt.QueryStatus != "" {
		avail = flt.QueryStatus // "offline", "unreachable"
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": f.opts.SiteID, "name": "Practice", "availability": avail,
		"catalogue": []map[string]any{{"name": f.opts.Catalogue}}})
}

// decodeRequest checks a query request strictly; it answers the
// violation itself and returns false.
func (f *Fake) decodeRequest(w http.ResponseWriter, r *http.Request, body []byte, mode string) (queryRequest, bool) {
	var q queryRequest
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.violate(w, "Content-Type is %q, want application/json", ct)
		return q, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		f.violate(w, "body: %v", err)
		return q, false
	}
	max := int64(60000)
	if mode == "async" {
		max = 7200000
	}
	switch {
	case q.MaxTimeInQueue == nil:
		f.violate(w, "maxTimeInQueue missing")
	case *q.MaxTimeInQueue < 0 || *q.MaxTimeInQueue > max:
		f.violate(w, "maxTimeInQueue %d out of 0..%d", *q.MaxTimeInQueue, max)
	case q.Catalogue != f.opts.Catalogue:
		f.violate(w, "catalogue %q, want %q", q.Catalogue, f.opts.Catalogue)
	case q.Command == nil:
		f.violate(w, "command missing")
	default:
		return q, true
	}
	return q, false
}

// checkParams checks names, directions and types, and returns the values.
func (f *Fake) checkParams(w http.ResponseWriter, ps []parameter, want map[string]string) (map[string]*string, bool) {
	got := map[string]*string{}
	for _, p := range ps {
		typ, ok := want[p.Name]
		if !ok {
			f.violate(w, "unexpected parameter %q", p.Name)
			return nil, false
		}
		if _, dup := got[p.Name]; dup {
			f.violate(w, "parameter %q twice", p.Name)
			return nil, false
		}
		if p.Direction != "input" || p.Type != typ {
			f.violate(w, "parameter %s: direction %q type %q, want input %s", p.Name, p.Direction, p.Type, typ)
			return nil, false
		}
		got[p.Name] = p.Value
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			f.violate(w, "parameter %s missing", name)
			return nil, false
		}
	}
	return got, true
}

func (f *Fake) queryObject(q *query, mode string) map[string]any {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	o := map[string]any{
		"id": q.id, "integratorId": "5b0d8c5e-2a1f-4d7e-9d2c-3b8f0a6e1c11", "siteId": f.opts.SiteID, "mode": mode,
		"status": q.status, "maxTimeInQueue": 15000, "commandSize": len(q.command.Text), "requestSize": len(q.command.Text),
		"createdAt": q.created.UTC().Format(time.RFC3339Nano), "updatedAt": now,
		"statusTiming": map[string]any{"initialising": map[string]any{"startTime": q.created.UTC().Format(time.RFC3339Nano)}},
	}
	return o
}

func (f *Fake) immediate(w http.ResponseWriter, r *http.Request, body []byte, flt *Fault) {
	q, ok := f.decodeRequest(w, r, body, "immediate")
	if !ok {
		return
	}
	c := q.Command
	switch {
	case c.Text != f.opts.Query:
		f.violate(w, "query text differs from the configured one:\n%s", c.Text)
		return
	case c.ExecutionMode != "reader" || c.Type != "text":
		f.violate(w, "executionMode %q type %q, want reader text", c.ExecutionMode, c.Type)
		return
	}
	vals, ok := f.checkParams(w, c.Parameters, map[string]string{"@from": "DateTime", "@to": "DateTime"})
	if !ok {
		return
	}
	var from, to time.Time
	for name, dst := range map[string]*time.Time{"@from": &from, "@to": &to} {
		v := vals[name]
		if v == nil {
			f.violate(w, "%s is null", name)
			return
		}
		t, err := time.Parse("2006-01-02T15:04:05", *v)
		if err != nil {
			f.violate(w, "%s %q is not a SQL datetime", name, *v)
			return
		}
		*dst = t
	}
	if !to.After(from) {
		f.violate(w, "@to %s is not after @from %s", to, from)
		return
	}
	qq := &query{id: newID(), command: *c, created: time.Now()}
	if flt != nil && flt.QueryStatus != "" {
		qq.status = flt.QueryStatus
		o := f.queryObject(qq, "immediate")
		if flt.ErrorMessage != "" {
			o["errorDetails"] = map[string]any{"errorType": flt.ErrorType, "errorCode": 207, "errorMessage": flt.ErrorMessage}
		}
		status := flt.HTTP
		if status == 0 {
			status = http.StatusOK
		}
		writeJSON(w, status, o)
		return
	}
	f.mu.Lock()
	if f.encoded == nil {
		f.encode()
	}
	data, size, n := f.encoded, f.encodedSize, len(f.rows)
	f.mu.Unlock()
	qq.status = "successful"
	o := f.queryObject(qq, "immediate")
	o["metrics"] = map[string]any{"sqlExecutionDuration": 12}
	o["resultSize"] = size
	o["completedAt"] = time.Now().UTC().Format(time.RFC3339Nano)
	head, _ := json.Marshal(o)
	// The result goes in as written once: a large answer is not encoded
	// again for every request.
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(head[:len(head)-1])
	fmt.Fprintf(w, `,"result":{"rows":%d,"size":%d,"parameters":[],"data":"`, n, size)
	w.Write(data)
	w.Write([]byte(`"}}`))
}

func (f *Fake) async(w http.ResponseWriter, r *http.Request, body []byte, flt *Fault) {
	q, ok := f.decodeRequest(w, r, body, "async")
	if !ok {
		return
	}
	c := q.Command
	switch {
	case c.Text != f.opts.Command:
		f.violate(w, "command text differs from the configured one:\n%s", c.Text)
		return
	case c.ExecutionMode != "nonQuery" || (c.Type != "text" && c.Type != "storedProcedure"):
		f.violate(w, "executionMode %q type %q, want nonQuery", c.ExecutionMode, c.Type)
		return
	}
	vals, ok := f.checkParams(w, c.Parameters, map[string]string{"@resultId": "NVarChar", "@appointmentId": "NVarChar",
		"@patientId": "NVarChar", "@resultJson": "NVarChar", "@pdf": f.opts.PDFType})
	if !ok {
		return
	}
	if vals["@resultId"] == nil || vals["@resultJson"] == nil {
		f.violate(w, "@resultId and @resultJson must not be null")
		return
	}
	if !json.Valid([]byte(*vals["@resultJson"])) {
		f.violate(w, "@resultJson is not JSON")
		return
	}
	if p := vals["@pdf"]; p != nil && f.opts.PDFType == "VarBinary" {
		if _, err := base64.StdEncoding.DecodeString(*p); err != nil {
			f.violate(w, "@pdf is not base64 (VarBinary values are base64)")
			return
		}
	}
	qq := &query{id: newID(), status: "initialising", command: *c, created: time.Now(), fault: flt}
	f.mu.Lock()
	f.queries[qq.id] = qq
	o := f.queryObject(qq, "async")
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, o)
}

func (f *Fake) status(w http.ResponseWriter, id string) {
	f.mu.Lock()
	q := f.queries[id]
	if q == nil {
		f.mu.Unlock()
		writeError(w, http.StatusNotFound, "The server cannot find the requested resource.")
		return
	}
	final := q.status == "successful" || strings.HasSuffix(q.status, "Failed") || strings.HasPrefix(q.status, "initialisationFailed") || q.status == "expiredInQueue"
	if !final {
		switch {
		case f.hold && q.step >= len(f.opts.Steps)-1:
			q.status = f.opts.Steps[len(f.opts.Steps)-1]
		case q.step < len(f.opts.Steps):
			q.status = f.opts.Steps[q.step]
			q.step++
		case q.fault != nil && q.fault.QueryStatus != "":
			q.status = q.fault.QueryStatus
		default:
			q.status = "successful"
			f.written = append(f.written, written(q))
		}
	}
	o := f.queryObject(q, "async")
	if q.status == "successful" {
		o["result"] = map[string]any{"rowsAffected": 1, "size": 0, "parameters": []any{}}
		o["completedAt"] = time.Now().UTC().Format(time.RFC3339Nano)
	}
	if q.status == "executionFailed" && q.fault != nil {
		o["errorDetails"] = map[string]any{"errorType": q.fault.ErrorType, "errorCode": 50000, "errorMessage": q.fault.ErrorMessage}
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, o)
}

func written(q *query) Written {
	w := Written{QueryID: q.id}
	for _, p := range q.command.Parameters {
		v := ""
		if p.Value != nil {
			v = *p.Value
		}
		switch p.Name {
		case "@resultId":
			w.ResultID = v
		case "@appointmentId":
			w.AppointmentID = v
		case "@patientId":
			w.PatientID = v
		case "@resultJson":
			w.ResultJSON = json.RawMessage(v)
		case "@pdf":
			w.PDFType = p.Type
			if p.Value == nil {
				continue
			}
			if p.Type == "VarBinary" {
				w.PDF, _ = base64.StdEncoding.DecodeString(v)
			} else {
				w.PDF = []byte(v)
			}
		}
	}
	return w
}
