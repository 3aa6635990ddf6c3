// Package view is the GUI of mCONNECT Hub apart from the Fyne app itself:
// the Dashboard's content, the tray menu model, the D-Bus check that
// decides whether a tray can work, and Start, which wires them to a
// fyne.App.
//
// It never imports fyne.io/fyne/v2/app, so its tests run on Fyne's test
// driver without a display and without cgo. Package ui owns the app.
package view

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/retention"
	"github.com/mesi/mconnect/assets"
)

// Hub is what the GUI needs from the running hub; see ui.Hub.
type Hub interface {
	Health() []domain.Health
	SubscribeHealth(fn func([]domain.Health)) (cancel func())
	Info() Info
}

// Info is what the Dashboard shows about the hub itself.
type Info struct {
	// Version of the mconnect binary.
	Version string
	// HubName is the name tablets show for this hub when they discover it.
	HubName string
	// ConfigPath is the configuration file in use, or the one the hub
	// looks for at start when FirstRun.
	ConfigPath string
	// DataDir holds the database, logs and the archive and error folders.
	DataDir string
	// LANAddress is the address tablets reach the hub at, for example
	// "https://192.168.1.20:8443".
	LANAddress string
	// TLSFingerprint is the SHA-256 fingerprint of the LAN endpoint's
	// certificate, which IT compares with what a tablet shows while pairing.
	TLSFingerprint string
	// FirstRun is true when there is no configuration file yet.
	FirstRun bool
	// Problem says why the hub could not start, if it could not; empty when
	// it runs.
	Problem string
	// Attached is true when the window shows a hub that runs in another
	// process (`mconnect serve`): closing the window leaves it running.
	Attached bool
}

// Options tune Start; see ui.Options.
type Options struct {
	ShowDashboard bool
	Tray          bool
	Log           logrus.FieldLogger
	OnQuit        func()
	// API is the hub's control API the tabs work through; nil when no hub
	// runs (no configuration, or it could not start).
	API control.API
	// Tab is the tab to open at start ("results", ...; empty: the last).
	Tab string
	// Pair shows a pairing code on the Tablets tab at start.
	Pair bool
	// Setup, when set, adds the Settings tab and, at first start (no
	// configuration), opens the setup wizard.
	Setup *SetupDeps
	// SetTooltip, if set, sets the tray icon's tooltip.
	SetTooltip func(string)
	// Hidden, if set, is called on Fyne's goroutine whenever the
	// Dashboard is off screen: started in the tray, or hidden (with a
	// tray, its window is then closed, so that the caller can hand the
	// memory it held back to the system).
	Hidden func()
	// Shown, if set, is called on Fyne's goroutine before the Dashboard
	// comes on screen.
	Shown func()
	// Trim, if set, is called on Fyne's goroutine after a tab took in a
	// large answer (thousands of appointments), so that the caller can
	// hand the garbage decoding it left back to the system.
	Trim func()
	// Child says the Dashboard is a process of the tray process's (see
	// Tray): the tray process sends the notifications and hands a second
	// launch's "come forward" to the window itself (ShowTab), so the
	// window does neither.
	Child bool
}

// DashboardSize is the Dashboard window's initial size.
var DashboardSize = fyne.NewSize(1100, 700)

// trayCheckTimeout bounds the D-Bus check at start.
const trayCheckTimeout = 3 * time.Second

// TraySupport is what the desktop offers for a tray icon.
type TraySupport struct {
	// Err says why there can be no tray (no D-Bus session bus); nil when
	// the tray can be used.
	Err error
	// Host is false when the tray works but nothing on the desktop shows
	// tray icons (no StatusNotifierWatcher on the bus).
	Host bool
}

// CheckTray looks for what a tray icon needs. Call it before creating the
// Fyne app: when there is no session bus it also stops godbus from
// autolaunching one on Fyne's behalf.
func CheckTray(log logrus.FieldLogger) TraySupport {
	ctx, cancel := context.WithTimeout(context.Background(), trayCheckTimeout)
	defer cancel()
	host, err := checkTray(ctx)
	if errors.Is(err, errNoSessionBus) {
		if perr := preventBusAutolaunch(); perr != nil {
			log.WithError(perr).Warn("ui: a D-Bus daemon may be started")
		}
	}
	return TraySupport{Err: err, Host: host}
}

