// Package retention keeps the hub's data folder from growing without end:
// a daily sweep deletes old finished orders, old delivered results with
// their PDF reports and old files of the exchange folders' archive/, in
// small batches that never hold the database for long, then checkpoints
// the database's write-ahead log. Nothing still owed to someone is
// deleted: a result whose delivery failed or is ambiguous stays until a
// person resends or cancels it. Between sweeps it watches the free disk
// space and warns (health component "disk") before SQLite or a file writer
// fails for want of space. Log files need nothing here: app/logging
// rotates them by size.
package retention

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/sirupsen/logrus"
)

// Health components and codes this package reports.
const (
	ComponentRetention = "retention"
	ComponentDisk      = "disk"

	CodeSwept       = "swept"        // the last sweep finished (args: orders, results, files, at)
	CodeSweepFailed = "sweep-failed" // the last sweep stopped on an error (args: next)
	CodeDiskOK      = "ok"           // enough free space (args: free)
	CodeDiskLow     = "low"          // free space below the threshold (args: free, path)
	CodeDiskUnknown = "unknown"      // free space cannot be read (args: path)
)

// Policy is what is kept how long; a zero age keeps that kind for ever.
type Policy struct {
	// Orders: done, cancelled or deleted orders, by their last change.
	Orders time.Duration
	// Results: results whose every delivery is delivered (or cancelled by
	// a person), by when they arrived, with their PDF reports.
	Results time.Duration
	// Archive: files in the exchange folders' archive/, by modification time.
	Archive time.Duration
	// Batch is the most rows one transaction looks at (default 500).
	Batch int
	// Interval is the time between sweeps (default 24 h); the first sweep
	// runs FirstDelay after Run starts (default 10 min), not at start-up.
	Interval, FirstDelay time.Duration
	// Pause is the wait between two batches (default 5 ms); ingest's
	// commits get their turn in any case (the store admits transactions in
	// the order they asked).
	Pause time.Duration
	// LowDiskBytes and LowDiskPercent: the disk holding the data folder is
	// low when its free space is below both (default 2 GiB and 5 %); zero
	// leaves that bound out, both zero turns the warning off.
	LowDiskBytes   int64
	LowDiskPercent float64
	// DiskCheck is the time between free-space checks (default 1 min).
	DiskCheck time.Duration
}

// Defaults of Policy.
const (
	DefaultOrders         = 90 * 24 * time.Hour
	DefaultResults        = 90 * 24 * time.Hour
	DefaultArchive        = 30 * 24 * time.Hour
	DefaultBatch          = 500
	DefaultInterval       = 24 * time.Hour
	DefaultFirstDelay     = 10 * time.Minute
	DefaultPause          = 5 * time.Millisecond
	DefaultLowDiskBytes   = 2 << 30
	DefaultLowDiskPercent = 5.0
	DefaultDiskCheck      = time.Minute
)

func (p Policy) withDefaults() Policy {
	if p.Batch <= 0 {
		p.Batch = DefaultBatch
	}
	if p.Interval <= 0 {
		p.Interval = DefaultInterval
	}
	if p.FirstDelay <= 0 {
		p.FirstDelay = DefaultFirstDelay
	}
	if p.Pause < 0 {
		p.Pause = 0
	} else if p.Pause == 0 {
		p.Pause = DefaultPause
	}
	if p.DiskCheck <= 0 {
		p.DiskCheck = DefaultDiskCheck
	}
	return p
}

// Options wire a Sweeper.
type Options struct {
	// DataDir is the hub's data folder: its disk is watched, its reports/
	// and logs/ are measured.
	DataDir string
	// ArchiveDirs are the archive folders swept of old files.
	ArchiveDirs []string
	Health      domain.HealthReporter
	Log         logrus.FieldLogger
	// Now replaces the clock (tests).
	Now func() time.Time
	// FreeSpace replaces the free-space reading (tests).
	FreeSpace func(path string) (DiskSpace, error)
}

// DiskSpace is the size and free space of one filesystem.
type DiskSpace struct {
	Total, Free uint64
}

