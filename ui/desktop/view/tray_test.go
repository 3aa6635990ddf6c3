package view

import (
	"slices"
	"testing"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/ui/words"
)

func wordsHealth(h domain.Health) (string, string) { return words.Health(h, langLookup) }

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
			tm := newTrayMenu(tc.info, trayActions{open: func() {}, quit: func() {}})
			tm.update(tc.hs)
			labels := tm.labels()
			want := []string{tc.wantLine}
			if len(tc.hs) > 0 {
				want = append(want, "-")
				for _, h := range sortedHealth(tc.hs) {
					title, _ := wordsHealth(h)
					want = append(want, severityMark(h.Severity)+" "+title)
				}
			}
			want = append(want, "-", "Open Dashboard", "-", "Quit")
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
	var paired, exported int
	tm := newTrayMenu(Info{}, trayActions{open: func() { opened++ }, quit: func() { quit++ },
		pair: func() { paired++ }, export: func() { exported++ }})
	tm.update([]domain.Health{okStore, errSender})
	tm.setCounts(trayCounts{online: 1, tablets: 3, countsKnown: true, waiting: 4, needPerson: 2, resultsKnown: true})
	want := []string{"1 problem", "-", "✗ conn:birpis/mllp-out: listening", "✓ store: listening",
		"Tablets online: 1 of 3", "Results: 4 waiting, 2 need a person",
		"-", "Open Dashboard", "Pair a tablet…", "Export diagnostics…", "-", "Quit"}
	if got := tm.labels(); !slices.Equal(got, want) {
		t.Errorf("menu %q, want %q", got, want)
	}
	items := tm.menu.Items
	if !items[0].Disabled || items[0].Action != nil || !items[2].Disabled {
		t.Error("status and component lines must be disabled labels without an action")
	}
	tm.item("Open Dashboard").Action()
	tm.item("Pair a tablet…").Action()
	tm.item("Export diagnostics…").Action()
	if opened != 1 || quit != 0 || paired != 1 || exported != 1 {
		t.Errorf("actions: opened=%d paired=%d exported=%d quit=%d", opened, paired, exported, quit)
	}
	if tm.tip() != "mCONNECT Hub: 1 problem" {
		t.Errorf("tooltip %q", tm.tip())
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
	tm := newTrayMenu(Info{}, trayActions{open: func() {}, quit: func() {}})
	steps := []struct {
		hs                    []domain.Health
		wantLabel, wantIcon   bool
		wantLine, wantIconRes string
	}{
		{[]domain.Health{okStore}, true, false, "All connections OK", "tray-ok.png"},
		{[]domain.Health{okStore, okDevice}, true, false, "All connections OK", "tray-ok.png"}, // a new component line
		{[]domain.Health{okDevice, okStore}, false, false, "All connections OK", "tray-ok.png"},
		{[]domain.Health{okStore, warnMLLP}, true, true, "1 problem", "tray-warning.png"},
		{[]domain.Health{errSender, okStore}, true, true, "1 problem", "tray-error.png"},
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

func TestTrayShowsAnUpdate(t *testing.T) {
	var opened []string
	tm := newTrayMenu(Info{}, trayActions{open: func() {}, quit: func() {}, openURL: func(u string) { opened = append(opened, u) }})
	tm.setCounts(trayCounts{updateVersion: "1.4.0", updateURL: "https://example.org/mconnect"})
	it := tm.item("Version 1.4.0 is available…")
	if it == nil {
		t.Fatalf("no update line: %q", tm.labels())
	}
	it.Action()
	if len(opened) != 1 || opened[0] != "https://example.org/mconnect" {
		t.Errorf("opened %q", opened)
	}
}
