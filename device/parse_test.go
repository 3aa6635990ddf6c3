package device

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func schemaServer(t testing.TB) *Server {
	t.Helper()
	sch, err := compileResultSchema()
	if err != nil {
		t.Fatal(err)
	}
	return &Server{schema: sch}
}

func TestParseResultFiles(t *testing.T) {
	s := schemaServer(t)
	tests := []struct {
		file   string
		status int    // 0: valid
		field  string // expected problem field
	}{
		{"ecg.json", 0, ""},
		{"abi-unsolicited.json", 0, ""},
		{"no-patient.json", 422, "result"},
		{"bad-birthdate.json", 422, "result.patient.birthDate"},
		{"value-null.json", 422, "result.observations.0.value"},
		{"lower-case-measurement.json", 422, "result.measurement"},
		{"interpretation-lines.json", 0, ""},
		{"code-crlf.json", 422, "result.observations.0.code"},
		{"name-lf.json", 422, "result.observations.0.name"},
		{"value-cr.json", 422, "result.observations.1.value"},
		{"unit-lf.json", 422, "result.observations.0.unit"},
		{"flag-cr.json", 422, "result.observations.0.flag"},
		{"operator-lf.json", 422, "result.operator"},
		{"patient-name-lf.json", 422, "result.patient.name.family"},
		{"interpretation-nul.json", 422, "result.interpretation"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "results", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			r, p := s.parseResult(data)
			if tc.status == 0 {
				if p != nil {
					t.Fatalf("refused: %+v", p)
				}
				if r.Measurement == "" || r.PerformedAt.IsZero() || r.PerformedAt.Location() != time.UTC {
					t.Errorf("parsed %+v", r)
				}
				return
			}
			if p == nil || p.Status != tc.status || p.Field != tc.field {
				t.Fatalf("problem %+v, want %d naming %q", p, tc.status, tc.field)
			}
		})
	}
}

func TestParseWait(t *testing.T) {
	max := time.Minute
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"", 0, false}, {"25s", 25 * time.Second, false}, {"25", 25 * time.Second, false},
		{"10m", time.Minute, false}, {"1500ms", 1500 * time.Millisecond, false},
		{"-1s", 0, true}, {"-3", 0, true}, {"soon", 0, true}, {"99999999", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseWait(tc.in, max)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseWait(%q) = %s, %v; want %s, err %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestETagMatches(t *testing.T) {
	tag := `"abc"`
	for in, want := range map[string]bool{
		`"abc"`: true, `*`: true, `"x", "abc"`: true, `W/"abc"`: false, `"abcd"`: false, ``: false,
	} {
		if got := etagMatches(in, tag); got != want {
			t.Errorf("etagMatches(%q) = %v", in, got)
		}
	}
}

func FuzzParseResult(f *testing.F) {
	ents, _ := os.ReadDir(filepath.Join("testdata", "results"))
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join("testdata", "results", e.Name()))
		f.Add(b)
	}
	f.Add([]byte(`{`))
	f.Add([]byte(`[]`))
	s := schemaServer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, p := s.parseResult(data)
		if p == nil {
			if r.Measurement == "" || r.PerformedAt.IsZero() {
				t.Fatalf("accepted a result without measurement or time: %q", data)
			}
			if r.OrderID == "" && r.Patient == nil {
				t.Fatalf("accepted an unsolicited result without patient: %q", data)
			}
			for _, o := range r.Observations {
				if strings.ContainsAny(o.Code+o.Name+o.Value+o.Unit+o.Low+o.High+o.Flag+r.Operator, "\r\n") {
					t.Fatalf("accepted a line break in a one-line field: %q", data)
				}
			}
			return
		}
		if p.Status < 400 || p.Status > 499 || p.Detail == "" {
			t.Fatalf("problem %+v for %q", p, data)
		}
	})
}

func FuzzParseWait(f *testing.F) {
	for _, s := range []string{"25s", "25", "-1", "1h", "0", "1e9s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseWait(s, time.Minute)
		if err == nil && (d < 0 || d > time.Minute) {
			t.Fatalf("ParseWait(%q) = %s", s, d)
		}
	})
}

func FuzzIdempotencyKey(f *testing.F) {
	for _, s := range []string{"k", "a b", strings.Repeat("x", 201), "üñí"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p := checkIdempotencyKey(s); p == nil {
			if s == "" || len(s) > MaxIdempotencyKey || strings.ContainsAny(s, " \t\r\n") {
				t.Fatalf("accepted key %q", s)
			}
		}
	})
}
