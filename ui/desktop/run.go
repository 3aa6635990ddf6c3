package desktop

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/systray"
	"github.com/go-gl/glfw/v3.4/glfw"
	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/assets"
	"github.com/mesi/mconnect/ui/desktop/fonts"
	"github.com/mesi/mconnect/ui/desktop/setup"
	"github.com/mesi/mconnect/ui/desktop/view"
)

// Run creates the Fyne application with the tray icon (when asked for and
// possible) and the Dashboard, and blocks until the person quits. It must
// be called from the main goroutine.
func Run(h Hub, opts Options) error {
	if h == nil {
		return errors.New("ui: run: no hub")
	}
	log := opts.Log
	if log == nil {
		log = logrus.StandardLogger()
	}
	if err := view.AddTranslations(); err != nil {
		log.WithError(err).Warn("ui: showing English texts")
	}
	if err := setup.Register(); err != nil {
		log.WithError(err).Warn("ui: showing the setup screens in English")
	}
	// Before the app exists: see view.CheckTray.
	var ts view.TraySupport
	if opts.traySupport != nil {
		ts = *opts.traySupport
	} else {
		ts = view.CheckTray(log)
	}
	prepareProfile(log)
	startPprof(log)
	// Before any text is measured: see package fonts.
	if err := fonts.Install(); err != nil {
		log.WithError(err).Warn("ui: fonts")
	}

	a := app.NewWithID(AppID)
	if code := a.Preferences().String(prefLanguage); code != "" {
		if err := view.SetLanguage(code); err != nil {
			log.WithError(err).Warn("ui: language")
		}
		if opts.Setup != nil {
			opts.Setup.Language = code
		}
	}
	a.SetIcon(assets.AppIcon())
	if md := a.Metadata(); md.Name == "" {
		// Built without `fyne package` (no FyneApp.toml baked in): the tray
		// would be titled with the bare app ID.
		md.ID, md.Name = AppID, "mCONNECT Hub"
		app.SetMetadata(md)
	}
	idle := newIdleLoop(idlePeriod, fyne.Do)
	wait, wake := windowWait()
	calm := newCalmLoop(fyne.Do, wait)
	view.SetWake(calm.wakeWith(wake))
	trim := &trimmer{}
	onQuit := opts.OnQuit
	if opts.parent != nil {
		onQuit = endAfterQuit(onQuit, quitGrace, log, exitProcess)
	}
	shell := view.Start(a, h, ts, view.Options{
		ShowDashboard: opts.ShowDashboard,
		Tab:           opts.Tab,
		Pair:          opts.Pair,
		Setup:         opts.Setup,
		Tray:          opts.Tray,
		Log:           log,
		OnQuit:        onQuit,
		API:           opts.API,
		SetTooltip:    systray.SetTooltip,
		Hidden:        func() { trim.soon(); calm.hidden(); idle.hidden() },
		// Once shown, what building the window left behind (fonts parsed,
		// layouts measured: about as much garbage as the window keeps)
		// goes back to the system.
		Shown: func() { idle.shown(); calm.shown(); trim.soon() },
		Trim:  trim.soon,
		Child: opts.parent != nil,
	})
	if opts.parent != nil {
		go opts.parent.serve(shell)
	}
	a.Lifecycle().SetOnStarted(func() { idle.started(); calm.started() })
	a.Lifecycle().SetOnStopped(func() { calm.stop(); idle.shown() })
	a.Run()
	calm.stop()
	idle.shown()
	shell.Stop()
	return nil
}

// windowWait is how the calm loop waits for the window system: on the X
// display connection through Go's poller where it can (xWaiter), else
// inside GLFW.
func windowWait() (wait func(time.Duration), wake func()) {
	var (
		once sync.Once
		xw   atomic.Pointer[xWaiter]
	)
	wait = func(d time.Duration) {
		once.Do(func() { xw.Store(newXWaiter()) }) // on Fyne's goroutine, GLFW running
		if w := xw.Load(); w != nil {
			w.wait(d)
			return
		}
		glfw.WaitEventsTimeout(d.Seconds())
	}
	wake = func() {
		if w := xw.Load(); w != nil {
			w.wake()
			return
		}
		glfw.PostEmptyEvent()
	}
	return wait, wake
}

// prefLanguage is the preference holding the language chosen in the
// wizard or Settings ("": as the system).
const prefLanguage = "language"

// prepareProfile creates what a fresh desktop profile lacks before Fyne
// and the graphics stack look for it: Fyne's cache folder (Fyne creates only
// its last level) and, when the session has none, a private runtime
// folder (XDG_RUNTIME_DIR), which Mesa and Wayland complain about
// otherwise.
func prepareProfile(log logrus.FieldLogger) {
	if dir, err := os.UserCacheDir(); err == nil {
		if err := os.MkdirAll(filepath.Join(dir, "fyne", AppID), 0o700); err != nil {
			log.WithError(err).Debug("ui: cache folder")
		}
	}
	if os.Getenv("XDG_RUNTIME_DIR") == "" {
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("mconnect-runtime-%d", os.Getuid()))
		if err := os.MkdirAll(dir, 0o700); err == nil && os.Chmod(dir, 0o700) == nil {
			os.Setenv("XDG_RUNTIME_DIR", dir)
		}
	}
}
