package halo

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/pull"
)

func testMapper(t testing.TB) (*mapper, *time.Location) {
	loc, err := time.LoadLocation("Australia/Sydney")
	if err != nil {
		t.Skip("no time zone database on this machine")
	}
	cfg := Config{}
	cfg.ApplyDefaults()
	a := &appointments{c: &client{site: "site-1"}, conn: "bestpractice", cfg: cfg.Appointments, loc: loc,
		routing: pull.Routing{Mapping: config.Mapping{GroupMap: map[string]string{"ECG": "cardio"}, MeasurementMap: map[string]string{"ECG": "ECG"}},
			DefaultMeasurement: "ABI"}}
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, loc)
	return a.mapper(pull.Window{From: day.Add(7 * time.Hour), To: day.Add(19 * time.Hour)}), loc
}

func data(t testing.TB, rows string) json.RawMessage {
	b, _ := json.Marshal(base64.StdEncoding.EncodeToString([]byte(rows)))
	return b
}

func TestRows(t *testing.T) {
	m, loc := testMapper(t)
	rows := `[
	 {"AppointmentID": 101, "InternalID": 7, "Firstname": "Ana", "Surname": "Novak", "DOB": "1961-07-14T00:00:00", "Sex": "Female",
	  "Status": "Waiting", "AppointmentDate": "2026-03-02T00:00:00", "AppointmentTime": 34200, "Provider": "Dr Kos", "AppointmentType": "ECG", "Urgent": 0},
	 {"AppointmentID": 102, "InternalID": 8, "Firstname": "Ivan", "Surname": "Horvat", "DOB": "1955-02-30T00:00:00", "Sex": "M",
	  "Status": "Cancelled", "AppointmentDate": "2026-03-02T00:00:00", "AppointmentTime": "10:15", "AppointmentType": "Long"},
	 {"AppointmentID": null, "InternalID": 9, "AppointmentDate": "2026-03-02T00:00:00", "AppointmentTime": 36000},
	 {"AppointmentID": 104, "InternalID": 9, "AppointmentDate": "2026-02-30T00:00:00", "AppointmentTime": 36000},
	 {"AppointmentID": 105, "InternalID": "", "AppointmentDate": "2026-03-02T00:00:00", "AppointmentTime": 36000},
	 {"AppointmentID": 106, "InternalID": 9, "AppointmentDate": "2026-03-02T00:00:00", "AppointmentTime": 90000},
	 {"AppointmentID": 107, "InternalID": 9, "AppointmentDate": "2026-03-02T00:00:00", "AppointmentTime": 3600},
	 {"AppointmentID": 101, "InternalID": 7, "AppointmentDate": "2026-03-02T00:00:00", "AppointmentTime": 34200}
	]`
	if err := decodeRows(data(t, rows), m.row); err != nil {
		t.Fatal(err)
	}
	b := m.batch
	if len(b.Orders) != 2 {
		t.Fatalf("%d orders, want 101 and 102 (107 is outside the window): %+v", len(b.Orders), b.Orders)
	}
	o := b.Orders[0]
	want := time.Date(2026, 3, 2, 9, 30, 0, 0, loc).UTC()
	if o.PlacerNumber != "101" || o.Patient.ID != "7" || o.Patient.Name.Given != "Ana" || o.Patient.Name.Family != "Novak" ||
		o.Patient.BirthDate != "1961-07-14" || o.Patient.Sex != domain.SexFemale || o.Patient.SexCode != "Female" ||
		o.OrderStatus != "Waiting" || !o.ScheduledAt.Equal(want) || o.Group != "cardio" || o.Measurement != "ECG" ||
		o.ServiceCode != "ECG" || o.OrderingProvider.ID != "Dr Kos" || o.Visit.Number.Value != "101" || o.Action != domain.ActionNew ||
		o.Connection != "bestpractice" {
		t.Fatalf("order 101: %+v", o)
	}
	for _, f := range []struct{ key, value, text string }{
		{"AppointmentID", "101", ""}, {"Status", "Waiting", ""}, {"AppointmentTime", "34200", "09:30"},
		{"DOB", "1961-07-14T00:00:00", "1961-07-14"}, {"Urgent", "0", ""},
	} {
		found := false
		for _, g := range o.Fields {
			if g.Key == f.key && g.Value == f.value && g.Text == f.text {
				found = true
			}
		}
		if !found {
			t.Errorf("field %+v missing in %+v", f, o.Fields)
		}
	}
	c := b.Orders[1]
	if c.Action != domain.ActionCancel || c.Patient.BirthDate != "" || c.Measurement != "ABI" || c.Group != "" ||
		!c.ScheduledAt.Equal(time.Date(2026, 3, 2, 10, 15, 0, 0, loc).UTC()) {
		t.Fatalf("order 102: %+v", c)
	}
	wantNotes := []string{
		`row 2 (appointment 102): DOB "1955-02-30T00:00:00" is not a date; read without a date of birth`,
		`row 3: no appointment ID (column AppointmentID is empty); skipped`,
		`row 4 (appointment 104): AppointmentDate "2026-02-30T00:00:00" is not a date; skipped`,
		`row 5 (appointment 105): no patient ID (column InternalID is empty); skipped`,
		`row 6 (appointment 106): AppointmentTime "90000" is not a time of day: seconds after midnight must be a whole number 0..86399; skipped`,
		`row 8 (appointment 101): the appointment ID appears twice; the first row is kept; skipped`,
	}
	if len(b.Notes) != len(wantNotes) {
		t.Fatalf("notes %v", b.Notes)
	}
	for i, n := range b.Notes {
		if n.String() != wantNotes[i] {
			t.Errorf("note %d: %s\nwant      %s", i, n, wantNotes[i])
		}
	}
}

