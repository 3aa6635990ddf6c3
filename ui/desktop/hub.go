// Package desktop is the desktop face of mCONNECT Hub: the system tray icon whose
// colour follows the hub's health, and the Dashboard window.
//
// The GUI reaches the running hub only through the Hub interface defined
// here. Run is the only code that creates the Fyne application; everything
// it shows is built in ui/desktop/view, which Fyne's test driver exercises
// without a display.
package desktop

import (
	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/ui/desktop/view"
)

// AppID is the application's unique ID: Fyne keys preferences and storage
// by it, and installers register it.
const AppID = "com.mesi.mconnect"

// Hub is what the GUI needs from the running hub.
type Hub interface {
	// Health returns the current state of every component.
	Health() []domain.Health
	// SubscribeHealth calls fn with the state of every component on every
	// change, from any goroutine, until cancel is called. fn does not
	// block and does not keep the slice.
	SubscribeHealth(fn func([]domain.Health)) (cancel func())
	// Info describes the hub; the GUI reads it once at start.
	Info() Info
}

// Info is what the Dashboard shows about the hub itself: Version, HubName,
// ConfigPath, DataDir, LANAddress, TLSFingerprint, FirstRun (no
// configuration file yet) and Problem (why the hub could not start).
type Info = view.Info

// Options tune Run.
type Options struct {
	// ShowDashboard opens the Dashboard at start. Without a tray the
	// Dashboard always opens.
	ShowDashboard bool
	// Tab is the Dashboard tab to open at start (empty: the last one).
	Tab string
	// Pair shows a pairing code on the Tablets tab at start.
	Pair bool
	// Setup adds the Settings tab and the first-start wizard.
	Setup *view.SetupDeps
	// Tray asks for a system tray icon. Run falls back to window-only, with
	// a notice in the Dashboard, when the desktop cannot show one (on
	// Linux: no D-Bus session bus).
	Tray bool
	// Log receives the GUI's log lines; nil means logrus' standard logger.
	Log logrus.FieldLogger
	// OnQuit, if set, is called once when the GUI stops (Quit in the tray
	// menu, or closing the Dashboard when there is no tray), before Run
	// returns. Use it to stop the hub.
	OnQuit func()
	// API is the hub's control API the Dashboard's tabs work through
	// (worklist, tablets ...); nil when no hub runs.
	API control.API

	// traySupport is CheckTray's answer when Main asked already.
	traySupport *view.TraySupport
	// parent, when set, makes this the Dashboard process of a tray
	// process (see runTray): commands come through it.
	parent *parentLink
}
