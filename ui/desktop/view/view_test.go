package view

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/mesi/mconnect/app/domain"
)

// recWindow records what Start does with the Dashboard window.
type recWindow struct {
	fyne.Window
	mu        sync.Mutex
	shown     int
	hidden    int
	closed    int
	master    bool
	intercept func()
}

func (w *recWindow) Show()                      { w.mu.Lock(); w.shown++; w.mu.Unlock(); w.Window.Show() }
func (w *recWindow) Hide()                      { w.mu.Lock(); w.hidden++; w.mu.Unlock(); w.Window.Hide() }
func (w *recWindow) Close()                     { w.mu.Lock(); w.closed++; w.mu.Unlock(); w.Window.Close() }
func (w *recWindow) SetMaster()                 { w.master = true }
func (w *recWindow) SetCloseIntercept(f func()) { w.intercept = f }

// plainApp is a test app without a system tray.
type plainApp struct {
	fyne.App
	quits int
	win   *recWindow
}

func (a *plainApp) NewWindow(title string) fyne.Window {
	a.win = &recWindow{Window: a.App.NewWindow(title)}
	return a.win
}

func (a *plainApp) Quit() { a.quits++ }

// trayApp is a test app with a system tray (desktop.App).
type trayApp struct {
	plainApp
	menus []*fyne.Menu
	icons []string
}

func (a *trayApp) SetSystemTrayMenu(m *fyne.Menu)    { a.menus = append(a.menus, m) }
func (a *trayApp) SetSystemTrayIcon(r fyne.Resource) { a.icons = append(a.icons, r.Name()) }
func (a *trayApp) SetSystemTrayWindow(fyne.Window)   {}

func quietLog() logrus.FieldLogger {
	l, _ := logtest.NewNullLogger()
	return l
}

func TestStartModes(t *testing.T) {
	noBus := errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
	tests := []struct {
		name      string
		tray      bool // the app offers a system tray
		ts        TraySupport
		opts      Options
		wantTray  bool
		wantShown bool
		// closeQuits: closing the Dashboard quits instead of hiding it.
		closeQuits bool
		notice     string
	}{
		{"tray, started hidden", true, TraySupport{Host: true}, Options{Tray: true}, true, false, false, ""},
		{"tray, dashboard asked for", true, TraySupport{Host: true}, Options{Tray: true, ShowDashboard: true}, true, true, false, ""},
		{"no session bus", true, TraySupport{Err: noBus}, Options{Tray: true}, false, true, true,
			"No tray icon: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set). Keep this window open (or minimised): closing it stops mCONNECT Hub, after asking."},
		{"bus without tray host", true, TraySupport{}, Options{Tray: true}, true, true, true, "This desktop may not show tray icons."},
		{"tray not asked for", true, TraySupport{Host: true}, Options{}, false, true, true, ""},
		{"platform without tray", false, TraySupport{Host: true}, Options{Tray: true}, false, true, true, "No tray icon: this system has no tray."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := test.NewTempApp(t)
			ta := &trayApp{plainApp: plainApp{App: base}}
			var a fyne.App = &ta.plainApp
			if tc.tray {
				a = ta
			}
			quits := 0
			tc.opts.OnQuit = func() { quits++ }
			tc.opts.Log = quietLog()
			hub := newFakeHub(fullInfo, health("store", domain.SeverityOK))

			s := Start(a, hub, tc.ts, tc.opts)
			w := ta.win
			if got := len(ta.menus) > 0; got != tc.wantTray {
				t.Errorf("tray menu set = %v, want %v", got, tc.wantTray)
			}
			if tc.wantTray {
				if len(ta.icons) != 1 || ta.icons[0] != "tray-ok.png" {
					t.Errorf("tray icons %q, want [tray-ok.png]", ta.icons)
				}
			}
			if got := w.shown > 0; got != tc.wantShown {
				t.Errorf("Dashboard shown = %v, want %v", got, tc.wantShown)
			}
			if w.master != tc.closeQuits {
				t.Errorf("master window = %v, want %v", w.master, tc.closeQuits)
			}
			notice := findLabel(labelsOf(w.Content()), "tray")
			switch {
			case tc.notice == "" && notice != nil:
				t.Errorf("unexpected notice %q", notice.Text)
			case tc.notice != "" && (notice == nil || !strings.Contains(notice.Text, tc.notice)):
				t.Errorf("notice %v, want %q", notice, tc.notice)
			}

			w.intercept() // the person closes the Dashboard
			if tc.closeQuits {
				if quits != 1 || ta.quits != 1 || w.hidden != 0 || w.closed != 0 {
					t.Errorf("close: OnQuit %d, app quits %d, hidden %d, closed %d; want 1, 1, 0, 0", quits, ta.quits, w.hidden, w.closed)
				}
			} else if quits != 0 || ta.quits != 0 || w.closed != 1 {
				// In the tray the window is closed, released, not kept hidden.
				t.Errorf("close: OnQuit %d, app quits %d, closed %d; want 0, 0, 1", quits, ta.quits, w.closed)
			}

			s.Stop() // the app returned from Run
			if quits != 1 {
				t.Errorf("after Stop OnQuit ran %d times, want 1", quits)
			}
			if hub.subscribers() != 0 {
				t.Error("Stop left the health subscription open")
			}
		})
	}
}

