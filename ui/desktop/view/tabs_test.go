package view

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"github.com/mesi/mconnect/app/domain"
)

func TestStartShowsTheTabs(t *testing.T) {
	tests := []struct {
		name string
		info Info
		ts   TraySupport
		want string // the tab open at start
	}{
		{"hub running with a tray", fullInfo, TraySupport{Host: true}, "Worklist"},
		{"no tray: the notice first", fullInfo, TraySupport{}, "Connections"},
		{"first run: the instructions first", Info{FirstRun: true}, TraySupport{Host: true}, "Connections"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := test.NewTempApp(t)
			ta := &trayApp{plainApp: plainApp{App: base}}
			api := sampleAPI()
			s := Start(ta, newFakeHub(tc.info, health("store", domain.SeverityOK)), tc.ts,
				Options{Tray: true, Log: quietLog(), API: api})
			defer s.Stop()
			tabs, ok := s.Window().Content().(*container.AppTabs)
			if !ok {
				t.Fatalf("window content is %T, want tabs", s.Window().Content())
			}
			var names []string
			for _, it := range tabs.Items {
				names = append(names, it.Text)
			}
			if want := []string{"Worklist", "Results", "Tablets", "Groups", "Connections", "Log"}; !slices.Equal(names, want) {
				t.Errorf("tabs %q, want %q", names, want)
			}
			if got := tabs.Selected().Text; got != tc.want {
				t.Errorf("open tab %q, want %q", got, tc.want)
			}
			if len(api.queries) == 0 {
				t.Error("the Worklist did not ask the hub for appointments")
			}
		})
	}
}

// TestTabletsCountdownOnlyOnScreen: the pairing countdown is redrawn only
// while the Tablets tab is on screen; opening the tab shows the time left
// at once.
func TestTabletsCountdownOnlyOnScreen(t *testing.T) {
	api := sampleTablets()
	tt := newTabTest(t, api)
	now := testNow
	tt.env.now = func() time.Time { return now }
	tabs := newTabs(tt.env, newDashboard(fullInfo, "", tt.env.now), false, nil, func() {})
	tt.win.SetContent(tabs.content())
	t.Cleanup(tabs.start())
	tabs.setVisible(true)
	tabs.selectTab("tablets")
	tb := tabs.tablets
	test.Tap(tb.pairBt)
	if tb.pairLeft.Text != "The code works for 5:00 more." {
		t.Fatalf("countdown %q", tb.pairLeft.Text)
	}

	tabs.selectTab("worklist")
	now = now.Add(61 * time.Second)
	tb.tick()
	if tb.pairLeft.Text != "The code works for 5:00 more." {
		t.Errorf("countdown redrawn with the Worklist open: %q", tb.pairLeft.Text)
	}
	tabs.selectTab("tablets")
	if tb.pairLeft.Text != "The code works for 3:59 more." {
		t.Errorf("countdown on opening the tab %q, want 3:59", tb.pairLeft.Text)
	}
	tabs.setVisible(false) // in the tray
	now = now.Add(time.Minute)
	tb.tick()
	if tb.pairLeft.Text != "The code works for 3:59 more." {
		t.Errorf("countdown redrawn in the tray: %q", tb.pairLeft.Text)
	}
	tabs.setVisible(true)
	if tb.pairLeft.Text != "The code works for 2:59 more." {
		t.Errorf("countdown on showing the window %q, want 2:59", tb.pairLeft.Text)
	}
}
