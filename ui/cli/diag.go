package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mesi/mconnect/app/diag"
	"github.com/mesi/mconnect/app/hub"
	"github.com/mesi/mconnect/app/store"
	"github.com/sirupsen/logrus"
)

// cmdDiag is `mconnect diag export`: the diagnostic bundle for support. It
// runs beside a running hub: it does not take the data folder's lock and
// reads the database through SQLite's WAL, which allows a reader next to
// the hub's writer.
func cmdDiag(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return usageErr("diag: say export (mconnect diag export --config FILE --out FILE.zip [--include-patient-data])")
	}
	fs := newFlags("diag export")
	path := fs.String("config", "", "config file (default: the OS user config folder)")
	out := fs.String("out", "", "the zip file to write (required)")
	patient := fs.Bool("include-patient-data", false, "keep patient names, birth dates, addresses, phones and e-mails, and add the newest orders")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *out == "" {
		return usageErr("diag export: --out FILE.zip is required")
	}
	cfg, cfgPath, err := loadConfig(*path)
	if err != nil {
		return err
	}
	if abs, err := filepath.Abs(cfgPath); err == nil {
		cfgPath = abs
	}
	dir := cfg.DataDirPath()
	log := logrus.New()
	log.SetOutput(os.Stderr)
	log.SetLevel(logrus.WarnLevel)
	log.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true, DisableColors: true})

	opts := diag.Options{
		Config:             cfg,
		ConfigPath:         cfgPath,
		DataDir:            dir,
		Version:            hub.Version,
		IncludePatientData: *patient,
		Log:                log,
	}
	st, err := openStoreForDiag(filepath.Join(dir, "mconnect.db"))
	if err != nil {
		opts.StoreErr = err
	} else {
		defer st.Close()
		opts.Store = st
	}
	rep, size, err := diag.ExportFile(context.Background(), *out, opts)
	if err != nil {
		return err
	}
	abs, aerr := filepath.Abs(*out)
	if aerr != nil {
		abs = *out
	}
	fmt.Fprintf(stdout, "diagnostic bundle: %s (%s)\n", abs, humanBytes(size))
	if rep.PatientData {
		fmt.Fprintln(stdout, "it INCLUDES patient data: send it only through a channel approved for patient data")
	} else {
		fmt.Fprintln(stdout, "patient data removed; no secrets inside")
	}
	if failed := rep.Failed(); len(failed) > 0 {
		names := make([]string, len(failed))
		for i, s := range failed {
			names[i] = s.Name
		}
		fmt.Fprintf(stdout, "left out: %s (sections.txt in the bundle says why)\n", strings.Join(names, ", "))
	}
	return nil
}

// openStoreForDiag opens an existing database; it never creates one (a
// missing database is a finding of the bundle, not something to fix).
func openStoreForDiag(path string) (*store.Store, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s (the hub has not run with this data folder)", path)
		}
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	return store.Open(path, store.Options{})
}

// humanBytes writes a size as "12.3 MB".
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