func TestDecodeRowsRefusesBadData(t *testing.T) {
	for name, d := range map[string]json.RawMessage{
		"not a string":     json.RawMessage(`[1,2]`),
		"not base64":       json.RawMessage(`"%%%"`),
		"not an array":     data(t, `{"a":1}`),
		"rows not objects": data(t, `[1]`),
		"cut off":          data(t, `[{"a":1},`),
		"trailing":         data(t, `[] []`),
	} {
		if err := decodeRows(d, func(int, map[string]json.RawMessage) {}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	var n int
	escaped, _ := json.Marshal(base64.StdEncoding.EncodeToString([]byte(`[{"a":"???"}]`))) // base64 with "/"
	escaped = []byte(strings.ReplaceAll(string(escaped), "/", `\/`))
	if err := decodeRows(escaped, func(int, map[string]json.RawMessage) { n++ }); err != nil || n != 1 {
		t.Fatalf("escaped slash: %d rows, %v", n, err)
	}
}

func TestSexOf(t *testing.T) {
	for in, want := range map[string]domain.Sex{"M": domain.SexMale, "male": domain.SexMale, "2": domain.SexFemale,
		"Female": domain.SexFemale, "Intersex": domain.SexOther, "Not stated": domain.SexUndiff, "?": domain.SexUnknown} {
		if got := sexOf(in); got != want {
			t.Errorf("sexOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzRows(f *testing.F) {
	f.Add([]byte(`[{"AppointmentID":1,"InternalID":2,"AppointmentDate":"2026-03-02T00:00:00","AppointmentTime":36000}]`))
	f.Add([]byte(`[{"AppointmentID":"x","InternalID":null,"AppointmentDate":"2026-02-30","AppointmentTime":"25:00"}]`))
	f.Add([]byte(`[{"AppointmentID":[1],"DOB":{"a":1}}]`))
	f.Fuzz(func(t *testing.T, rows []byte) {
		m, _ := testMapper(t)
		_ = decodeRows(data(t, string(rows)), m.row)
		for _, o := range m.batch.Orders {
			if o.PlacerNumber == "" || o.Patient.ID == "" || o.ScheduledAt.IsZero() {
				t.Fatalf("order without ID, patient or time: %+v", o)
			}
		}
	})
}
