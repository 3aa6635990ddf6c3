// Package diag builds the diagnostic bundle: one zip a clinic sends to
// support, with the hub's version and platform, the redacted config, store
// statistics and queue states, recent deliveries with the EHR's answers,
// the audit log, the log files, recent warnings and errors, and the state
// of the exchange folders.
//
// The bundle never holds a secret: secrets are not resolved at all (the
// config's keyring:/env: references are copied as references), and any
// value under a key named like token/password/secret/authorization is
// replaced, in the config as in the logs. Patient data (names, birth dates,
// addresses, phones, e-mails) is removed from everything copied unless
// Options.IncludePatientData is set; patient, order and result IDs are kept.
//
// Like Syncthing's support bundle, a section that fails (the database
// cannot be opened, the logs folder is missing) is recorded in
// sections.txt with its error and the bundle is still produced.
package diag

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/sirupsen/logrus"
)

// Limits of what the bundle copies.
const (
	// MaxDeliveries is how many of the newest deliveries are included.
	MaxDeliveries = 200
	// MaxAudit is how many of the newest audit entries are included.
	MaxAudit = 200
	// MaxOrders is how many of the newest orders are included (only with
	// patient data).
	MaxOrders = 100
	// MaxErrorLines is how many warning/error log lines errors.txt holds.
	MaxErrorLines = 100
	// DefaultMaxLogBytes caps the log files copied, newest first.
	DefaultMaxLogBytes = 20 << 20
	// MaxErrorNotes is how many .error notes per folder are included.
	MaxErrorNotes = 20
	// maxNoteBytes caps one .error note.
	maxNoteBytes = 16 << 10
)

// Store is what the bundle reads from the hub's database; *store.Store
// satisfies it.
type Store interface {
	Stats(ctx context.Context) (store.Stats, error)
	OutboxStatus(ctx context.Context, now time.Time, also ...string) ([]store.QueueStatus, error)
	Groups(ctx context.Context) ([]domain.Group, error)
	Devices(ctx context.Context) ([]domain.Device, error)
	Deliveries(ctx context.Context, f store.DeliveryFilter) ([]domain.Delivery, error)
	Attempts(ctx context.Context, deliveryID int64) ([]domain.Attempt, error)
	AuditLog(ctx context.Context, limit int) ([]domain.AuditEntry, error)
	Orders(ctx context.Context, f store.OrderFilter) ([]domain.Order, error)
}

var _ Store = (*store.Store)(nil)

// Options say what goes into a bundle.
type Options struct {
	// Config is the hub's config (nil: config.json says why, with ConfigErr).
	Config *config.Config
	// ConfigErr is why Config is missing.
	ConfigErr error
	// ConfigPath is where the config was read from (shown, not read).
	ConfigPath string
	// DataDir is the hub's data folder (logs are read from DataDir/logs).
	DataDir string
	// Store is the opened database; nil when it could not be opened, and
	// then StoreErr says why.
	Store    Store
	StoreErr error
	// Version is the hub's version.
	Version string
	// IncludePatientData keeps patient names, birth dates, addresses,
	// phones and e-mails and adds the newest orders (orders.json).
	IncludePatientData bool
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Log receives a warning for every failing section (nil: none).
	Log logrus.FieldLogger
	// MaxLogBytes caps the log files copied (0: DefaultMaxLogBytes).
	MaxLogBytes int64
	// Health is the running hub's live health (nil: the hub does not run
	// or was not asked).
	Health []domain.Health
	// Storage is the disk and data sizes with the last and next clean-up
	// (nil: not known; written as storage.json).
	Storage any
}

// Section is one part of the bundle and how it went.
type Section struct {
	Name string
	// Files are the zip entries the section wrote.
	Files []string
	// Err is why the section failed (nil: ok).
	Err error
	// Note is a remark on a section that worked (for example "not included").
	Note string
}

// Report says what a bundle holds.
type Report struct {
	Sections []Section
	// PatientData is whether patient data was included.
	PatientData bool
}

// Failed returns the sections that failed.
func (r Report) Failed() []Section {
	var out []Section
	for _, s := range r.Sections {
		if s.Err != nil {
			out = append(out, s)
		}
	}
	return out
}

// Files returns every zip entry written, in order.
func (r Report) Files() []string {
	var out []string
	for _, s := range r.Sections {
		out = append(out, s.Files...)
	}
	return out
}

