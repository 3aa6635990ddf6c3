package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// with returns sample() changed by fn.
func with(fn func(m map[string]any)) map[string]any {
	m := sample()
	fn(m)
	return m
}

func patientOf(m map[string]any) map[string]any { return m["patient"].(map[string]any) }

// TestBadAppointments: every kind of bad body is refused with its own
// status, problem type and the field at fault, and nothing is stored.
func TestBadAppointments(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token("")
	tomorrow := e.clk.now().UTC().Add(49 * time.Hour).Format("2006-01-02")
	tests := []struct {
		name   string
		id     string
		body   any
		status int
		slug   string
		field  string
	}{
		{"malformed JSON", "A1", `{"patient": {"id": "1"`, 400, "malformed-json", ""},
		{"not JSON at all", "A1", `patient=1`, 400, "malformed-json", ""},
		{"two JSON values", "A1", `{"measurement":"ECG","patient":{"id":"1"}} {}`, 400, "malformed-json", ""},
		{"empty body", "A1", ``, 400, "malformed-json", ""},
		{"an array", "A1", `[1,2]`, 400, "wrong-type", ""},
		{"null", "A1", `null`, 400, "wrong-type", ""},
		{"unknown top-level field", "A1", with(func(m map[string]any) { m["priority"] = "urgent" }), 400, "unknown-field", "priority"},
		{"unknown patient field", "A1", with(func(m map[string]any) { patientOf(m)["birthdate"] = "1960-01-01" }), 400, "unknown-field", "patient.birthdate"},
		{"unknown visit field", "A1", with(func(m map[string]any) {
			m["visitIds"] = []any{map[string]any{"value": "V1"}, map[string]any{"value": "V2", "type": "VN"}}
		}), 400, "unknown-field", "visitIds[1].type"},
		{"patient is a string", "A1", with(func(m map[string]any) { m["patient"] = "12345" }), 400, "wrong-type", "patient"},
		{"birth date a number", "A1", with(func(m map[string]any) { patientOf(m)["birthDate"] = 19600315 }), 400, "wrong-type", "patient.birthDate"},
		{"a free field that is no string", "A1", with(func(m map[string]any) { m["fields"] = map[string]any{"room": 3} }), 400, "wrong-type", "fields.room"},
		{"missing patient ID", "A1", with(func(m map[string]any) { delete(patientOf(m), "id") }), 422, "invalid-field", "patient.id"},
		{"blank patient ID", "A1", with(func(m map[string]any) { patientOf(m)["id"] = "   " }), 422, "invalid-field", "patient.id"},
		{"no patient", "A1", with(func(m map[string]any) { delete(m, "patient") }), 422, "invalid-field", "patient.id"},
		{"birth date in the future", "A1", with(func(m map[string]any) { patientOf(m)["birthDate"] = tomorrow }), 422, "invalid-field", "patient.birthDate"},
		{"birth date not a date", "A1", with(func(m map[string]any) { patientOf(m)["birthDate"] = "15.03.1960" }), 422, "invalid-field", "patient.birthDate"},
		{"birth date of 30 February", "A1", with(func(m map[string]any) { patientOf(m)["birthDate"] = "1960-02-30" }), 422, "invalid-field", "patient.birthDate"},
		{"gender unknown word", "A1", with(func(m map[string]any) { patientOf(m)["gender"] = "w" }), 422, "invalid-field", "patient.gender"},
		{"no measurement", "A1", with(func(m map[string]any) { delete(m, "measurement") }), 422, "invalid-field", "measurement"},
		{"unknown measurement", "A1", with(func(m map[string]any) { m["measurement"] = "MRI" }), 422, "invalid-field", "measurement"},
		{"unknown tablet group", "A1", with(func(m map[string]any) { m["tabletGroup"] = "radiology" }), 422, "invalid-field", "tabletGroup"},
		{"scheduled without offset", "A1", with(func(m map[string]any) { m["scheduledAt"] = "2026-03-02T09:30:00" }), 422, "invalid-field", "scheduledAt"},
		{"control character in a name", "A1", with(func(m map[string]any) { patientOf(m)["lastName"] = "No\u0000vak" }), 422, "invalid-field", "patient.lastName"},
		{"name too long", "A1", with(func(m map[string]any) { patientOf(m)["lastName"] = strings.Repeat("x", 101) }), 422, "invalid-field", "patient.lastName"},
		{"visit ID without value", "A1", with(func(m map[string]any) { m["visitIds"] = []any{map[string]any{"system": "x"}} }), 422, "invalid-field", "visitIds[0].value"},
		{"bad free field name", "A1", with(func(m map[string]any) { m["fields"] = map[string]any{"a b": "x"} }), 422, "invalid-field", "fields.a b"},
		{"bad appointment ID", "bad id!", sample(), 400, "invalid-external-id", "externalId"},
		{"appointment ID too long", strings.Repeat("a", 129), sample(), 400, "invalid-external-id", "externalId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := e.put(tok, tc.id, tc.body)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %s", a.status, tc.status, a.body)
			}
			p := a.problem(t)
			if p.Type != "https://mesi.example/mconnect/problems/"+tc.slug || p.Field != tc.field || p.Detail == "" {
				t.Errorf("problem %+v, want type %s field %q", p, tc.slug, tc.field)
			}
		})
	}
	if n := e.sink.n.Load(); n != 0 {
		t.Errorf("%d refused appointments reached the store", n)
	}
}