// TestStartTrayFollowsHealth checks the tray icon and menu follow the
// hub's health, and that the tray menu's actions work.
func TestStartTrayFollowsHealth(t *testing.T) {
	ta := &trayApp{plainApp: plainApp{App: test.NewTempApp(t)}}
	hub := newFakeHub(fullInfo, health("store", domain.SeverityOK))
	quits := 0
	s := Start(ta, hub, TraySupport{Host: true}, Options{Tray: true, Log: quietLog(), OnQuit: func() { quits++ }})

	hub.set(health("store", domain.SeverityOK), health("conn:a", domain.SeverityWarning))
	hub.set(health("store", domain.SeverityError))
	hub.set(health("store", domain.SeverityError), health("device", domain.SeverityOK)) // same icon, same label
	want := []string{"tray-ok.png", "tray-warning.png", "tray-error.png"}
	if strings.Join(ta.icons, ",") != strings.Join(want, ",") {
		t.Errorf("tray icons %q, want %q", ta.icons, want)
	}
	menu := ta.menus[0]
	if got := menu.Items[0].Label; got != "1 problem" {
		t.Errorf("status line %q, want %q", got, "1 problem")
	}

	items := menu.Items
	s.gui.tray.item("Open Dashboard").Action()
	if ta.win.shown != 1 {
		t.Errorf("Open Dashboard showed the window %d times", ta.win.shown)
	}
	items[len(items)-1].Action() // Quit
	items[len(items)-1].Action() // a second click does nothing more
	if quits != 1 || ta.quits != 1 {
		t.Errorf("Quit: OnQuit %d, app quits %d; want 1, 1", quits, ta.quits)
	}
	s.Stop()
	if quits != 1 {
		t.Errorf("OnQuit ran %d times, want 1", quits)
	}
	if s.Window() != fyne.Window(ta.win) {
		t.Error("Window is not the Dashboard")
	}
}

