// Package leyrfake is a strict stand-in for Leyr's EHR API (one EHR, one
// care unit), for tests on loopback: it checks every header, path, query
// parameter and body a client sends, answers in Leyr's shapes (problem
// JSON for errors) and plays faults (refused credentials, 5xx, slowness,
// malformed answers). Anything it does not expect is answered 400 and
// recorded as a violation, which a test asserts to be none. It declares
// its own wire types, so that tests check the client's shapes.
package leyrfake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Op is an endpoint of the fake.
type Op string

// Endpoints (below /api/emrs/{emr}/care-units/{cu}).
const (
	OpAppointments Op = "appointments" // GET /appointments
	OpPatient      Op = "patient"      // GET /patients/{id}
	OpResource     Op = "resource"     // GET /resources/{id}
	OpServices     Op = "services"     // GET /healthcare-services
	OpNote         Op = "note"         // POST /patients/{id}/medical-notes
	OpDocument     Op = "document"     // POST /patients/{id}/documents
)

// Fault is how the fake answers one endpoint instead of normally.
type Fault struct {
	// HTTP answers this status with a problem (Detail), or Body verbatim.
	HTTP   int
	Detail string
	Body   string
	Delay  time.Duration
	// Times is how many requests get the fault (0: all until cleared).
	Times int
}