// bundle is one export in progress.
type bundle struct {
	ctx  context.Context
	o    Options
	now  time.Time
	zw   *zip.Writer
	red  redactor
	werr error // the first error writing the zip itself: fatal
	rep  Report
	cur  *Section
	// logs found by the logs section, for the errors section.
	logFiles []logFile
	logErr   error
}

// errWrite marks a failure of the output itself (not of a section).
type errWrite struct{ err error }

func (e errWrite) Error() string { return e.err.Error() }
func (e errWrite) Unwrap() error { return e.err }

// Export writes the bundle as a zip to w. A failing section is recorded in
// the Report and in sections.txt; the error is only for a failure writing
// w (or a cancelled ctx).
func Export(ctx context.Context, w io.Writer, o Options) (Report, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxLogBytes <= 0 {
		o.MaxLogBytes = DefaultMaxLogBytes
	}
	b := &bundle{
		ctx: ctx, o: o, now: o.Now(), zw: zip.NewWriter(w),
		red: redactor{keepPatient: o.IncludePatientData},
		rep: Report{PatientData: o.IncludePatientData},
	}
	sections := []struct {
		name string
		fn   func() error
	}{
		{"redaction", b.loadKnown},
		{"readme", b.readme},
		{"version", b.version},
		{"health", b.health},
		{"storage", b.storage},
		{"config", b.config},
		{"store", b.store},
		{"deliveries", b.deliveries},
		{"audit", b.audit},
		{"orders", b.orders},
		{"logs", b.logs},
		{"errors", b.errorLines},
		{"folders", b.folders},
	}
	for _, s := range sections {
		if err := ctx.Err(); err != nil {
			return b.rep, fmt.Errorf("diag: %w", err)
		}
		b.rep.Sections = append(b.rep.Sections, Section{Name: s.name})
		b.cur = &b.rep.Sections[len(b.rep.Sections)-1]
		err := s.fn()
		if b.werr != nil {
			return b.rep, fmt.Errorf("diag: write the bundle: %w", b.werr)
		}
		if err != nil {
			b.cur.Err = err
			if o.Log != nil {
				o.Log.WithError(err).WithField("section", s.name).Warn("diagnostic bundle: section failed; the bundle is produced without it")
			}
		}
	}
	b.cur = &Section{}
	if err := b.put("sections.txt", b.sectionsText()); err != nil {
		return b.rep, fmt.Errorf("diag: write the bundle: %w", err)
	}
	if err := b.zw.Close(); err != nil {
		return b.rep, fmt.Errorf("diag: write the bundle: %w", err)
	}
	return b.rep, nil
}

// ExportFile writes the bundle to path atomically (a temp file beside it,
// renamed when complete) and returns its size.
func ExportFile(ctx context.Context, path string, o Options) (Report, int64, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".mconnect-diag-*.tmp")
	if err != nil {
		return Report{}, 0, fmt.Errorf("diag: create %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	rep, err := Export(ctx, f, o)
	if err != nil {
		f.Close()
		return rep, 0, fmt.Errorf("diag: %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return rep, 0, fmt.Errorf("diag: sync %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return rep, 0, fmt.Errorf("diag: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return rep, 0, fmt.Errorf("diag: close %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return rep, 0, fmt.Errorf("diag: %w", err)
	}
	return rep, fi.Size(), nil
}

// create starts a zip entry for the current section. Errors writing it are
// errors of the output (b.werr).
func (b *bundle) create(name string) (io.Writer, error) {
	w, err := b.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: b.now})
	if err != nil {
		b.werr = err
		return nil, errWrite{err}
	}
	b.cur.Files = append(b.cur.Files, name)
	return &trackWriter{w: w, b: b}, nil
}

// trackWriter records a write failure of the output in the bundle.
type trackWriter struct {
	w io.Writer
	b *bundle
}

func (t *trackWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if err != nil && t.b.werr == nil {
		t.b.werr = err
	}
	return n, err
}

// put writes a whole entry.
func (b *bundle) put(name string, data []byte) error {
	w, err := b.create(name)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return errWrite{err}
	}
	return nil
}

// putJSON writes v as an indented JSON entry. v is encoded before the
// entry is created, so a failing section leaves no half entry.
// storage writes the disk space, the data's sizes and the clean-up's last
// and next run, as the running hub knows them.
func (b *bundle) storage() error {
	if b.o.Storage == nil {
		return b.put("storage.json", []byte("null\n"))
	}
	return b.putJSON("storage.json", b.o.Storage)
}

func (b *bundle) putJSON(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	return b.put(name, append(data, '\n'))
}

