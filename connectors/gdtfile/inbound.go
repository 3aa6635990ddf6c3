package gdtfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/folder"
	"github.com/mesi/mconnect/connectors/ftp"
	"github.com/mesi/mconnect/connectors/gdt"
)

// Inbound takes GDT order files from the inbound folder (and FTP) to the sink.
type Inbound struct {
	opts    Options
	sink    domain.OrderSink
	log     logrus.FieldLogger
	rep     *domain.Reporter
	ftpRep  *domain.Reporter
	watcher *folder.Watcher
	ftp     *ftp.Server

	mu      sync.Mutex
	stopped bool // Run has ended: no more FTP health reports
	ftpAddr string
}

// NewInbound checks the options and creates the folders. log may be nil
// (discard); health may be nil.
func NewInbound(opts Options, sink domain.OrderSink, log logrus.FieldLogger, health domain.HealthReporter) (*Inbound, error) {
	if opts.InboundDir == "" {
		return nil, errors.New("gdtfile: inbound folder not set")
	}
	if sink == nil {
		return nil, errors.New("gdtfile: no order sink")
	}
	if _, err := gdt.ParseCharset(string(opts.Charset)); err != nil && opts.Charset != "" {
		return nil, fmt.Errorf("gdtfile: %w", err)
	}
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = l
	}
	if health == nil {
		health = domain.HealthFunc(func(domain.Health) {})
	}
	if len(opts.Patterns) == 0 {
		opts.Patterns = DefaultPatterns()
	}
	in := &Inbound{
		opts: opts, sink: sink, rep: domain.NewReporter(health, "conn:"+opts.Name+"/gdt-in"),
		ftpRep: domain.NewReporter(health, "conn:"+opts.Name+"/ftp"),
		log:    log.WithField("connection", opts.Name).WithField("component", "gdt-in"),
	}
	w, err := folder.NewWatcher(folder.Options{
		Dir:             opts.InboundDir,
		ArchiveDir:      opts.ArchiveDir,
		ErrorDir:        opts.ErrorDir,
		DeleteProcessed: opts.DeleteProcessed,
		Patterns:        opts.Patterns,
		QuietPeriod:     opts.QuietPeriod,
		RescanInterval:  opts.RescanInterval,
		MaxSize:         opts.MaxFileSize,
		MaxRetries:      opts.MaxRetries,
		IncompleteWait:  opts.IncompleteWait,
		Workers:         1, // keep the EHR's order: an update or cancel never overtakes its order
		Complete:        gdt.Complete,
		Logger:          in.log,
	}, in.handle)
	if err != nil {
		return nil, fmt.Errorf("gdtfile: %w", err)
	}
	in.watcher = w
	if opts.FTP.Enabled {
		mounts := map[string]string{}
		if opts.FTP.ServeResults && opts.ResultDir != "" {
			mounts["results"] = opts.ResultDir
			if opts.PDFDir != "" && opts.PDFDir != opts.ResultDir {
				mounts["pdf"] = opts.PDFDir
			}
		}
		s, err := ftp.New(ftp.Options{
			Addr: opts.FTP.Addr, Root: w.Dir(), Mounts: mounts,
			User: opts.FTP.User, Password: opts.FTP.Password,
			PassivePorts: opts.FTP.PassivePorts, PublicIP: opts.FTP.PublicIP,
			TLSConfig: opts.FTP.TLSConfig, RequireTLS: opts.FTP.RequireTLS,
			MaxConnections: opts.FTP.MaxConnections, MaxConnectionsPerIP: opts.FTP.MaxConnectionsPerIP,
			MaxPendingLogins: opts.FTP.MaxPendingLogins,
			LoginTimeout:     opts.FTP.LoginTimeout, IdleTimeout: opts.FTP.IdleTimeout,
			MaxLoginFailures: opts.FTP.MaxLoginFailures, FailureDelay: opts.FTP.FailureDelay,
			LockDuration: opts.FTP.LockDuration, MaxLockDuration: opts.FTP.MaxLockDuration,
			OnLoginLock: in.ftpLocked,
			OnUpload: func(p string, _ int64) {
				if filepath.Dir(p) == w.Dir() {
					w.Ready(filepath.Base(p))
				}
			},
			Logger: in.log,
		})
		if err != nil {
			return nil, fmt.Errorf("gdtfile: %w", err)
		}
		in.ftp = s
		in.ftpAddr = s.Addr().String()
	}
	return in, nil
}

// FTPAddr returns the FTP endpoint's bound address ("" without FTP).
func (in *Inbound) FTPAddr() string { return in.ftpAddr }

// Run watches the inbound folder (and serves FTP when configured) until ctx
// is done. It returns nil after a clean stop, or the error that stopped it.
func (in *Inbound) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in.rep.Set(domain.SeverityOK, "watching", map[string]string{"folder": in.watcher.Dir()}, "")
	in.log.WithField("dir", in.watcher.Dir()).Info("GDT inbound started")
	errc := make(chan error, 2)
	n := 1
	go func() { errc <- in.watcher.Run(ctx) }()
	if in.ftp != nil {
		n++
		in.reportFTP()
		go func() { errc <- in.ftp.Serve(ctx) }()
	}
	defer func() {
		in.mu.Lock()
		in.stopped = true
		in.mu.Unlock()
	}()
	var first error
	for i := 0; i < n; i++ {
		if err := <-errc; err != nil && first == nil {
			first = err
			in.rep.Failed(domain.SeverityError, "stopped", map[string]string{"folder": in.watcher.Dir()}, err)
			cancel()
		}
	}
	if first != nil {
		return fmt.Errorf("gdtfile: %s: %w", in.opts.Name, first)
	}
	in.log.Info("GDT inbound stopped")
	return nil
}

