package desktop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/hub"
	"github.com/mesi/mconnect/app/secrets"
	"github.com/mesi/mconnect/connectors/registry"
)

// guiHub adapts the running hub (or its absence: no config yet, or a hub
// that could not start) to what the GUI needs.
type guiHub struct {
	hub  *hub.Hub // nil when not running
	info Info
	// without a hub: one component explaining why
	mu      sync.Mutex
	standin []domain.Health
}

func (g *guiHub) Health() []domain.Health {
	if g.hub != nil {
		return g.hub.Health()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]domain.Health(nil), g.standin...)
}

func (g *guiHub) SubscribeHealth(fn func([]domain.Health)) func() {
	if g.hub != nil {
		return g.hub.SubscribeHealth(fn)
	}
	return func() {}
}

func (g *guiHub) Info() Info { return g.info }

// StartOptions are what the command line hands to Main.
type StartOptions struct {
	ConfigPath    string // absolute
	ShowDashboard bool
	Stderr        io.Writer
}

// Main starts the hub configured at opts.ConfigPath (or explains why it
// cannot) and runs the desktop application until the person quits.
func Main(opts StartOptions) error {
	p, stderr := opts.ConfigPath, opts.Stderr
	g := &guiHub{info: Info{Version: hub.Version, ConfigPath: p, HubName: "mCONNECT Hub", DataDir: config.DefaultDataDir()}}
	cfg, err := registry.Load(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		g.info.FirstRun = true
		// The window tells IT to write the config there with a shell
		// redirect, which needs the folder to exist.
		os.MkdirAll(filepath.Dir(p), 0o700)
		g.standin = []domain.Health{{Component: "config", Code: "no-config", Title: "Not configured yet",
			Text: "No configuration file at " + p, Severity: domain.SeverityWarning}}
	case err != nil:
		g.info.Problem = err.Error()
		g.standin = []domain.Health{{Component: "config", Code: "invalid-config", Title: "Configuration is invalid",
			Text: err.Error(), Severity: domain.SeverityError}}
	default:
		g.info.HubName = cfg.Hub.Name
		g.info.DataDir = cfg.DataDirPath()
		h, herr := hub.New(cfg, hub.Options{ConfigPath: p, Secrets: secrets.New(), LogStderr: stderr})
		if herr != nil {
			g.info.Problem = herr.Error()
			g.standin = []domain.Health{{Component: "hub", Code: "start-failed", Title: "The hub could not start",
				Text: herr.Error(), Severity: domain.SeverityError}}
		} else {
			g.hub = h
			g.info.TLSFingerprint = h.Fingerprint()
			g.info.LANAddress = lanAddress(cfg)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	if g.hub != nil {
		go func() {
			defer close(done)
			g.hub.Run(ctx)
		}()
	} else {
		close(done)
	}
	var log logrus.FieldLogger = logrus.StandardLogger()
	if g.hub != nil {
		log = g.hub.Log()
	}
	err = Run(g, Options{ShowDashboard: opts.ShowDashboard, Tray: true, Log: log, OnQuit: cancel})
	cancel()
	<-done
	if g.hub != nil {
		g.hub.Close()
	}
	if err != nil {
		return fmt.Errorf("GUI: %w", err)
	}
	return nil
}

func lanAddress(cfg *config.Config) string {
	scheme := "https"
	if cfg.Device.PlainHTTP {
		scheme = "http"
	}
	return scheme + "://" + cfg.Device.Listen
}