// AddTranslations registers the GUI's texts with Fyne's lang package.
func AddTranslations() error { return addTranslations() }

// Shell is the running GUI: the Dashboard window, the tray when there is
// one, the subscription to the hub's health, and the notifications.
type Shell struct {
	app    fyne.App
	win    fyne.Window
	gui    *gui
	desk   desktop.App // nil when window-only
	onQuit func()
	log    logrus.FieldLogger
	env    *tabEnv
	info   Info

	tabs    *tabs
	notes   *notifier
	tooltip func(string)
	// pendingTab is where the last notification leads; Open Dashboard
	// goes there once.
	pendingTab string
	// windowOnly: nothing on the desktop shows the tray icon, so the
	// window is the only way to the hub.
	windowOnly bool
	closeAsk   *confirmDialog
	setup      *SetupDeps

	// notice explains a missing tray; overviewFirst opens the first
	// window on the overview (see newTabs).
	notice        string
	overviewFirst bool
	// keeper is a window that is never shown: with a tray, hiding the
	// Dashboard closes its window (releasing what it holds: the GL
	// context, textures, the tabs' rows) and Fyne quits when its last
	// window closes. Nil when window-only.
	keeper fyne.Window
	// released: the Dashboard's window was closed while in the tray; the
	// next Show builds it anew, on the remembered tab and size.
	released bool
	// stopTabs stops the current window's tabs following the hub.
	stopTabs func()
	// onHidden and onShown are Options.Hidden and Options.Shown.
	onHidden, onShown func()
	// lastUpdate and lastStorage are the newest facts for the overview,
	// shown again when the window is built anew.
	lastUpdate  *control.UpdateNotice
	lastStorage *retention.Status
	// counts follows the hub's events for the tray's counts.
	counts follower

	quitOnce sync.Once
	stop     func()
}

// Preference keys for the window.
const (
	prefWidth  = "dashboard.width"
	prefHeight = "dashboard.height"
	prefTab    = "dashboard.tab"
)

// Start builds the Dashboard and, when asked for and supported, the tray,
// on a, and subscribes to h. Call it on the main goroutine before a.Run;
// call Stop after a.Run returns.
func Start(a fyne.App, h Hub, ts TraySupport, opts Options) *Shell {
	log := opts.Log
	if log == nil {
		log = logrus.StandardLogger()
	}
	s := &Shell{app: a, onQuit: opts.OnQuit, log: log, info: h.Info(), tooltip: opts.SetTooltip, setup: opts.Setup,
		onHidden: opts.Hidden, onShown: opts.Shown, stopTabs: func() {}}

	notice := ""
	if opts.Tray {
		d, ok := a.(desktop.App)
		switch {
		case !ok && s.info.Attached:
			notice = txtNoTrayAttached(txtNoTrayHere())
		case !ok:
			notice = txtNoTray(txtNoTrayHere())
			log.Info("ui: no system tray on this platform, window only")
		case ts.Err != nil && s.info.Attached:
			notice = txtNoTrayAttached(ts.Err.Error())
			log.WithError(ts.Err).Warn("ui: no system tray, window only")
		case ts.Err != nil:
			notice = txtNoTray(ts.Err.Error())
			log.WithError(ts.Err).Warn("ui: no system tray, window only")
		default:
			s.desk = d
			if !ts.Host {
				notice = txtNoTrayHost()
				log.Warnf("ui: no %s on the session bus: the tray icon may not show", statusNotifierWatcher)
			}
		}
	}
	// Without a tray icon the person can see, the Dashboard is the only way
	// to the hub: it opens at start, and closing it asks first.
	s.windowOnly = s.desk == nil || notice != ""
	s.notice = notice
	s.overviewFirst = notice != "" || s.info.Problem != "" || s.info.FirstRun
	if !s.windowOnly {
		s.keeper = a.NewWindow(txtWindowTitle())
	}

	s.env = newTabEnv(opts.API, nil)
	s.env.trim = opts.Trim
	act := trayActions{open: s.openFromTray, quit: s.askQuit, openURL: s.openURL}
	if opts.API != nil {
		act.pair, act.export = s.pairFromTray, s.exportFromTray
	}
	s.gui = newGUI(h, s.desk != nil, notice, act)
	s.buildWindow(s.overviewFirst)
	if opts.Tab != "" {
		s.tabs.selectTab(opts.Tab)
	}

	if s.desk != nil {
		s.desk.SetSystemTrayIcon(s.gui.tray.icon())
		s.desk.SetSystemTrayMenu(s.gui.tray.menu)
		s.setTooltip()
		s.gui.trayChanged = func(labelChanged, iconChanged bool) {
			if iconChanged {
				s.desk.SetSystemTrayIcon(s.gui.tray.icon())
			}
			if labelChanged {
				s.gui.tray.menu.Refresh()
				s.setTooltip()
			}
		}
	}

	stopShow := func() {}
	if !opts.Child {
		s.notes = newNotifier(time.Now, s.notify)
		s.gui.onHealth = s.notes.observe
		stopShow = s.env.subscribe(func(ev control.Event) { s.ShowTab(ev.Tab) }, control.EventShow)
	}
	stopHealth := s.gui.start()
	s.stopTabs = s.tabs.start()
	stopCounts := s.followCounts()
	stopTicks := s.tickNotes()
	s.stop = func() { stopTicks(); stopCounts(); stopShow(); s.stopTabs(); stopHealth() }
	if opts.ShowDashboard || s.windowOnly || (opts.Setup != nil && s.info.FirstRun) {
		s.hook(s.onShown)
		s.win.Show()
		s.tabs.setVisible(true)
	} else {
		s.hook(s.onHidden)
	}
	if opts.Setup != nil && s.info.FirstRun {
		s.openWizard()
	}
	if opts.Pair && opts.API != nil {
		s.pairFromTray()
	}
	return s
}