// TestLenientGender: a one-letter gender is read and the answer says so.
func TestLenientGender(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token("")
	a := e.put(tok, "A1", with(func(m map[string]any) { patientOf(m)["gender"] = "F"; patientOf(m)["id"] = "  12345 " }))
	if a.status != http.StatusCreated {
		t.Fatalf("%d %s", a.status, a.body)
	}
	st := a.state(t)
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], `"F" read as "female"`) {
		t.Errorf("warnings: %q", st.Warnings)
	}
	var back Appointment
	if err := json.Unmarshal(st.Appointment, &back); err != nil || back.Patient.Gender != "female" || back.Patient.ID != "12345" {
		t.Errorf("accepted appointment: %s", st.Appointment)
	}
}

// TestBodyLimits: a 10 MB body is refused before it is read (by its
// Content-Length) and while it is read (chunked), and a wrong media type
// is refused.
func TestBodyLimits(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token("")
	big := bytes.Repeat([]byte("x"), 10<<20)
	body := append(append([]byte(`{"measurement":"ECG","patient":{"id":"1"},"fields":{"x":"`), big...), '"', '}', '}')
	a := e.put(tok, "BIG", body)
	if a.status != http.StatusRequestEntityTooLarge || a.problem(t).Title != "Body too large" {
		t.Errorf("10 MB with Content-Length: %d %s", a.status, a.body)
	}
	h := bearer(tok)
	h["Content-Type"] = "application/json"
	chunked := io.MultiReader(bytes.NewReader(body)) // no length known: sent chunked
	if a := e.do(http.MethodPut, "/appointments/BIG", chunked, h); a.status != http.StatusRequestEntityTooLarge {
		t.Errorf("10 MB chunked: %d %s", a.status, a.body)
	}
	h["Content-Type"] = "text/plain"
	if a := e.do(http.MethodPut, "/appointments/T", strings.NewReader(`{}`), h); a.status != http.StatusUnsupportedMediaType || a.problem(t).Field != "Content-Type" {
		t.Errorf("text/plain: %d %s", a.status, a.body)
	}
	h["Content-Type"] = "application/json; charset=utf-8"
	b, _ := json.Marshal(sample())
	if a := e.do(http.MethodPut, "/appointments/T", bytes.NewReader(b), h); a.status != http.StatusCreated {
		t.Errorf("JSON with a charset: %d %s", a.status, a.body)
	}
	if n := e.sink.n.Load(); n != 1 {
		t.Errorf("%d orders stored, want 1", n)
	}
}

// TestTestdataAppointments: the examples of docs/INTEGRATION-API.md (in
// testdata) are accepted as they are.
func TestTestdataAppointments(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token("")
	files, _ := filepath.Glob(filepath.Join("testdata", "appointment-*.json"))
	if len(files) == 0 {
		t.Fatal("no testdata/appointment-*.json")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "appointment-"), ".json")
		if a := e.put(tok, id, b); a.status != http.StatusCreated {
			t.Errorf("%s: %d %s", f, a.status, a.body)
		}
	}
}
