package pull

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/config"
)

func TestParseTime(t *testing.T) {
	syd, err := time.LoadLocation("Australia/Sydney")
	if err != nil {
		t.Skip("no time zone database on this machine")
	}
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"2026-03-02T09:30:00", time.Date(2026, 3, 2, 9, 30, 0, 0, syd), false},
		{"2026-03-02T09:30:00.123", time.Date(2026, 3, 2, 9, 30, 0, 123e6, syd), false},
		{"2026-03-02 09:30:00", time.Date(2026, 3, 2, 9, 30, 0, 0, syd), false},
		{"2026-03-02T09:30", time.Date(2026, 3, 2, 9, 30, 0, 0, syd), false},
		{"2026-03-02", time.Date(2026, 3, 2, 0, 0, 0, 0, syd), false},
		{"2026-03-02T08:30:00Z", time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC), false},
		{"2026-03-02T09:30:00+01:00", time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC), false},
		{" 2026-03-02 ", time.Date(2026, 3, 2, 0, 0, 0, 0, syd), false},
		{"2026-02-30T00:00:00", time.Time{}, true},
		{"2026-13-01", time.Time{}, true},
		{"02/03/2026", time.Time{}, true},
		{"", time.Time{}, true},
	}
	for _, tc := range tests {
		got, err := ParseTime(tc.in, syd)
		if (err != nil) != tc.err || (!tc.err && !got.Equal(tc.want)) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1961-07-14", "1961-07-14"},
		{"1961-07-14T00:00:00", "1961-07-14"},
		{"1961-07-14 00:00:00.000", "1961-07-14"},
		{"19610714", "1961-07-14"},
		{"1961-02-29", ""},
		{"1961-07-14X", ""},
		{"14.07.1961", ""},
		{"", ""},
	}
	for _, tc := range tests {
		got, err := ParseDate(tc.in)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("ParseDate(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-03-02T09:30:00", "2026-03-02", "2026-03-02T08:30:00Z", "19610714", "2026-02-30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if tm, err := ParseTime(s, time.UTC); err == nil && tm.IsZero() {
			t.Fatalf("ParseTime(%q): zero time without an error", s)
		}
		if d, err := ParseDate(s); err == nil {
			if _, err := time.Parse("2006-01-02", d); err != nil {
				t.Fatalf("ParseDate(%q) = %q, not a date", s, d)
			}
		}
	})
}

func TestRoute(t *testing.T) {
	r := Routing{
		Mapping:            config.Mapping{GroupMap: map[string]string{"ECG": "cardio"}, MeasurementMap: map[string]string{"ECG": "ECG", "Vascular check": "ABI"}},
		ByProvider:         config.Mapping{GroupMap: map[string]string{"Dr Kos": "vascular"}, MeasurementMap: map[string]string{"Dr Kos": "TBI"}},
		DefaultMeasurement: "ECG",
	}
	tests := []struct {
		typ, provider, group, meas string
		ok, only                   bool
	}{
		{"ECG", "Dr Kos", "cardio", "ECG", true, false},              // the type wins
		{"Vascular check", "Dr Kos", "vascular", "ABI", true, false}, // type for the measurement, provider for the group
		{" vascular CHECK ", "", "", "ABI", true, false},             // case and spaces forgiven
		{"Consult", "Dr Kos", "vascular", "TBI", true, false},
		{"Consult", "Dr Novak", "", "ECG", true, false}, // default group, default measurement
		{"Consult", "Dr Novak", "", "", false, true},    // onlyMapped leaves it out
		{"ECG", "", "cardio", "ECG", true, true},
	}
	for _, tc := range tests {
		r.OnlyMapped = tc.only
		g, m, ok := r.Route(tc.typ, tc.provider)
		if g != tc.group || m != tc.meas || ok != tc.ok {
			t.Errorf("Route(%q, %q, only %v) = %q, %q, %v; want %q, %q, %v", tc.typ, tc.provider, tc.only, g, m, ok, tc.group, tc.meas, tc.ok)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	s := Settings{TimeZone: "Mars/Olympus", MinInterval: config.Duration(time.Millisecond),
		Routing: Routing{ByProvider: config.Mapping{GroupMap: map[string]string{"Dr Kos": "nowhere"}}}}
	s.ApplyDefaults()
	ck := config.NewChecker()
	s.Validate(ck.In("halo"))
	got := map[string]bool{}
	for _, p := range ck.Problems() {
		got[p.Key] = true
	}
	for _, k := range []string{"halo.timeZone", "halo.minInterval", "halo.byProvider.groupMap[Dr Kos]"} {
		if !got[k] {
			t.Errorf("no problem reported for %s (got %v)", k, ck.Problems())
		}
	}
	ok := Settings{}
	ok.ApplyDefaults()
	ck = config.NewChecker()
	ok.Validate(ck)
	if err := ck.Err(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestHTTPStatus(t *testing.T) {
	tests := []struct {
		status int
		kind   Kind
		code   string
	}{
		{401, KindAuth, CodeAuthRefused}, {403, KindAuth, CodeAuthRefused}, {400, KindRefused, CodeRefused},
		{404, KindRefused, CodeRefused}, {408, KindTimeout, CodeTimeout}, {413, KindRefused, CodeTooLarge},
		{429, KindRateLimited, CodeRateLimited}, {500, KindUnavailable, CodeServerError}, {503, KindUnavailable, CodeServerError},
	}
	for _, tc := range tests {
		e := HTTPStatus(tc.status, http.Header{}, "the key", errors.New("x"))
		if e.Kind != tc.kind || e.Code != tc.code {
			t.Errorf("%d: %s %s, want %s %s", tc.status, e.Kind, e.Code, tc.kind, tc.code)
		}
		if tc.kind == KindAuth && e.Args["credential"] != "the key" {
			t.Errorf("%d: credential not named: %v", tc.status, e.Args)
		}
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if d := RetryAfter(http.Header{"Retry-After": {now.Add(time.Minute).Format(http.TimeFormat)}}, now); d != time.Minute {
		t.Errorf("Retry-After as a date: %v", d)
	}
	if d := RetryAfter(http.Header{"Retry-After": {"soon"}}, now); d != 0 {
		t.Errorf("unreadable Retry-After: %v", d)
	}
}
