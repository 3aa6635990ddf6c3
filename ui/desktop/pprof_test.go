package desktop

import (
	"strings"
	"testing"
	"time"
)

func TestPprofAddr(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"6060", "127.0.0.1:6060", ""},
		{"127.0.0.1:6060", "127.0.0.1:6060", ""},
		{"localhost:0", "127.0.0.1:0", ""},
		{"[::1]:6060", "[::1]:6060", ""},
		{"0.0.0.0:6060", "", "loopback address only"},
		{":6060", "", "loopback address only"},
		{"192.168.1.20:6060", "", "loopback address only"},
		{"clinic-pc:6060", "", "loopback address only"},
	}
	for _, tc := range tests {
		got, err := pprofAddr(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), EnvPprof)):
			t.Errorf("pprofAddr(%q) error %v, want one naming %s and %q", tc.in, err, EnvPprof, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("pprofAddr(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestDashboardEnv: the Dashboard process serves its profiles at the
// address meant for it, never at the tray process's (which holds it).
func TestDashboardEnv(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []string
		want []string
	}{
		{"neither", []string{"HOME=/h", "LANG=sl_SI.UTF-8"}, []string{"HOME=/h", "LANG=sl_SI.UTF-8"}},
		{"the tray's only", []string{"HOME=/h", EnvPprof + "=6060"}, []string{"HOME=/h"}},
		{"both", []string{EnvPprof + "=6060", "HOME=/h", EnvPprofDashboard + "=6061"}, []string{"HOME=/h", EnvPprof + "=6061"}},
	} {
		got := dashboardEnv(c.in)
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestTrimmerPagesOutAtMostEvery(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	pages := 0
	tr := &trimmer{now: func() time.Time { return now }, pageOut: func() int { pages++; return 1 }}
	steps := []struct {
		after time.Duration
		want  int
	}{
		{0, 1},                          // the first trim after the window painted
		{time.Minute, 1},                // a large answer soon after: not again
		{pageOutEvery - time.Minute, 2}, // pageOutEvery after the first
		{time.Second, 2},
	}
	for i, s := range steps {
		now = now.Add(s.after)
		tr.release()
		if pages != s.want {
			t.Fatalf("step %d: %d page-outs, want %d", i, pages, s.want)
		}
	}
}