// TestHideToTrayReleasesTheWindow: with a tray, closing the Dashboard
// closes its window and stops its tabs (the Log no longer followed, the
// hidden hook called once); showing it again builds it anew, on the tab
// and at the size the person left, with the health that came meanwhile.
func TestHideToTrayReleasesTheWindow(t *testing.T) {
	ta := &trayApp{plainApp: plainApp{App: test.NewTempApp(t)}}
	hub := newFakeHub(fullInfo, health("store", domain.SeverityOK))
	api := sampleAPI()
	released, shown := 0, 0
	s := Start(ta, hub, TraySupport{Host: true}, Options{Tray: true, ShowDashboard: true, Log: quietLog(), API: api,
		Hidden: func() { released++ }, Shown: func() { shown++ }})
	defer s.Stop()
	first := ta.win
	if f := first.Canvas().Focused(); f != nil {
		t.Errorf("%T has the focus at start: nothing may blink until the person clicks", f)
	}
	first.Resize(fyne.NewSize(900, 640))
	s.tabs.selectTab("log")
	if !s.tabs.log.active {
		t.Fatal("the Log tab on screen does not follow the log")
	}
	log, worklist := s.tabs.log, s.tabs.worklist
	if len(worklist.orders) == 0 {
		t.Fatal("the Worklist shows no appointments")
	}
	queries := len(api.queries)

	first.intercept() // closed to the tray
	if first.closed != 1 || released != 1 {
		t.Fatalf("closed to the tray: window closed %d times, hidden hook %d; want 1, 1", first.closed, released)
	}
	if log.active {
		t.Error("the Log tab still follows the log with the window in the tray")
	}
	if worklist.orders != nil {
		t.Errorf("the closed window's Worklist still holds %d appointments", len(worklist.orders))
	}
	hub.set(health("store", domain.SeverityError)) // while in the tray
	first.intercept()                              // a late second close does nothing more
	if first.closed != 1 || released != 1 {
		t.Errorf("second close: window closed %d times, hidden hook %d; want 1, 1", first.closed, released)
	}

	s.ShowDashboard() // as `mconnect --dashboard` run again does
	if shown != 2 {
		t.Errorf("shown hook ran %d times, want 2 (at start, shown again)", shown)
	}
	second := ta.win
	if second == first || second.shown != 1 || s.Window() != fyne.Window(second) {
		t.Fatalf("shown again: window rebuilt %v, shown %d; want a new window shown once", second != first, second.shown)
	}
	tabs, ok := second.Content().(*container.AppTabs)
	if !ok {
		t.Fatalf("window content is %T, want tabs", second.Content())
	}
	if got := tabs.Selected().Text; got != "Log" {
		t.Errorf("rebuilt on tab %q, want the remembered Log", got)
	}
	if got := second.Canvas().Size(); got != fyne.NewSize(900, 640) {
		t.Errorf("rebuilt at %v, want the remembered 900×640", got)
	}
	if !s.tabs.log.active || s.tabs.log == log {
		t.Error("the rebuilt Log tab does not follow the log")
	}
	if len(api.queries) <= queries {
		t.Error("the rebuilt Worklist did not ask the hub for appointments")
	}
	if findLabel(labelsOf(tabs.Items[4].Content), "1 problem") == nil {
		t.Errorf("the rebuilt overview does not show the health that came while in the tray: %q", texts(labelsOf(tabs.Items[4].Content)))
	}
}

// TestMinimiseWithoutTrayOnlyHides: without a tray icon the window that
// is "minimised" from the close question stays (it is the only way back).
func TestMinimiseWithoutTrayOnlyHides(t *testing.T) {
	ta := &trayApp{plainApp: plainApp{App: test.NewTempApp(t)}}
	released := 0
	s := Start(ta, newFakeHub(fullInfo, health("store", domain.SeverityOK)), TraySupport{}, Options{Tray: true,
		Log: quietLog(), API: sampleAPI(), Hidden: func() { released++ }})
	defer s.Stop()
	w := ta.win
	w.intercept()
	if s.closeAsk == nil {
		t.Fatal("closing without a tray icon did not ask")
	}
	test.Tap(s.closeAsk.cancel) // Minimise
	if w.hidden != 1 || w.closed != 0 || released != 1 {
		t.Errorf("minimised: hidden %d, closed %d, hidden hook %d; want 1, 0, 1", w.hidden, w.closed, released)
	}
}