// loadKnown fills the redaction dictionary with the patients of the
// newest orders, so their names are removed even from free text.
func (b *bundle) loadKnown() error {
	if b.o.IncludePatientData {
		b.cur.Note = "patient data kept; secrets removed"
		return nil
	}
	files := b.loadRejectedNames()
	if b.o.Store == nil {
		b.cur.Note = fmt.Sprintf("patient data removed by pattern only (no database for known names); names of %d rejected files removed", files)
		return nil
	}
	list, err := b.o.Store.Orders(b.ctx, store.OrderFilter{Limit: maxKnownOrders})
	if err != nil {
		return fmt.Errorf("known patient names: %w (patient data removed by pattern only)", err)
	}
	for _, o := range list {
		b.red.addPatient(o.Patient)
	}
	b.cur.Note = fmt.Sprintf("patient data removed; names of %d orders' patients and of %d rejected files removed from free text", len(list), files)
	return nil
}

func (b *bundle) readme() error {
	var s strings.Builder
	fmt.Fprintf(&s, "mCONNECT Hub diagnostic bundle\n\n")
	fmt.Fprintf(&s, "created:      %s\n", b.now.Format(time.RFC3339))
	fmt.Fprintf(&s, "hub version:  %s\n", b.o.Version)
	fmt.Fprintf(&s, "config file:  %s\n", b.o.ConfigPath)
	fmt.Fprintf(&s, "data folder:  %s\n", b.o.DataDir)
	if b.o.IncludePatientData {
		fmt.Fprintf(&s, "patient data: INCLUDED (names, birth dates, addresses are in logs, notes and orders.json)\n")
	} else {
		fmt.Fprintf(&s, "patient data: removed (names, birth dates, addresses, phones, e-mails replaced by %q;\n", redactedPatient)
		fmt.Fprintf(&s, "              patient, order and result IDs are kept)\n")
	}
	fmt.Fprintf(&s, "secrets:      never included; keyring:/env: references are shown as references,\n")
	fmt.Fprintf(&s, "              values under token/password/secret keys are replaced by %q\n\n", redactedSecret)
	s.WriteString(`contents:
  README.txt        this file
  version.json      hub version, Go version, OS/arch, host name, runtime
  config.json       the config, redacted
  store.json        schema version, counts, outbox state per connection, tablet groups, tablets
  deliveries.json   the newest deliveries with every attempt (errors and the EHR's answers)
  audit.json        the newest audit log entries (manual actions)
  orders.json       the newest orders (only when patient data is included)
  logs/             the log files, newest first, up to a size cap
  errors.txt        the newest warning and error log lines
  folders.json      each exchange folder: exists, writable, files pending, archived, rejected,
                    and the newest .error notes
  sections.txt      each section: ok, or the error it met (a failed section is left out)
`)
	return b.put("README.txt", []byte(s.String()))
}

func (b *bundle) version() error {
	host, herr := os.Hostname()
	v := map[string]any{
		"hubVersion":   b.o.Version,
		"goVersion":    runtime.Version(),
		"os":           runtime.GOOS,
		"arch":         runtime.GOARCH,
		"hostname":     host,
		"generatedAt":  b.now.Format(time.RFC3339),
		"configPath":   b.o.ConfigPath,
		"dataDir":      b.o.DataDir,
		"numCPU":       runtime.NumCPU(),
		"gomaxprocs":   runtime.GOMAXPROCS(0),
		"pid":          os.Getpid(),
		"patientData":  b.o.IncludePatientData,
		"numGoroutine": runtime.NumGoroutine(),
	}
	if herr != nil {
		v["hostnameError"] = herr.Error()
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		build := map[string]string{"path": bi.Path, "module": bi.Main.Version}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision", "vcs.time", "vcs.modified", "CGO_ENABLED", "GOOS", "GOARCH", "-race":
				build[s.Key] = s.Value
			}
		}
		v["build"] = build
	}
	return b.putJSON("version.json", v)
}

func (b *bundle) config() error {
	if b.o.Config == nil {
		if b.o.ConfigErr != nil {
			return fmt.Errorf("config %s: %w", b.o.ConfigPath, b.o.ConfigErr)
		}
		return fmt.Errorf("no config given")
	}
	data, err := json.Marshal(b.o.Config)
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	var g any
	if err := json.Unmarshal(data, &g); err != nil {
		return fmt.Errorf("decode config: %w", err)
	}
	return b.putJSON("config.json", b.red.configValue("", g))
}

