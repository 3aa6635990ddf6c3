package view

import (
	"slices"
	"testing"

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