// buildWindow builds the Dashboard's window and tabs, hidden, with the
// newest health and facts, sized and on the tab as the person left them
// (on the overview when overviewFirst). The caller starts the tabs.
func (s *Shell) buildWindow(overviewFirst bool) {
	s.win = s.app.NewWindow(txtWindowTitle())
	s.win.SetIcon(assets.AppIcon())
	s.env.win = s.win
	dash := s.gui.dashboard() // the first, built with the tray model
	if dash == nil {
		dash = newDashboard(s.info, s.notice, time.Now)
	}
	s.tabs = newTabs(s.env, dash, overviewFirst, s.setup,
		func() { s.tabs.selectTab("tablets"); s.tabs.tablets.pair() })
	if s.setup != nil && s.info.FirstRun {
		dash.onSetup = s.openWizard
	}
	if s.lastUpdate != nil {
		dash.showUpdate(s.lastUpdate, s.openURL)
	}
	if s.lastStorage != nil {
		dash.showStorage(s.lastStorage)
	}
	s.gui.setDashboard(dash)
	s.win.SetContent(s.tabs.content())
	s.restoreWindow(overviewFirst)
	if s.windowOnly {
		s.win.SetMaster()
	}
	s.win.SetCloseIntercept(s.closeWindow)
}

// ensureWindow builds the Dashboard anew if hiding it to the tray
// released its window.
func (s *Shell) ensureWindow() {
	if !s.released {
		return
	}
	s.released = false
	s.buildWindow(false)
	s.stopTabs = s.tabs.start()
}

// releaseWindow closes the hidden Dashboard's window and drops its tabs,
// which stop following the hub: in the tray the application holds no
// window, textures or rows, and nothing on it is refreshed.
func (s *Shell) releaseWindow() {
	s.stopTabs()
	s.stopTabs = func() {}
	s.tabs.release()
	s.closeAsk = nil
	s.gui.setDashboard(nil)
	s.released = true
	s.win.Close()
}

func (s *Shell) hook(f func()) {
	if f != nil {
		f()
	}
}

// restoreWindow sizes the window and opens the tab as the person left
// them (unless the overview must be read first).
func (s *Shell) restoreWindow(overviewFirst bool) {
	p := s.app.Preferences()
	size := DashboardSize
	if w, h := p.FloatWithFallback(prefWidth, 0), p.FloatWithFallback(prefHeight, 0); w >= 640 && h >= 400 {
		size = fyne.NewSize(float32(w), float32(h))
	}
	s.win.Resize(size)
	if !overviewFirst {
		if i := p.IntWithFallback(prefTab, 0); i >= 0 && i < len(s.tabs.app.Items) {
			s.tabs.app.SelectIndex(i)
		}
	}
}

