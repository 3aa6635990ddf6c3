package view

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/mesi/mconnect/app/domain"
)

// trayWatch records what a Tray hands to the desktop.
type trayWatch struct {
	menus chan []string
	icons chan string
	notes chan string
	opens chan string
	menu  *fyne.Menu
}

func newTrayWatch() *trayWatch {
	return &trayWatch{menus: make(chan []string, 64), icons: make(chan string, 64),
		notes: make(chan string, 64), opens: make(chan string, 8)}
}

func (w *trayWatch) options(api *fakeAPI) TrayOptions {
	o := TrayOptions{
		SetMenu: func(m *fyne.Menu) {
			w.menu = m
			var l []string
			for _, it := range m.Items {
				if it.IsSeparator {
					l = append(l, "-")
				} else {
					l = append(l, it.Label)
				}
			}
			w.menus <- l
		},
		SetIcon: func(r fyne.Resource) { w.icons <- r.Name() },
		Notify:  func(title, _ string) { w.notes <- title },
		Open:    func(tab string) { w.opens <- tab },
		Pair:    func() {},
		Export:  func() {},
		Quit:    func() {},
	}
	if api != nil {
		o.API = api
	}
	return o
}

// next waits for what ok accepts on ch (what comes before it is skipped).
func next[T any](t *testing.T, ch chan T, what string, ok func(T) bool) T {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case v := <-ch:
			if ok(v) {
				return v
			}
		case <-deadline:
			t.Fatalf("no %s within 10 s", what)
		}
	}
}

func TestTrayWithoutFyneApp(t *testing.T) {
	now := time.Now()
	api := &fakeAPI{tablets: []domain.Device{
		{ID: "t1", Name: "Room 1", LastSeen: now},
		{ID: "t2", Name: "Room 2"},
		{ID: "t3", Name: "Gone", Revoked: true, LastSeen: now},
	}}
	hub := newFakeHub(Info{}, okStore)
	w := newTrayWatch()
	tr := StartTray(hub, w.options(api))
	t.Cleanup(tr.Stop)

	if got := next(t, w.icons, "icon", func(string) bool { return true }); got != "tray-ok.png" {
		t.Errorf("first icon = %s, want tray-ok.png", got)
	}
	tablets := txtTrayTablets(1, 2)
	next(t, w.menus, "menu with the tablets' count", func(l []string) bool { return slices.Contains(l, tablets) })

	// An error is notified at once and turns the icon red.
	hub.set(okStore, errSender)
	title, _ := wordsHealth(errSender)
	if got := next(t, w.notes, "notification", func(string) bool { return true }); got != title {
		t.Errorf("notification %q, want %q", got, title)
	}
	next(t, w.icons, "red icon", func(n string) bool { return n == "tray-error.png" })
	menu := next(t, w.menus, "menu with the error", func(l []string) bool { return slices.Contains(l, severityMark(errSender.Severity)+" "+title) })
	if menu[0] != txtProblems(1) {
		t.Errorf("status line %q, want %q", menu[0], txtProblems(1))
	}

	// Open Dashboard leads to the notification's tab once.
	click := func(label string) {
		t.Helper()
		for _, it := range w.menu.Items {
			if it.Label == label && it.Action != nil {
				it.Action()
				return
			}
		}
		t.Fatalf("no item %q in %q", label, menu)
	}
	click(txtTrayOpen())
	if got := next(t, w.opens, "open", func(string) bool { return true }); got != tabFor(errSender.Component) {
		t.Errorf("first open on tab %q, want %q", got, tabFor(errSender.Component))
	}
	click(txtTrayOpen())
	if got := next(t, w.opens, "open", func(string) bool { return true }); got != "" {
		t.Errorf("second open on tab %q, want the last one", got)
	}

	// A language chosen in the Dashboard relabels the tray.
	if err := SetLanguage("de"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { SetLanguage("") })
	tr.Relabel()
	de := txtTrayOpen()
	if de == "Open Dashboard" {
		t.Fatal("no German text for Open Dashboard")
	}
	next(t, w.menus, "German menu", func(l []string) bool { return slices.Contains(l, de) && slices.Contains(l, txtTrayTablets(1, 2)) })
}

func TestTrayStopEndsFollowing(t *testing.T) {
	hub := newFakeHub(Info{}, okStore)
	w := newTrayWatch()
	tr := StartTray(hub, w.options(nil))
	next(t, w.menus, "menu", func([]string) bool { return true })
	if hub.subscribers() != 1 {
		t.Fatalf("%d health subscribers, want 1", hub.subscribers())
	}
	tr.Stop()
	if n := hub.subscribers(); n != 0 {
		t.Errorf("%d health subscribers after Stop, want 0", n)
	}
	if l := tr.Labels(); l != nil {
		t.Errorf("Labels after Stop = %q, want nil", l)
	}
}

// TestDashboardProcessClose: the Dashboard process closed by the tray
// process (it stops, or Quit was confirmed) keeps the window's size and
// tab for the next time, then quits.
func TestDashboardProcessClose(t *testing.T) {
	a := &plainApp{App: test.NewTempApp(t)}
	quit := make(chan struct{}, 2)
	hub := newFakeHub(Info{Attached: true}, okStore)
	s := Start(a, hub, TraySupport{}, Options{ShowDashboard: true, Child: true, Log: quietLog(), API: sampleAPI(),
		OnQuit: func() { quit <- struct{}{} }})
	defer s.Stop()
	s.Window().Resize(fyne.NewSize(900, 640))
	s.ShowTab("tablets")
	s.Close()
	p := a.Preferences()
	if w, h := p.Float(prefWidth), p.Float(prefHeight); w != 900 || h != 640 {
		t.Errorf("remembered size %vx%v, want 900x640", w, h)
	}
	if got := p.Int(prefTab); got != s.tabs.app.SelectedIndex() || got == 0 {
		t.Errorf("remembered tab %d, want the Tablets tab (%d)", got, s.tabs.app.SelectedIndex())
	}
	select {
	case <-quit:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not quit")
	}
}