// Report is what one sweep did.
type Report struct {
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"`
	Orders   int           `json:"orders"`  // orders deleted
	Results  int           `json:"results"` // results deleted (with deliveries and attempts)
	Reports  int           `json:"reports"` // PDF files removed
	Files    int           `json:"files"`   // archive files removed
	Batches  int           `json:"batches"` // transactions
	// LongestBatch is the longest a transaction of the sweep held the
	// database (what an order arriving meanwhile may have waited).
	LongestBatch time.Duration `json:"longestBatch"`
	// CheckpointPages and CheckpointCopied: the write-ahead log's pages at
	// the end, and how many the checkpoint copied into the database.
	CheckpointPages  int `json:"checkpointPages"`
	CheckpointCopied int `json:"checkpointCopied"`
	// Problems are what could not be removed (a file in use); the sweep
	// went on.
	Problems []string `json:"problems,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// Usage is the data folder's size on disk.
type Usage struct {
	DatabaseBytes int64 `json:"databaseBytes"` // mconnect.db
	WALBytes      int64 `json:"walBytes"`      // mconnect.db-wal
	// DatabaseFreeBytes is space inside the database file free for reuse.
	DatabaseFreeBytes int64     `json:"databaseFreeBytes"`
	ReportsBytes      int64     `json:"reportsBytes"` // reports/ (PDFs)
	LogsBytes         int64     `json:"logsBytes"`    // logs/
	ArchiveBytes      int64     `json:"archiveBytes"` // the archive folders
	MeasuredAt        time.Time `json:"measuredAt"`
}

// Status is what the Dashboard's About and the support bundle show.
type Status struct {
	Policy Policy `json:"policy"`
	// Disk is the filesystem of the data folder, as last read; Low says
	// whether it is below the threshold.
	Disk     DiskSpace `json:"disk"`
	DiskLow  bool      `json:"diskLow"`
	DiskRead time.Time `json:"diskRead"`
	// Usage is measured at the end of every sweep (zero before the first).
	Usage     Usage     `json:"usage"`
	LastSweep *Report   `json:"lastSweep,omitempty"`
	Sweeping  bool      `json:"sweeping"`
	NextSweep time.Time `json:"nextSweep"`
}

// Sweeper runs the sweeps and the disk watch.
type Sweeper struct {
	st     *store.Store
	policy Policy
	opts   Options
	log    logrus.FieldLogger

	mu     sync.Mutex
	status Status
	sweep  sync.Mutex // one sweep at a time
	size   int        // current batch size (under sweep)
}

// New returns a sweeper of st under p.
func New(st *store.Store, p Policy, opts Options) *Sweeper {
	p = p.withDefaults()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FreeSpace == nil {
		opts.FreeSpace = FreeSpace
	}
	log := opts.Log
	if log == nil {
		l := logrus.New()
		l.Out = discard{}
		log = l
	}
	return &Sweeper{st: st, policy: p, opts: opts, log: log.WithField("component", ComponentRetention),
		status: Status{Policy: p}}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Status returns a copy of the current status.
func (s *Sweeper) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	if st.LastSweep != nil {
		r := *st.LastSweep
		st.LastSweep = &r
	}
	return st
}

// Run checks the disk at once and every Policy.DiskCheck, and sweeps
// FirstDelay after start and then every Interval, until ctx ends.
func (s *Sweeper) Run(ctx context.Context) error {
	s.CheckDisk()
	next := s.opts.Now().Add(s.policy.FirstDelay)
	s.setNext(next)
	disk := time.NewTicker(s.policy.DiskCheck)
	defer disk.Stop()
	for {
		wait := time.NewTimer(max(next.Sub(s.opts.Now()), 0))
		select {
		case <-ctx.Done():
			wait.Stop()
			return nil
		case <-disk.C:
			wait.Stop()
			s.CheckDisk()
			continue
		case <-wait.C:
		}
		s.Sweep(ctx)
		if ctx.Err() != nil {
			return nil
		}
		next = s.opts.Now().Add(s.policy.Interval)
		s.setNext(next)
		s.CheckDisk()
	}
}

func (s *Sweeper) setNext(t time.Time) {
	s.mu.Lock()
	s.status.NextSweep = t
	s.mu.Unlock()
}

// Sweep runs one sweep now: results, then orders (an order goes only once
// its results are gone), then archive files, then a checkpoint, and
// measures the data folder. It returns what it did; an error of the store
// ends the sweep (the next one goes on where there is work).
func (s *Sweeper) Sweep(ctx context.Context) Report {
	s.sweep.Lock()
	defer s.sweep.Unlock()
	s.mu.Lock()
	s.status.Sweeping = true
	s.mu.Unlock()
	now := s.opts.Now()
	rep := Report{Started: now}
	err := s.sweepAll(ctx, now, &rep)
	rep.Duration = s.opts.Now().Sub(now)
	if err != nil {
		rep.Error = err.Error()
	}
	usage := s.measure(ctx)
	s.mu.Lock()
	s.status.Sweeping = false
	s.status.LastSweep = &rep
	s.status.Usage = usage
	s.mu.Unlock()
	fields := logrus.Fields{"orders": rep.Orders, "results": rep.Results, "reports": rep.Reports, "files": rep.Files,
		"batches": rep.Batches, "took": rep.Duration.Round(time.Millisecond).String()}
	if err != nil {
		s.log.WithFields(fields).WithError(err).Error("retention sweep stopped; the next sweep tries again")
		s.report(domain.Health{Component: ComponentRetention, Code: CodeSweepFailed, Severity: domain.SeverityWarning,
			Args: map[string]string{"next": now.Add(s.policy.Interval).Local().Format("2006-01-02 15:04")}, Detail: err.Error(), LastError: err.Error()})
		return rep
	}
	s.log.WithFields(fields).Info("retention sweep done")
	s.report(domain.Health{Component: ComponentRetention, Code: CodeSwept, Severity: domain.SeverityOK,
		Args: map[string]string{"orders": strconv.Itoa(rep.Orders), "results": strconv.Itoa(rep.Results), "files": strconv.Itoa(rep.Files),
			"at": now.Local().Format("2006-01-02 15:04")}})
	return rep
}

func (s *Sweeper) report(h domain.Health) {
	if s.opts.Health != nil {
		s.opts.Health.Report(h)
	}
}

func (s *Sweeper) sweepAll(ctx context.Context, now time.Time, rep *Report) error {
	p := s.policy
	if p.Results > 0 {
		cur := store.SweepCursor{}
		for {
			var sw store.Swept
			err := s.batch(rep, func(n int) (time.Duration, error) {
				var err error
				sw, err = s.st.SweepResults(ctx, now.Add(-p.Results), cur, n)
				return sw.Held, err
			})
			if err != nil {
				return err
			}
			rep.Results += sw.Deleted
			for _, path := range sw.Reports {
				if err := os.Remove(path); err == nil {
					rep.Reports++
				} else if !errors.Is(err, os.ErrNotExist) {
					rep.Problems = append(rep.Problems, fmt.Sprintf("report %s: %v", path, err))
				}
			}
			cur = sw.Next
			if sw.Done {
				break
			}
			if !s.pause(ctx) {
				return ctx.Err()
			}
		}
	}
	if p.Orders > 0 {
		for _, state := range store.FinishedOrderStates {
			cur := store.SweepCursor{}
			for {
				var sw store.Swept
				err := s.batch(rep, func(n int) (time.Duration, error) {
					var err error
					sw, err = s.st.SweepOrders(ctx, state, now.Add(-p.Orders), cur, n)
					return sw.Held, err
				})
				if err != nil {
					return err
				}
				rep.Orders += sw.Deleted
				cur = sw.Next
				if sw.Done {
					break
				}
				if !s.pause(ctx) {
					return ctx.Err()
				}
			}
		}
	}
	if p.Archive > 0 {
		for _, dir := range s.opts.ArchiveDirs {
			n, problems := sweepFolder(dir, now.Add(-p.Archive))
			rep.Files += n
			rep.Problems = append(rep.Problems, problems...)
		}
	}
	pages, copied, err := s.st.Checkpoint(ctx)
	if err != nil {
		return err
	}
	rep.CheckpointPages, rep.CheckpointCopied = pages, copied
	return nil
}

// BatchTarget is how long one transaction of the sweep should hold the
// database: a batch that takes longer halves the next one, one that takes
// under a quarter of it doubles the next (up to Policy.Batch).
const BatchTarget = 50 * time.Millisecond

// batch runs one transaction of the sweep with the current batch size
// and adapts the size to how long the transaction held the database (not
// counting the wait for its turn behind ingest's commits).
func (s *Sweeper) batch(rep *Report, run func(n int) (time.Duration, error)) error {
	if s.size <= 0 || s.size > s.policy.Batch {
		s.size = s.policy.Batch
	}
	held, err := run(s.size)
	rep.Batches++
	rep.LongestBatch = max(rep.LongestBatch, held)
	switch {
	case held > BatchTarget && s.size > 10:
		s.size /= 2
	case held < BatchTarget/4:
		s.size = min(s.size*2, s.policy.Batch)
	}
	return err
}

func (s *Sweeper) pause(ctx context.Context) bool {
	if s.policy.Pause <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(s.policy.Pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// sweepFolder removes the regular files directly in dir last modified
// before cutoff (sub-folders are left alone). A missing folder is nothing
// to do.
func sweepFolder(dir string, cutoff time.Time) (int, []string) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, []string{fmt.Sprintf("archive %s: %v", dir, err)}
	}
	n := 0
	var problems []string
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(cutoff) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			problems = append(problems, fmt.Sprintf("archive file %s: %v", p, err))
			continue
		}
		n++
	}
	return n, problems
}

// measure sizes the database and the folders.
func (s *Sweeper) measure(ctx context.Context) Usage {
	u := Usage{MeasuredAt: s.opts.Now()}
	if fs, err := s.st.Files(ctx); err == nil {
		u.DatabaseBytes, u.WALBytes, u.DatabaseFreeBytes = fs.DBBytes, fs.WALBytes, fs.FreeBytes
	}
	if s.opts.DataDir != "" {
		u.ReportsBytes = dirSize(filepath.Join(s.opts.DataDir, "reports"))
		u.LogsBytes = dirSize(filepath.Join(s.opts.DataDir, "logs"))
	}
	for _, d := range s.opts.ArchiveDirs {
		u.ArchiveBytes += dirSize(d)
	}
	return u
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// CheckDisk reads the free space of the data folder's disk and reports
// component "disk": low when below the threshold, ok otherwise.
func (s *Sweeper) CheckDisk() {
	dir := s.opts.DataDir
	if dir == "" {
		return
	}
	ds, err := s.opts.FreeSpace(dir)
	now := s.opts.Now()
	if err != nil {
		s.report(domain.Health{Component: ComponentDisk, Code: CodeDiskUnknown, Severity: domain.SeverityWarning,
			Args: map[string]string{"path": dir}, Detail: err.Error(), LastError: err.Error()})
		return
	}
	low := s.policy.Low(ds)
	s.mu.Lock()
	s.status.Disk, s.status.DiskLow, s.status.DiskRead = ds, low, now
	s.mu.Unlock()
	args := map[string]string{"free": HumanBytes(ds.Free), "path": dir}
	if low {
		s.report(domain.Health{Component: ComponentDisk, Code: CodeDiskLow, Severity: domain.SeverityWarning, Args: args,
			Detail: fmt.Sprintf("%d of %d bytes free on the disk of %s", ds.Free, ds.Total, dir)})
		return
	}
	s.report(domain.Health{Component: ComponentDisk, Code: CodeDiskOK, Severity: domain.SeverityOK, Args: args})
}

// Low reports whether ds is below the policy's free-space threshold: under
// LowDiskBytes and under LowDiskPercent of the disk (a bound of zero is
// left out; both zero: never low).
func (p Policy) Low(ds DiskSpace) bool {
	if p.LowDiskBytes <= 0 && p.LowDiskPercent <= 0 {
		return false
	}
	if p.LowDiskBytes > 0 && ds.Free >= uint64(p.LowDiskBytes) {
		return false
	}
	if p.LowDiskPercent > 0 && ds.Total > 0 && float64(ds.Free) >= float64(ds.Total)*p.LowDiskPercent/100 {
		return false
	}
	return true
}

// HumanBytes writes n as people read it: "1.5 GB", "300 MB".
func HumanBytes(n uint64) string {
	const unit = 1000
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + string("kMGTPE"[exp]) + "B"
}
