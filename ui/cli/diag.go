package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/diag"
	"github.com/mesi/mconnect/app/hub"
	"github.com/mesi/mconnect/app/store"
	"github.com/sirupsen/logrus"
)

// cmdDiag is `mconnect diag export`: the diagnostic bundle for support.
// With a hub running on the data folder, the hub writes it (through its
// control endpoint) and adds its live health; otherwise the command reads
// the data folder itself, without taking its lock (SQLite's WAL allows a
// reader beside a writer).
func cmdDiag(args []string, stdout io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		return groupHelp("diag", args, "say export")
	}
	if args[0] != "export" {
		return usageErr("diag: unknown subcommand %q (export)\n%s", args[0], synopsis("diag"))
	}
	fs := newFlags("diag export")
	path := configFlag(fs)
	out := fs.String("out", "", "the zip `FILE` to write (required)")
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
	outPath, err := filepath.Abs(*out)
	if err != nil {
		outPath = *out
	}
	var rep diag.Report
	var size int64
	// A running hub writes the bundle itself, with its live health.
	if c, derr := control.Dial(cfg.DataDirPath()); derr == nil {
		defer c.Close()
		res, err := c.ExportDiagnostics(context.Background(), control.DiagRequest{Out: outPath, IncludePatientData: *patient})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintln(stdout, "written by the running hub, with its live health")
		rep.PatientData = *patient
		for _, s := range res.Sections {
			rep.Sections = append(rep.Sections, diag.Section{Name: s.Name, Err: sectionErr(s.Problem)})
		}
		if fi, err := os.Stat(outPath); err == nil {
			size = fi.Size()
		}
	} else {
		if rep, size, err = exportOffline(cfg, cfgPath, outPath, *patient); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "diagnostic bundle: %s (%s)\n", outPath, humanBytes(size))
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

// exportOffline writes the bundle from the data folder, without a hub.
func exportOffline(cfg *config.Config, cfgPath, out string, patient bool) (diag.Report, int64, error) {
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
		IncludePatientData: patient,
		Log:                log,
	}
	st, err := openStoreForDiag(filepath.Join(dir, "mconnect.db"))
	if err != nil {
		opts.StoreErr = err
	} else {
		defer st.Close()
		opts.Store = st
	}
	return diag.ExportFile(context.Background(), out, opts)
}

func sectionErr(problem string) error {
	if problem == "" {
		return nil
	}
	return errors.New(problem)
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