// saveWindow remembers the window's size and tab.
func (s *Shell) saveWindow() {
	p := s.app.Preferences()
	sz := s.win.Canvas().Size()
	if sz.Width >= 640 && sz.Height >= 400 {
		p.SetFloat(prefWidth, float64(sz.Width))
		p.SetFloat(prefHeight, float64(sz.Height))
	}
	p.SetInt(prefTab, s.tabs.app.SelectedIndex())
}

func (s *Shell) setTooltip() {
	if s.tooltip != nil && s.gui.tray != nil {
		s.tooltip(s.gui.tray.tip())
	}
}

// ShowTab brings the Dashboard to the front on tab (empty: as it is).
func (s *Shell) ShowTab(tab string) {
	s.ensureWindow()
	if tab != "" {
		s.tabs.selectTab(tab)
	}
	s.ShowDashboard()
}

// Pair shows a pairing code on the Tablets tab.
func (s *Shell) Pair() {
	if s.env.api != nil {
		s.pairFromTray()
	}
}

// ExportDiagnostics opens Export diagnostics….
func (s *Shell) ExportDiagnostics() {
	if s.env.api != nil {
		s.exportFromTray()
	}
}

// ConfirmQuit asks on the Dashboard whether to stop the hub, which then
// no longer serves the tablets and the EHR; yes runs if the person agrees.
func (s *Shell) ConfirmQuit(yes func()) {
	s.ShowDashboard()
	confirm(s.win, txtQuitTitle(), txtQuitText(), txtQuitConfirm(), yes)
}

// ShowDashboard brings the Dashboard to the front.
func (s *Shell) ShowDashboard() {
	s.hook(s.onShown)
	s.ensureWindow()
	s.win.Show()
	s.tabs.setVisible(true)
	s.win.RequestFocus()
}

// openFromTray shows the Dashboard, on the tab the last notification
// was about.
func (s *Shell) openFromTray() {
	s.ensureWindow()
	if s.pendingTab != "" {
		s.tabs.selectTab(s.pendingTab)
		s.pendingTab = ""
	}
	s.ShowDashboard()
}

func (s *Shell) pairFromTray() {
	s.ensureWindow()
	s.tabs.selectTab("tablets")
	s.ShowDashboard()
	s.tabs.tablets.pair()
}

func (s *Shell) exportFromTray() {
	s.ShowDashboard()
	exportDiagnostics(s.env)
}

// hideDashboard hides the window (the tray stays); what only the window
// needs stops. With a tray icon the window is closed and built anew on
// the next Show (see releaseWindow); without one (its "minimise"), it is
// only hidden.
func (s *Shell) hideDashboard() {
	if s.released {
		return
	}
	s.saveWindow()
	s.tabs.setVisible(false)
	if s.windowOnly {
		s.win.Hide()
	} else {
		s.releaseWindow()
	}
	s.hook(s.onHidden)
}

// closeWindow is what closing the window does: with a tray icon it hides
// the window; without one, a hub running in this process would stop, so
// the person is asked, never surprised.
func (s *Shell) closeWindow() {
	switch {
	case !s.windowOnly:
		s.hideDashboard()
	case s.env.api == nil || s.info.Attached:
		// Nothing here serves tablets or the EHR (no hub, or `serve` runs it).
		s.saveWindow()
		s.Quit()
	default:
		s.closeAsk = confirm(s.win, txtCloseTitle(), txtCloseText(), txtQuitConfirm(), func() {
			s.closeAsk = nil
			s.saveWindow()
			s.Quit()
		})
		s.closeAsk.cancel.SetText(txtCloseMinimise())
		s.closeAsk.cancel.OnTapped = func() {
			s.closeAsk.pop.Hide()
			s.closeAsk = nil
			s.hideDashboard()
		}
	}
}

// askQuit confirms the tray's Quit when tablets and the EHR would no
// longer be served.
func (s *Shell) askQuit() {
	if s.env.api == nil || s.info.Attached {
		s.Quit()
		return
	}
	s.ShowDashboard()
	confirm(s.win, txtQuitTitle(), txtQuitText(), txtQuitConfirm(), s.Quit)
}

// openURL opens a web address in the person's browser.
func (s *Shell) openURL(raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return
	}
	if err := s.app.OpenURL(u); err != nil {
		s.log.WithError(err).Warn("ui: open the browser")
	}
}

