package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/hub"
	"github.com/mesi/mconnect/app/secrets"
	"github.com/mesi/mconnect/app/store"
)

// startHub builds the hub from a loaded config, mapping failures to exit codes:
// 2 for what the config or the installation must fix, 1 for the rest.
func startHub(cfg *config.Config, path string, stderr io.Writer) (*hub.Runner, error) {
	r := hub.NewRunner(hub.Options{ConfigPath: path, Secrets: secrets.New(), LogStderr: stderr})
	err := r.Start(cfg)
	switch {
	case err == nil:
		return r, nil
	case errors.Is(err, hub.ErrNotBuilt), errors.Is(err, store.ErrNewerSchema), errors.Is(err, store.ErrCorrupt):
		return nil, usageErr("%v", err)
	case errors.Is(err, hub.ErrAlreadyRunning):
		return nil, &exitError{code: 1, err: err}
	}
	var ce *config.KeyError
	if errors.As(err, &ce) {
		return nil, usageErr("config %s: %v", path, err)
	}
	return nil, err
}

func cmdServe(args []string, stderr io.Writer) error {
	fs := newFlags("serve")
	path := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, p, err := loadConfig(*path)
	if err != nil {
		return err
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	// The hub alone: ingest allocates for every message while the heap it
	// keeps stays small, so garbage is collected less often than Go's
	// default (a tenth less CPU per order), within a memory limit.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(256 << 20)
	}
	if prof := os.Getenv("MCONNECT_CPUPROFILE"); prof != "" {
		// For measuring (docs/BENCHMARKS.md): a CPU profile of the whole run.
		f, err := os.Create(prof)
		if err != nil {
			return fmt.Errorf("MCONNECT_CPUPROFILE: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("MCONNECT_CPUPROFILE: %w", err)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	r, err := startHub(cfg, p, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	<-ctx.Done()
	r.Stop()
	return nil
}
