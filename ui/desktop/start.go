package desktop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/autostart"
	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/hub"
	"github.com/mesi/mconnect/app/secrets"
	"github.com/mesi/mconnect/connectors/registry"
	"github.com/mesi/mconnect/ui/desktop/view"
)

// guiHub adapts a hub reached through the control API (in this process, or
// a running `mconnect serve` the window attached to) — or its absence: no
// config yet, or a hub that could not start — to what the views need.
type guiHub struct {
	api  control.API // nil when there is no hub
	info Info

	desktop bool // the hub runs inside another desktop application

	mu      sync.Mutex
	health  []domain.Health
	standin []domain.Health
}

func (g *guiHub) Health() []domain.Health {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.api == nil {
		return append([]domain.Health(nil), g.standin...)
	}
	return append([]domain.Health(nil), g.health...)
}

// SubscribeHealth follows the hub's change events: the GUI never polls.
func (g *guiHub) SubscribeHealth(fn func([]domain.Health)) func() {
	if g.api == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := g.api.Subscribe(ctx)
	if err != nil {
		cancel()
		return func() {}
	}
	go func() {
		// What changed between attach and this subscription was published
		// before it: start from a fresh snapshot.
		sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
		st, err := g.api.Status(sctx)
		scancel()
		if err == nil {
			g.mu.Lock()
			g.health = st.Health
			g.mu.Unlock()
			fn(st.Health)
		}
		for ev := range ch {
			if ev.Kind != control.EventHealth {
				continue
			}
			g.mu.Lock()
			g.health = ev.Health
			g.mu.Unlock()
			fn(ev.Health)
		}
	}()
	return cancel
}

func (g *guiHub) Info() Info { return g.info }

// attach reads the hub's status into the adapter.
func (g *guiHub) attach(ctx context.Context, api control.API) error {
	st, err := api.Status(ctx)
	if err != nil {
		return err
	}
	g.api = api
	g.desktop = st.Desktop
	g.health = st.Health
	g.info.HubName, g.info.DataDir = st.HubName, st.DataDir
	g.info.LANAddress, g.info.TLSFingerprint = st.LANAddress, st.Fingerprint
	if st.ConfigPath != "" {
		g.info.ConfigPath = st.ConfigPath
	}
	return nil
}

// StartOptions are what the command line hands to Main.
type StartOptions struct {
	ConfigPath    string // absolute
	ShowDashboard bool
	// Tab is the Dashboard tab to open (worklist, results, tablets,
	// groups, connections, log, settings); empty: the last one.
	Tab string
	// Pair shows a pairing code on the Tablets tab at start.
	Pair bool
	// DashboardProcess runs the Dashboard window only, for the tray
	// process that started this one (see runTray).
	DashboardProcess bool
	Stderr           io.Writer
}