// notify shows a desktop notification and remembers its tab.
func (s *Shell) notify(n notification) {
	s.pendingTab = n.tab
	s.log.WithField("title", n.title).Info("ui: notification")
	s.app.SendNotification(fyne.NewNotification(n.title, n.body))
}

// tickNotes lets lasting warnings reach their notification without a
// new health report.
func (s *Shell) tickNotes() (cancel func()) {
	if tickEvery <= 0 || s.notes == nil {
		return func() {}
	}
	t := time.NewTicker(30 * time.Second)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-t.C:
				uiDo(func() { s.notes.observe(s.gui.hub.Health()) })
			case <-done:
				return
			}
		}
	}()
	return func() { t.Stop(); close(done) }
}

// followCounts keeps the tray's tablet and result counts current, from
// the hub's events (no polling), one load at a time (see follower).
func (s *Shell) followCounts() (cancel func()) {
	if s.gui.tray == nil || s.env.api == nil {
		return func() {}
	}
	s.counts.env = s.env
	s.loadCounts()
	return s.env.subscribe(func(ev control.Event) {
		s.counts.changed(s.loadCounts)
	}, control.EventTablets, control.EventDeliveries, control.EventOrders, control.EventHealth)
}

func (s *Shell) loadCounts() {
	s.counts.asked()
	call(s.env, loadTrayCounts, func(f trayFacts, _ error) {
		defer s.counts.answered(s.loadCounts)
		if f.status != nil {
			if f.status.Update != nil {
				s.lastUpdate = f.status.Update
			}
			s.lastStorage = f.status.Storage
			if d := s.gui.dashboard(); d != nil {
				if f.status.Update != nil {
					d.showUpdate(f.status.Update, s.openURL)
				}
				d.showStorage(f.status.Storage)
			}
		}
		if s.gui.tray.setCounts(f.counts) && s.desk != nil {
			s.gui.tray.menu.Refresh()
		}
	})
}

// trayFacts are what the tray's counts are loaded with: the counts, and
// the hub's status (nil when it could not be read) for the update notice
// and the storage figures.
type trayFacts struct {
	counts trayCounts
	status *control.Status
}

// loadTrayCounts reads the tablets online, the results waiting or
// needing a person, and the hub's status. A part that cannot be read is
// left unknown.
func loadTrayCounts(ctx context.Context, api control.API) (trayFacts, error) {
	var f trayFacts
	c := &f.counts
	if ds, err := api.Tablets(ctx); err == nil {
		now := time.Now()
		for _, d := range ds {
			if d.Revoked {
				continue
			}
			c.tablets++
			if d.Online(now) {
				c.online++
			}
		}
		c.countsKnown = true
	}
	waiting, err1 := api.Deliveries(ctx, control.DeliveryQuery{States: []domain.DeliveryState{
		domain.DeliveryQueued, domain.DeliveryInflight, domain.DeliveryRetrying}, Limit: 10000})
	attention, err2 := api.Deliveries(ctx, control.DeliveryQuery{States: []domain.DeliveryState{
		domain.DeliveryFailed, domain.DeliveryAmbiguous}, Limit: 10000})
	if err1 == nil && err2 == nil {
		c.waiting, c.needPerson, c.resultsKnown = len(waiting), len(attention), true
	}
	if st, err := api.Status(ctx); err == nil {
		f.status = &st
		if st.Update != nil {
			c.updateVersion, c.updateURL = st.Update.Version, st.Update.URL
		}
	}
	return f, nil
}

// Close remembers the window's size and tab, then stops the GUI, a moment
// later: Fyne writes the preferences in the background.
func (s *Shell) Close() {
	s.saveWindow()
	time.AfterFunc(300*time.Millisecond, func() { fyne.Do(s.Quit) })
}

// Quit stops the GUI: OnQuit first (once), then the app.
func (s *Shell) Quit() {
	s.quitOnce.Do(func() {
		s.log.Info("ui: quit")
		if s.onQuit != nil {
			s.onQuit()
		}
		s.app.Quit()
	})
}

// Stop ends the subscription; call it after the app stopped running. If
// the app stopped without Quit (the desktop session ended), OnQuit still
// runs once.
func (s *Shell) Stop() {
	s.stop()
	s.quitOnce.Do(func() {
		if s.onQuit != nil {
			s.onQuit()
		}
	})
}

// Window is the Dashboard window.
func (s *Shell) Window() fyne.Window { return s.win }
