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
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
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
}

// DashboardSize is the Dashboard window's initial size.
var DashboardSize = fyne.NewSize(900, 600)

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
// one, and the subscription to the hub's health.
type Shell struct {
	app    fyne.App
	win    fyne.Window
	gui    *gui
	desk   desktop.App // nil when window-only
	onQuit func()
	log    logrus.FieldLogger

	tabs *tabs

	quitOnce sync.Once
	stop     func()
}

// Start builds the Dashboard and, when asked for and supported, the tray,
// on a, and subscribes to h. Call it on the main goroutine before a.Run;
// call Stop after a.Run returns.
func Start(a fyne.App, h Hub, ts TraySupport, opts Options) *Shell {
	log := opts.Log
	if log == nil {
		log = logrus.StandardLogger()
	}
	s := &Shell{app: a, onQuit: opts.OnQuit, log: log}

	notice := ""
	if opts.Tray {
		d, ok := a.(desktop.App)
		switch {
		case !ok && h.Info().Attached:
			notice = txtNoTrayAttached(txtNoTrayHere())
		case !ok:
			notice = txtNoTray(txtNoTrayHere())
			log.Info("ui: no system tray on this platform, window only")
		case ts.Err != nil && h.Info().Attached:
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
	// to the hub: it opens at start and closing it quits.
	windowOnly := s.desk == nil || notice != ""

	s.win = a.NewWindow(txtWindowTitle())
	s.win.SetIcon(assets.AppIcon())
	s.gui = newGUI(h, s.desk != nil, notice, s.ShowDashboard, s.Quit)
	s.tabs = newTabs(newTabEnv(opts.API, s.win), s.gui.dash,
		notice != "" || h.Info().Problem != "" || h.Info().FirstRun)
	s.win.SetContent(s.tabs.content())
	s.win.Resize(DashboardSize)

	if s.desk != nil {
		s.desk.SetSystemTrayIcon(s.gui.tray.icon())
		s.desk.SetSystemTrayMenu(s.gui.tray.menu)
		s.gui.trayChanged = func(labelChanged, iconChanged bool) {
			if iconChanged {
				s.desk.SetSystemTrayIcon(s.gui.tray.icon())
			}
			if labelChanged {
				s.gui.tray.menu.Refresh()
			}
		}
	}
	if windowOnly {
		s.win.SetMaster()
		s.win.SetCloseIntercept(s.Quit)
	} else {
		s.win.SetCloseIntercept(s.hideDashboard)
	}

	stopHealth, stopTabs := s.gui.start(), s.tabs.start()
	s.stop = func() { stopTabs(); stopHealth() }
	if opts.ShowDashboard || windowOnly {
		s.win.Show()
		s.tabs.setVisible(true)
	}
	return s
}

// ShowDashboard brings the Dashboard to the front.
func (s *Shell) ShowDashboard() {
	s.win.Show()
	s.tabs.setVisible(true)
	s.win.RequestFocus()
}

// hideDashboard hides the window (the tray stays); what only the window
// needs stops.
func (s *Shell) hideDashboard() {
	s.tabs.setVisible(false)
	s.win.Hide()
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