// Appointment, Patient, Resource are what the fake serves (Leyr's shapes).
type (
	Appointment struct {
		ID                  string `json:"id"`
		Start               string `json:"start"`
		End                 string `json:"end"`
		PatientID           string `json:"patient_id"`
		ResourceID          string `json:"resource_id"`
		HealthcareServiceID string `json:"healthcare_service_id"`
		Status              string `json:"status"`
		Comment             string `json:"comment"`
	}
	Address struct {
		Street     string `json:"street"`
		PostalCode string `json:"postal_code"`
		City       string `json:"city"`
		Country    string `json:"country"`
	}
	Patient struct {
		ID        string   `json:"id"`
		FirstName string   `json:"first_name"`
		LastName  string   `json:"last_name"`
		BirthDate string   `json:"birth_date"`
		Gender    string   `json:"gender"`
		Address   *Address `json:"address,omitempty"`
	}
	Resource struct {
		ID        string `json:"id"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Title     string `json:"title,omitempty"`
	}
)

// Note is a medical note the EHR received.
type Note struct {
	ID, PatientID, TemplateID, Title, CreatedByID, Content string
}

// Document is a document the EHR received.
type Document struct {
	ID, PatientID, Title, FileName, MimeType, MedicalNoteID string
	Bytes                                                   []byte
}

// Request is one request as received.
type Request struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte
}

// Options configure the fake.
type Options struct {
	EMR, CareUnit       string
	ClientID, Secret    string
	FromParam, ToParam  string // the date-range parameters (default from, to)
	TemplateID          string // the note template that is mapped (default leyr_unstructured)
	DocumentPath        string // default documents
	AllowResourceFilter bool   // accept resource_id parameters
}

// Fake is a running fake.
type Fake struct {
	opts Options
	srv  *httptest.Server

	mu           sync.Mutex
	appointments []Appointment
	raw          []byte // when set, GET /appointments answers these bytes
	patients     map[string]Patient
	resources    map[string]Resource
	faults       map[Op]*Fault
	notes        []Note
	documents    []Document
	requests     []Request
	violations   []string
	calls        map[Op]int
}

// New starts a fake on 127.0.0.1; it stops when the test ends.
func New(t interface{ Cleanup(func()) }, opts Options) *Fake {
	if opts.FromParam == "" {
		opts.FromParam = "from"
	}
	if opts.ToParam == "" {
		opts.ToParam = "to"
	}
	if opts.TemplateID == "" {
		opts.TemplateID = "leyr_unstructured"
	}
	if opts.DocumentPath == "" {
		opts.DocumentPath = "documents"
	}
	f := &Fake{opts: opts, patients: map[string]Patient{}, resources: map[string]Resource{}, faults: map[Op]*Fault{}, calls: map[Op]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// BaseURL is the client's baseURL (…/api).
func (f *Fake) BaseURL() string { return f.srv.URL + "/api" }

// SetAppointments sets the care unit's appointments.
func (f *Fake) SetAppointments(a []Appointment) {
	f.mu.Lock()
	f.appointments, f.raw = a, nil
	f.mu.Unlock()
}

// SetRaw makes GET /appointments answer b (malformed answers).
func (f *Fake) SetRaw(b []byte) {
	f.mu.Lock()
	f.raw = b
	f.mu.Unlock()
}

// AddPatient and AddResource add what the EHR knows.
func (f *Fake) AddPatient(p Patient) {
	f.mu.Lock()
	f.patients[p.ID] = p
	f.mu.Unlock()
}

// AddResource adds a practitioner.
func (f *Fake) AddResource(r Resource) {
	f.mu.Lock()
	f.resources[r.ID] = r
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

// Notes returns the medical notes received.
func (f *Fake) Notes() []Note {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Note(nil), f.notes...)
}

// Documents returns the documents received.
func (f *Fake) Documents() []Document {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Document(nil), f.documents...)
}

// Requests returns every request received.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// Violations lists what clients sent that Leyr would refuse.
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

// problem answers Leyr's problem JSON.
func problem(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	b, _ := json.Marshal(map[string]any{"code": code, "type": "https://docs.leyr.io/errors/" + code,
		"title": http.StatusText(status), "status": status, "detail": detail, "instance": r.URL.Path})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	w.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func (f *Fake) violate(w http.ResponseWriter, r *http.Request, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	f.mu.Lock()
	f.violations = append(f.violations, msg)
	f.mu.Unlock()
	problem(w, r, http.StatusBadRequest, "validation_error", msg)
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	body.ReadFrom(http.MaxBytesReader(nil, r.Body, 256<<20))
	f.mu.Lock()
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body.Bytes()})
	f.mu.Unlock()
	if r.Header.Get("x-leyr-client-id") != f.opts.ClientID || r.Header.Get("x-leyr-client-secret") != f.opts.Secret {
		problem(w, r, http.StatusUnauthorized, "unauthorized", "Invalid client credentials.")
		return
	}
	if r.Header.Get("Authorization") != "" {
		f.violate(w, r, "Leyr takes x-leyr-client-id and x-leyr-client-secret, not Authorization")
		return
	}
	if a := r.Header.Get("Accept"); a != "application/json" {
		f.violate(w, r, "Accept is %q, want application/json", a)
		return
	}
	prefix := "/api/emrs/"
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), prefix)
	if !ok {
		problem(w, r, http.StatusNotFound, "not_found", "No such endpoint.")
		return
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 3 || parts[1] != "care-units" {
		problem(w, r, http.StatusNotFound, "not_found", "No such endpoint.")
		return
	}
	emr, _ := url.PathUnescape(parts[0])
	cu, _ := url.PathUnescape(parts[2])
	if emr != f.opts.EMR {
		problem(w, r, http.StatusNotFound, "emr_not_found", fmt.Sprintf("EMR %q is not available to this client.", emr))
		return
	}
	if cu != f.opts.CareUnit {
		problem(w, r, http.StatusNotFound, "care_unit_not_found", fmt.Sprintf("The care unit %s was not found.", cu))
		return
	}
	seg := parts[3:]
	var op Op
	var id string
	switch {
	case len(seg) == 1 && seg[0] == "appointments" && r.Method == http.MethodGet:
		op = OpAppointments
	case len(seg) == 1 && seg[0] == "healthcare-services" && r.Method == http.MethodGet:
		op = OpServices
	case len(seg) == 2 && seg[0] == "patients" && r.Method == http.MethodGet:
		op = OpPatient
	case len(seg) == 2 && seg[0] == "resources" && r.Method == http.MethodGet:
		op = OpResource
	case len(seg) == 3 && seg[0] == "patients" && seg[2] == "medical-notes" && r.Method == http.MethodPost:
		op = OpNote
	case len(seg) == 3 && seg[0] == "patients" && seg[2] == strings.Trim(f.opts.DocumentPath, "/") && r.Method == http.MethodPost:
		op = OpDocument
	default:
		problem(w, r, http.StatusNotFound, "not_found", "No such endpoint.")
		return
	}
	if len(seg) >= 2 {
		id, _ = url.PathUnescape(seg[1])
	}
	if op != OpAppointments && len(r.URL.Query()) > 0 {
		f.violate(w, r, "unexpected query %q", r.URL.RawQuery)
		return
	}
	if r.Method == http.MethodPost && r.Header.Get("Content-Type") != "application/json" {
		f.violate(w, r, "Content-Type is %q, want application/json", r.Header.Get("Content-Type"))
		return
	}
	f.mu.Lock()
	f.calls[op]++
	flt := f.faults[op]
	if flt != nil && flt.Times > 0 {
		flt.Times--
		if flt.Times == 0 {
			delete(f.faults, op)
		}
	}
	f.mu.Unlock()
	if flt != nil {
		if flt.Delay > 0 {
			select {
			case <-time.After(flt.Delay):
			case <-r.Context().Done():
				return
			}
		}
		if flt.Body != "" {
			status := flt.HTTP
			if status == 0 {
				status = http.StatusOK
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write([]byte(flt.Body))
			return
		}
		if flt.HTTP != 0 {
			problem(w, r, flt.HTTP, strings.ToLower(strings.ReplaceAll(http.StatusText(flt.HTTP), " ", "_")), flt.Detail)
			return
		}
	}
	switch op {
	case OpAppointments:
		f.listAppointments(w, r)
	case OpServices:
		writeJSON(w, http.StatusOK, []map[string]string{{"id": "hs-ecg", "name": "ECG"}})
	case OpPatient:
		f.mu.Lock()
		p, ok := f.patients[id]
		f.mu.Unlock()
		if !ok {
			problem(w, r, http.StatusNotFound, "patient_not_found", fmt.Sprintf("Patient %s was not found.", id))
			return
		}
		writeJSON(w, http.StatusOK, p)
	case OpResource:
		f.mu.Lock()
		res, ok := f.resources[id]
		f.mu.Unlock()
		if !ok {
			problem(w, r, http.StatusNotFound, "resource_not_found", fmt.Sprintf("Resource %s was not found.", id))
			return
		}
		writeJSON(w, http.StatusOK, res)
	case OpNote:
		f.note(w, r, id, body.Bytes())
	case OpDocument:
		f.document(w, r, id, body.Bytes())
	}
}

func (f *Fake) listAppointments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k, vs := range q {
		switch {
		case k == f.opts.FromParam || k == f.opts.ToParam:
			if len(vs) != 1 {
				f.violate(w, r, "%s given %d times", k, len(vs))
				return
			}
		case k == "resource_id" && f.opts.AllowResourceFilter:
		default:
			f.violate(w, r, "unexpected query parameter %q", k)
			return
		}
	}
	from, err1 := time.Parse(time.RFC3339, q.Get(f.opts.FromParam))
	to, err2 := time.Parse(time.RFC3339, q.Get(f.opts.ToParam))
	if err1 != nil || err2 != nil {
		f.violate(w, r, "%s=%q %s=%q: not RFC 3339 times", f.opts.FromParam, q.Get(f.opts.FromParam), f.opts.ToParam, q.Get(f.opts.ToParam))
		return
	}
	if !to.After(from) {
		f.violate(w, r, "the range ends before it starts")
		return
	}
	f.mu.Lock()
	raw, list := f.raw, f.appointments
	f.mu.Unlock()
	if raw != nil {
		w.Header().Set("Content-Type", "application/json")
		w.Write(raw)
		return
	}
	if list == nil {
		list = []Appointment{}
	}
	writeJSON(w, http.StatusOK, list)
}

func strict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (f *Fake) note(w http.ResponseWriter, r *http.Request, pid string, body []byte) {
	var n struct {
		TemplateID  string `json:"template_id"`
		Title       string `json:"title"`
		CreatedByID string `json:"created_by_id"`
		Content     *struct {
			Unstructured string `json:"unstructured"`
		} `json:"content"`
	}
	if err := strict(body, &n); err != nil {
		f.violate(w, r, "medical note: %v", err)
		return
	}
	f.mu.Lock()
	_, known := f.patients[pid]
	_, author := f.resources[n.CreatedByID]
	f.mu.Unlock()
	switch {
	case !known:
		problem(w, r, http.StatusNotFound, "patient_not_found", fmt.Sprintf("Patient %s was not found.", pid))
		return
	case n.TemplateID != f.opts.TemplateID:
		problem(w, r, http.StatusUnprocessableEntity, "template_not_mapped", fmt.Sprintf("Template %q has no mapping for this EMR.", n.TemplateID))
		return
	case !author:
		problem(w, r, http.StatusUnprocessableEntity, "invalid_created_by", fmt.Sprintf("created_by_id %q is not a resource of the care unit.", n.CreatedByID))
		return
	case strings.TrimSpace(n.Title) == "" || n.Content == nil || strings.TrimSpace(n.Content.Unstructured) == "":
		f.violate(w, r, "medical note without title or content")
		return
	}
	f.mu.Lock()
	id := fmt.Sprintf("note-%d", len(f.notes)+1)
	f.notes = append(f.notes, Note{ID: id, PatientID: pid, TemplateID: n.TemplateID, Title: n.Title, CreatedByID: n.CreatedByID, Content: n.Content.Unstructured})
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "patient_id": pid, "signed": false})
}

func (f *Fake) document(w http.ResponseWriter, r *http.Request, pid string, body []byte) {
	var d struct {
		Title         string `json:"title"`
		FileName      string `json:"file_name"`
		MimeType      string `json:"mime_type"`
		Content       string `json:"content"`
		MedicalNoteID string `json:"medical_note_id"`
	}
	if err := strict(body, &d); err != nil {
		f.violate(w, r, "document: %v", err)
		return
	}
	b, err := base64.StdEncoding.DecodeString(d.Content)
	switch {
	case err != nil:
		f.violate(w, r, "document content is not base64")
		return
	case d.MimeType != "application/pdf" || d.FileName == "" || d.Title == "":
		f.violate(w, r, "document needs title, file_name and mime_type application/pdf")
		return
	}
	f.mu.Lock()
	_, known := f.patients[pid]
	noteOK := d.MedicalNoteID == ""
	for _, n := range f.notes {
		if n.ID == d.MedicalNoteID && n.PatientID == pid {
			noteOK = true
		}
	}
	f.mu.Unlock()
	if !known {
		problem(w, r, http.StatusNotFound, "patient_not_found", fmt.Sprintf("Patient %s was not found.", pid))
		return
	}
	if !noteOK {
		problem(w, r, http.StatusUnprocessableEntity, "note_not_found", fmt.Sprintf("Medical note %s is not the patient's.", d.MedicalNoteID))
		return
	}
	f.mu.Lock()
	id := fmt.Sprintf("doc-%d", len(f.documents)+1)
	f.documents = append(f.documents, Document{ID: id, PatientID: pid, Title: d.Title, FileName: d.FileName, MimeType: d.MimeType,
		MedicalNoteID: d.MedicalNoteID, Bytes: b})
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"id": id})
}
