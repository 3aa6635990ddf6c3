package leyr

import (
	"strings"
	"testing"
	"time"
)

func TestDecodeAppointments(t *testing.T) {
	tests := []struct {
		name, in string
		ids      []string
		err      bool
	}{
		{"bare array", `[{"id":"a1","start":"2026-03-02T09:00:00Z","patient_id":"p"},{"id":"a2"}]`, []string{"a1", "a2"}, false},
		{"under data", `{"meta":{"n":1},"data":[{"id":"a1"}]}`, []string{"a1"}, false},
		{"an object of the wrong shape is noted by its id", `[{"id":7,"start":3}]`, []string{"7"}, false},
		{"empty", `[]`, nil, false},
		{"not an array", `{"items":[]}`, nil, true},
		{"cut off", `[{"id":"a1"},`, []string{"a1"}, true},
		{"a string", `"x"`, nil, true},
	}
	for _, tc := range tests {
		var ids []string
		err := decodeAppointments(strings.NewReader(tc.in), func(_ int, ap Appointment) { ids = append(ids, ap.ID) })
		if (err != nil) != tc.err || strings.Join(ids, ",") != strings.Join(tc.ids, ",") {
			t.Errorf("%s: ids %v, err %v", tc.name, ids, err)
		}
	}
}

func TestBirthFromPersonalNumber(t *testing.T) {
	for in, want := range map[string]string{"191212121212": "1912-12-12", "19121212-1212": "1912-12-12", "191212721212": "", "1212121212": ""} {
		if got := birthFromPersonalNumber(in); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

func FuzzDecodeAppointments(f *testing.F) {
	f.Add(`[{"id":"a1","start":"2026-03-02T09:00:00Z","patient_id":"p"}]`)
	f.Add(`{"data":[{"id":1}]}`)
	f.Add(`[{"id":"a","start":"2026-02-30"}]`)
	f.Fuzz(func(t *testing.T, in string) {
		a := &appointments{loc: time.UTC}
		_ = decodeAppointments(strings.NewReader(in), func(n int, ap Appointment) {
			if n < 1 {
				t.Fatalf("row %d", n)
			}
			if r, problem := a.read(n, ap); problem == "" && (r.ap.ID == "" || r.ap.PatientID == "" || r.start.IsZero()) {
				t.Fatalf("row read without ID, patient or start: %+v", r)
			}
		})
	})
}
