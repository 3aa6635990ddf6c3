package view

import (
	"slices"
	"testing"

	"github.com/mesi/mconnect/app/domain"
)

func health(component string, sev domain.Severity) domain.Health {
	return domain.Health{Component: component, Code: "listening", Severity: sev}
}

var (
	okStore   = health("store", domain.SeverityOK)
	okDevice  = health("device", domain.SeverityOK)
	warnMLLP  = health("conn:birpis/mllp-in", domain.SeverityWarning)
	errSender = health("conn:birpis/mllp-out", domain.SeverityError)
)

func TestTrayState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		info     Info
		hs       []domain.Health
		wantLine string
		wantIcon string
	}{
		{"no components yet", Info{}, nil, "Waiting for the hub to report", "tray-ok.png"},
		{"all ok", Info{}, []domain.Health{okStore, okDevice}, "All connections OK", "tray-ok.png"},
		{"one warning", Info{}, []domain.Health{okStore, warnMLLP}, "1 problem", "tray-warning.png"},
		{"warning and error", Info{}, []domain.Health{warnMLLP, okStore, errSender}, "2 problems", "tray-error.png"},
		{"unknown severity counts as error", Info{}, []domain.Health{health("x", domain.Severity(7))}, "1 problem", "tray-error.png"},
		{"first run", Info{FirstRun: true}, nil, "Not set up yet", "tray-warning.png"},
		{"first run with an error", Info{FirstRun: true}, []domain.Health{errSender}, "Not set up yet", "tray-error.png"},
		{"hub could not start", Info{Problem: "port 8443 in use"}, []domain.Health{okStore}, "mCONNECT Hub is not running", "tray-error.png"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tm := newTrayMenu(tc.info, func() {}, func() {})
			tm.update(tc.hs)
			labels := tm.labels()
			want := []string{tc.wantLine, "-", "Open Dashboard", "-", "Quit"}
			if !slices.Equal(labels, want) {
				t.Errorf("menu = %q, want %q", labels, want)
			}
			if got := tm.icon().Name(); got != tc.wantIcon {
				t.Errorf("icon = %s, want %s", got, tc.wantIcon)
			}
		})
	}
}

func TestTrayMenuItems(t *testing.T) {
	t.Parallel()
	var opened, quit int
	tm := newTrayMenu(Info{}, func() { opened++ }, func() { quit++ })
	items := tm.menu.Items
	if !items[0].Disabled || items[0].Action != nil {
		t.Error("status line must be a disabled label without an action")
	}
	items[2].Action()
	if opened != 1 || quit != 0 {
		t.Errorf("Open Dashboard: opened=%d quit=%d", opened, quit)
	}
	last := items[len(items)-1]
	if !last.IsQuit {
		t.Error("last item must be marked IsQuit, or the driver appends a second Quit")
	}
	last.Action()
	if quit != 1 {
		t.Errorf("Quit: quit=%d", quit)
	}
}

func TestTrayUpdateReportsChanges(t *testing.T) {
	t.Parallel()
	tm := newTrayMenu(Info{}, func() {}, func() {})
	steps := []struct {
		hs                    []domain.Health
		wantLabel, wantIcon   bool
		wantLine, wantIconRes string
	}{
		{[]domain.Health{okStore}, true, false, "All connections OK", "tray-ok.png"},
		{[]domain.Health{okStore, okDevice}, false, false, "All connections OK", "tray-ok.png"},
		{[]domain.Health{okStore, warnMLLP}, true, true, "1 problem", "tray-warning.png"},
		{[]domain.Health{errSender, okStore}, false, true, "1 problem", "tray-error.png"},
		{[]domain.Health{errSender, warnMLLP}, true, false, "2 problems", "tray-error.png"},
		{[]domain.Health{okStore}, true, true, "All connections OK", "tray-ok.png"},
	}
	for i, s := range steps {
		label, icon := tm.update(s.hs)
		if label != s.wantLabel || icon != s.wantIcon {
			t.Errorf("step %d: changed label=%v icon=%v, want %v %v", i, label, icon, s.wantLabel, s.wantIcon)
		}
		if got := tm.labels()[0]; got != s.wantLine {
			t.Errorf("step %d: status %q, want %q", i, got, s.wantLine)
		}
		if got := tm.icon().Name(); got != s.wantIconRes {
			t.Errorf("step %d: icon %s, want %s", i, got, s.wantIconRes)
		}
	}
}

func TestSortedHealth(t *testing.T) {
	t.Parallel()
	in := []domain.Health{okStore, warnMLLP, okDevice, errSender, health("a", domain.SeverityWarning)}
	var got []string
	for _, h := range sortedHealth(in) {
		got = append(got, h.Component)
	}
	want := []string{"conn:birpis/mllp-out", "a", "conn:birpis/mllp-in", "device", "store"}
	if !slices.Equal(got, want) {
		t.Errorf("order = %q, want %q", got, want)
	}
	if in[0].Component != "store" {
		t.Error("sortedHealth changed its input")
	}
}