// handle processes one complete file. Errors it returns send the file to
// error/ with the error as its note; folder.Retryable leaves it in place.
func (in *Inbound) handle(ctx context.Context, f folder.File) error {
	log := in.log.WithField("file", f.Name)
	// A result or another record that is no order is refused at once:
	// waiting for the rest of it would change nothing.
	if err := gdt.CheckOrderType(f.Data); err != nil {
		in.fail(log, f.Name, err)
		return err
	}
	if why := stillBeingWritten(f.Data); why != "" {
		if !f.Settled {
			return folder.Incomplete(fmt.Errorf("gdtfile: %s", why))
		}
		log.WithField("reason", why).Warn("GDT file still looks incomplete but has not changed for a while; reading it as it is")
	}
	msg, err := readOrder(f.Data, in.opts)
	if err != nil {
		in.fail(log, f.Name, err)
		return err
	}
	rec := msg.Record
	for _, w := range rec.Warnings {
		log.WithField("warning", w).Warn("GDT file accepted with a warning")
	}
	o := msg.Order
	log = log.WithField("recordType", rec.Type()).WithField("patientId", o.Patient.ID).WithField("placer", o.PlacerNumber)
	if msg.Kind == gdt.KindShow {
		log.Info("GDT 6311 'show examination' received: the hub has no viewer; acknowledged")
		in.accepted(f.Name, rec)
		return nil
	}
	acc, err := in.sink.AcceptOrder(ctx, o)
	if err != nil {
		if domain.Refused(err) {
			err = fmt.Errorf("gdtfile: the hub refused the order (record %s, placer number %s): %w", rec.Type(), o.PlacerNumber, err)
			in.fail(log, f.Name, err)
			return err
		}
		in.rep.Failed(domain.SeverityError, "store-unavailable", map[string]string{"folder": in.watcher.Dir()}, err)
		return folder.Retryable(fmt.Errorf("gdtfile: storing order: %w", err))
	}
	log.WithField("orderId", acc.OrderID).WithField("duplicate", acc.Duplicate).WithField("action", o.Action).Debug("GDT order accepted")
	in.accepted(f.Name, rec)
	return nil
}

// readOrder turns a file's bytes into a mapped message: the record type
// first (a result or a fragment is refused for what it is), then the
// framing and the fields.
func readOrder(data []byte, opts Options) (*gdt.Message, error) {
	if err := gdt.CheckOrderType(data); err != nil {
		return nil, err
	}
	rec, err := gdt.Parse(data, gdt.ParseOptions{Charset: opts.Charset})
	if err != nil {
		return nil, err
	}
	return gdt.MapOrder(rec, data, gdt.MapOptions{Connection: opts.Name, Groups: opts.Groups, Measurements: opts.Measurements})
}

// accepted reports a file taken: health says what was read leniently, so
// that a person can ask the EHR's vendor to fix its export.
func (in *Inbound) accepted(name string, rec *gdt.Record) {
	if len(rec.Warnings) == 0 {
		in.ok()
		return
	}
	w := strings.Join(rec.Warnings, "; ")
	in.rep.Seed(time.Now())
	in.rep.Failed(domain.SeverityWarning, "read-leniently", map[string]string{"file": name, "folder": in.watcher.Dir(), "warning": w},
		fmt.Errorf("%s was accepted with warnings: %s", name, w))
}

// ftpLocked tells health that an address was locked out of the FTP
// endpoint after wrong passwords, and clears the warning when the last lock
// has expired.
func (in *Inbound) ftpLocked(l ftp.LoginLock) {
	in.reportFTP()
	time.AfterFunc(time.Until(l.Until)+time.Second, in.reportFTP)
}

// reportFTP reports the FTP endpoint's state: a warning while an address is
// locked out, else listening.
func (in *Inbound) reportFTP() {
	in.mu.Lock()
	stopped := in.stopped
	in.mu.Unlock()
	if stopped {
		return
	}
	if locks := in.ftp.LoginLocks(); len(locks) > 0 {
		l := locks[len(locks)-1]
		in.ftpRep.Failed(domain.SeverityWarning, "login-locked", map[string]string{
			"failures": strconv.Itoa(l.Failures), "ip": l.IP, "until": l.Until.Format("15:04:05"), "locked": strconv.Itoa(len(locks)),
		}, fmt.Errorf("%d wrong user names or passwords from %s; locked until %s", l.Failures, l.IP, l.Until.Format(time.RFC3339)))
		return
	}
	in.ftpRep.Set(domain.SeverityOK, "listening", map[string]string{"addr": in.ftpAddr}, "")
}

func (in *Inbound) ok() {
	in.rep.Moved("watching", map[string]string{"folder": in.watcher.Dir()})
}

func (in *Inbound) fail(log logrus.FieldLogger, name string, err error) {
	log.WithError(err).Warn("GDT file rejected; moved to the error folder")
	in.rep.Failed(domain.SeverityWarning, "file-rejected", map[string]string{"file": name, "folder": in.watcher.Dir()}, fmt.Errorf("%s: %w", name, err))
}