// errNoStore is the error of the sections that need the database.
func (b *bundle) errNoStore() error {
	if b.o.StoreErr != nil {
		return fmt.Errorf("database not available: %w", b.o.StoreErr)
	}
	return errors.New("database not available")
}

func (b *bundle) store() error {
	st := b.o.Store
	if st == nil {
		return b.errNoStore()
	}
	ctx := b.ctx
	out := map[string]any{}
	var errs []error
	if s, err := st.Stats(ctx); err != nil {
		errs = append(errs, err)
	} else {
		out["schemaVersion"] = s.SchemaVersion
		out["stats"] = s
	}
	var also []string
	if b.o.Config != nil && b.o.Config.EHR != "" {
		also = append(also, b.o.Config.EHR)
	}
	if q, err := st.OutboxStatus(ctx, b.now, also...); err != nil {
		errs = append(errs, err)
	} else {
		for i := range q {
			q[i].LastError = b.red.text(q[i].LastError)
		}
		out["outbox"] = q
	}
	if g, err := st.Groups(ctx); err != nil {
		errs = append(errs, err)
	} else {
		out["groups"] = g
	}
	// domain.Device holds no token hash: the store keeps it in a column
	// the device list does not read.
	if d, err := st.Devices(ctx); err != nil {
		errs = append(errs, err)
	} else {
		out["devices"] = d
	}
	if len(out) == 0 {
		return errors.Join(errs...)
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		out["errors"] = msgs
	}
	if err := b.putJSON("store.json", out); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// deliveryWithAttempts is one delivery as deliveries.json shows it.
type deliveryWithAttempts struct {
	domain.Delivery
	History      []domain.Attempt `json:"history"`
	HistoryError string           `json:"historyError,omitempty"`
}

func (b *bundle) deliveries() error {
	if b.o.Store == nil {
		return b.errNoStore()
	}
	ds, err := b.o.Store.Deliveries(b.ctx, store.DeliveryFilter{Limit: MaxDeliveries})
	if err != nil {
		return err
	}
	out := make([]deliveryWithAttempts, 0, len(ds))
	for _, d := range ds {
		d.LastError = b.red.text(d.LastError)
		e := deliveryWithAttempts{Delivery: d}
		as, err := b.o.Store.Attempts(b.ctx, d.ID)
		if err != nil {
			e.HistoryError = err.Error()
		}
		for _, a := range as {
			a.Error, a.Answer = b.red.text(a.Error), b.red.text(a.Answer)
			e.History = append(e.History, a)
		}
		out = append(out, e)
	}
	return b.putJSON("deliveries.json", out)
}

func (b *bundle) audit() error {
	if b.o.Store == nil {
		return b.errNoStore()
	}
	es, err := b.o.Store.AuditLog(b.ctx, MaxAudit)
	if err != nil {
		return err
	}
	for i := range es {
		es[i].Reason, es[i].Detail = b.red.text(es[i].Reason), b.red.text(es[i].Detail)
	}
	if es == nil {
		es = []domain.AuditEntry{}
	}
	return b.putJSON("audit.json", es)
}

func (b *bundle) orders() error {
	if !b.o.IncludePatientData {
		b.cur.Note = "not included (patient data)"
		return nil
	}
	if b.o.Store == nil {
		return b.errNoStore()
	}
	list, err := b.o.Store.Orders(b.ctx, store.OrderFilter{Limit: MaxOrders})
	if err != nil {
		return err
	}
	if list == nil {
		list = []domain.Order{}
	}
	return b.putJSON("orders.json", list)
}

func (b *bundle) sectionsText() []byte {
	var s strings.Builder
	for _, sec := range b.rep.Sections {
		switch {
		case sec.Err != nil:
			fmt.Fprintf(&s, "%-11s FAILED: %s\n", sec.Name+":", oneLine(b.red.text(sec.Err.Error())))
		case sec.Note != "":
			fmt.Fprintf(&s, "%-11s ok, %s\n", sec.Name+":", sec.Note)
		default:
			fmt.Fprintf(&s, "%-11s ok\n", sec.Name+":")
		}
	}
	return []byte(s.String())
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// health writes the running hub's live health (health.json).
func (b *bundle) health() error {
	if b.o.Health == nil {
		// Written offline: no hub to ask. Not a failure of the bundle.
		return b.put("health.json", []byte("null\n"))
	}
	hs := make([]domain.Health, len(b.o.Health))
	for i, h := range b.o.Health {
		h.Detail, h.LastError = b.red.text(h.Detail), b.red.text(h.LastError)
		hs[i] = h
	}
	return b.putJSON("health.json", hs)
}