// Main runs the desktop application until the person quits. When a hub
// already runs on the configured data folder (`mconnect serve`, or another
// window), the window attaches to it through its control endpoint;
// otherwise it starts the hub configured at opts.ConfigPath in this
// process, or explains why it cannot.
func Main(opts StartOptions) error {
	p, stderr := opts.ConfigPath, opts.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	g := &guiHub{info: Info{Version: hub.Version, ConfigPath: p, HubName: "mCONNECT Hub", DataDir: config.DefaultDataDir()}}
	runner := hub.NewRunner(hub.Options{ConfigPath: p, Secrets: secrets.New(), LogStderr: stderr, Desktop: true})
	defer runner.Stop()
	cfg, err := registry.Load(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		g.info.FirstRun = true
		// The window tells IT to write the config there with a shell
		// redirect, which needs the folder to exist.
		os.MkdirAll(filepath.Dir(p), 0o700)
		g.standin = []domain.Health{{Component: "config", Code: "no-config", Severity: domain.SeverityWarning,
			Args: map[string]string{"path": p}}}
	case err != nil:
		g.info.Problem = err.Error()
		g.standin = []domain.Health{{Component: "config", Code: "invalid-config", Severity: domain.SeverityError, Detail: err.Error()}}
	default:
		g.info.HubName = cfg.Hub.Name
		g.info.DataDir = cfg.DataDirPath()
		if opts.DashboardProcess {
			return runDashboardProcess(g, opts)
		}
		if c, derr := control.Dial(cfg.DataDirPath()); derr == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			aerr := g.attach(ctx, c)
			cancel()
			if aerr == nil && g.desktop {
				// Already open in the tray: bring its window forward.
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				serr := c.Show(ctx, opts.Tab)
				cancel()
				c.Close()
				if serr != nil {
					return fmt.Errorf("mCONNECT Hub already runs but did not come forward: %w", serr)
				}
				fmt.Fprintln(stderr, "mCONNECT Hub is already running; its window was brought to the front.")
				return nil
			}
			if aerr == nil {
				g.info.Attached = true
				logrus.StandardLogger().WithField("dataDir", cfg.DataDirPath()).Info("attached to the hub running on this data folder")
				break
			}
		}
		// A failed start keeps the window open and says why.
		if herr := runner.Start(cfg); herr != nil {
			g.info.Problem = herr.Error()
			g.standin = []domain.Health{{Component: "hub", Code: "start-failed", Severity: domain.SeverityError, Detail: herr.Error()}}
			break
		}
		_ = g.attach(context.Background(), runner)
	}
	var log logrus.FieldLogger = logrus.StandardLogger()
	if h := runner.Hub(); h != nil {
		log = h.Log()
	}
	if opts.DashboardProcess {
		// No configuration, or one that cannot be read: the tray process
		// that started this one has no hub either.
		return errors.New("the Dashboard process needs the tray process's running hub")
	}
	var ts *view.TraySupport
	if g.api != nil && !g.info.Attached && trayProcess() {
		// See view.CheckTray: before any Fyne app exists.
		t := view.CheckTray(log)
		if t.Err == nil && t.Host {
			return runTray(g, runner, opts, log)
		}
		ts = &t
	}
	deps := setupDeps(p, g.info.DataDir, log)
	deps.SetLanguage = func(code string) {
		// Texts on screen are built once: the window starts again in the
		// new language (the hub with it, when it runs in this process).
		rememberLanguage(code)
		log.WithField("language", code).Info("ui: language changed; starting again")
		runner.Stop()
		time.Sleep(300 * time.Millisecond) // Fyne writes preferences in the background, debounced by 100 ms
		if err := relaunch("--config", p, "--tab", "settings"); err != nil {
			log.WithError(err).Error("ui: could not start again")
		}
	}
	err = Run(g, Options{ShowDashboard: opts.ShowDashboard, Tab: opts.Tab, Pair: opts.Pair, Setup: deps, Tray: true, Log: log, OnQuit: func() { go runner.Stop() },
		API: g.api, traySupport: ts})
	if err != nil {
		return fmt.Errorf("GUI: %w", err)
	}
	return nil
}

// setupDeps are the Settings tab's and the wizard's parts; the caller sets
// SetLanguage.
func setupDeps(p, dataDir string, log logrus.FieldLogger) *view.SetupDeps {
	deps := &view.SetupDeps{ConfigPath: p, DataDir: dataDir, Secrets: secrets.New(),
		Configured: func() {
			// The hub starts with the new file in a fresh process, which
			// opens the Tablets tab with a pairing code.
			log.Info("ui: configuration saved; starting the hub")
			if err := relaunch("--config", p, "--tab", "tablets", "--pair"); err != nil {
				log.WithError(err).Error("ui: could not start again")
			}
		}}
	if exe, err := os.Executable(); err == nil {
		deps.Autostart = autostart.New(exe)
	}
	deps.ApplyLanguage = func(code string) {
		rememberLanguage(code)
		if err := view.SetLanguage(code); err != nil {
			log.WithError(err).Warn("ui: language")
		}
	}
	return deps
}

// rememberLanguage keeps the language chosen in the app's preferences.
func rememberLanguage(code string) {
	if a := fyne.CurrentApp(); a != nil {
		a.Preferences().SetString(prefLanguage, code)
	}
}
