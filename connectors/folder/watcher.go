package folder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/sirupsen/logrus"
)

// File is a complete file handed to a Handler.
type File struct {
	Name    string // base name in the watched folder
	Path    string // full path
	Size    int64
	ModTime time.Time
	Data    []byte
	// Settled is set when the handler called this content Incomplete before
	// and it has since stayed unchanged for IncompleteWait: the writer is not
	// coming back, so the handler must decide with what is there.
	Settled bool
}

// Handler processes one complete file. nil: the file is archived (or
// deleted). An error wrapped with Retryable: the file stays and is retried
// later. An error wrapped with Incomplete: the file stays and is handed over
// again when it changes, or with File.Settled once it has been unchanged for
// IncompleteWait. Any other error: the file goes to the error folder with a
// note.
type Handler func(ctx context.Context, f File) error

type retryable struct{ err error }

func (r retryable) Error() string { return r.err.Error() }
func (r retryable) Unwrap() error { return r.err }

// Retryable marks err so that the file is left in place and handed over
// again later (the store is down, the disk is full).
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return retryable{err}
}

// IsRetryable reports whether err was marked with Retryable.
func IsRetryable(err error) bool {
	var r retryable
	return errors.As(err, &r)
}

type incomplete struct{ err error }

func (r incomplete) Error() string { return r.err.Error() }
func (r incomplete) Unwrap() error { return r.err }

// Incomplete marks err as "the file looks like it is still being written"
// (a record length promising more bytes than there are, no line end after
// the last line): the file stays in place and is handed over again when it
// changes, or, when it stays unchanged for IncompleteWait, one last time
// with File.Settled set.
func Incomplete(err error) error {
	if err == nil {
		return nil
	}
	return incomplete{err}
}

// IsIncomplete reports whether err was marked with Incomplete.
func IsIncomplete(err error) bool {
	var r incomplete
	return errors.As(err, &r)
}

// errStillOpen says another program still has the file open for writing
// (Windows only knows).
var errStillOpen = errors.New("the file is still open for writing in another program")

// Defaults for Options.
const (
	DefaultQuietPeriod    = 2 * time.Second
	DefaultRescanInterval = 5 * time.Second
	DefaultMaxSize        = 10 << 20
	DefaultRetryDelay     = 5 * time.Second
	DefaultMaxRetries     = 10
	DefaultIncompleteWait = 2 * time.Minute
	maxRetryDelay         = time.Minute
)

// Options configure a Watcher.
type Options struct {
	// Dir is the watched folder (not recursive).
	Dir string
	// ArchiveDir receives processed files; default Dir/archive.
	ArchiveDir string
	// ErrorDir receives rejected files with a "<name>.error" note; default Dir/error.
	ErrorDir string
	// DeleteProcessed deletes processed files instead of archiving them.
	DeleteProcessed bool
	// Patterns filter base names (filepath.Match syntax, case-insensitive);
	// empty means every file. Hidden and temp files are always ignored.
	Patterns []string
	// QuietPeriod is how long size and mtime must stay unchanged before a
	// file counts as complete.
	QuietPeriod time.Duration
	// RescanInterval is the period of the full directory scan that catches
	// what file events miss (network shares).
	RescanInterval time.Duration
	// MaxSize refuses larger files without reading them; default 10 MB.
	MaxSize int64
	// Workers bounds concurrent handlers; default 1, which keeps the order in
	// which files were written (an update must not overtake its order).
	Workers int
	// RetryDelay is the first delay after a retryable error; it doubles up to a minute.
	RetryDelay time.Duration
	// MaxRetries bounds the attempts at what the watcher does itself:
	// reading a file, moving it to the archive (or deleting it), moving it
	// to the error folder; default 10. A file that cannot be read or
	// archived then goes to the error folder with a note saying why; one
	// that cannot be moved there either is left alone until it changes (or
	// the watcher restarts). Retryable errors of the handler (the store is
	// down) are retried without bound: an outage must not turn orders into
	// rejected files.
	MaxRetries int
	// IncompleteWait is how long a file the handler called Incomplete may
	// stay unchanged before it is handed over as settled, and how long a
	// rejected file is watched in the error folder: when it grows there (its
	// writer was still at work), it is moved back and tried again. Default
	// 2 minutes.
	IncompleteWait time.Duration
	// Complete, when set, is asked with the content whether a file is
	// complete; true hands it over before the quiet period ends.
	Complete func(data []byte) bool
	// Logger receives the watcher's own messages (file names only).
	Logger logrus.FieldLogger
}

// Watcher hands complete files of a folder to a handler, one at a time per file.
type Watcher struct {
	opts    Options
	handler Handler
	log     logrus.FieldLogger
	readyCh chan string
	poll    time.Duration
}

// NewWatcher checks the options and creates the folders.
func NewWatcher(opts Options, h Handler) (*Watcher, error) {
	if opts.Dir == "" {
		return nil, errors.New("folder: watcher needs a folder")
	}
	if h == nil {
		return nil, errors.New("folder: watcher needs a handler")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("folder: %w", err)
	}
	opts.Dir = dir
	if opts.ArchiveDir == "" {
		opts.ArchiveDir = filepath.Join(dir, "archive")
	}
	if opts.ErrorDir == "" {
		opts.ErrorDir = filepath.Join(dir, "error")
	}
	if opts.QuietPeriod <= 0 {
		opts.QuietPeriod = DefaultQuietPeriod
	}
	if opts.RescanInterval <= 0 {
		opts.RescanInterval = DefaultRescanInterval
	}
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = DefaultRetryDelay
	}
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = DefaultMaxRetries
	}
	if opts.IncompleteWait <= 0 {
		opts.IncompleteWait = DefaultIncompleteWait
	}
	for _, p := range opts.Patterns {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, fmt.Errorf("folder: pattern %q: %w", p, err)
		}
	}
	dirs := []string{opts.Dir, opts.ErrorDir}
	if !opts.DeleteProcessed {
		dirs = append(dirs, opts.ArchiveDir)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("folder: %s cannot be created: %w", d, err)
		}
	}
	log := opts.Logger
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = l
	}
	poll := min(max(opts.QuietPeriod/4, 10*time.Millisecond), 250*time.Millisecond)
	return &Watcher{opts: opts, handler: h, log: log.WithField("dir", dir), readyCh: make(chan string, 64), poll: poll}, nil
}

// Dir returns the watched folder.
func (w *Watcher) Dir() string { return w.opts.Dir }

// Ready tells the watcher that the named file is complete (for example an
// FTP upload that was renamed into place), so it need not wait for the quiet
// period. Safe to call from any goroutine; never blocks for long.
func (w *Watcher) Ready(name string) {
	select {
	case w.readyCh <- filepath.Base(name):
	case <-time.After(time.Second):
		// The rescan will find it anyway.
	}
}

// Match reports whether a base name is one the watcher hands over.
func (w *Watcher) Match(name string) bool {
	if Ignored(name) {
		return false
	}
	if len(w.opts.Patterns) == 0 {
		return true
	}
	lower := strings.ToLower(name)
	for _, p := range w.opts.Patterns {
		if ok, _ := filepath.Match(strings.ToLower(p), lower); ok {
			return true
		}
	}
	return false
}

// Ignored reports names that are never handed over: hidden files, editor
// and transfer temp files, and the watcher's own notes.
func Ignored(name string) bool {
	lower := strings.ToLower(name)
	if name == "" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~") {
		return true
	}
	for _, suf := range []string{".tmp", ".temp", ".part", ".partial", ".crdownload", ".swp", ".error", "~"} {
		if strings.HasSuffix(lower, suf) {
			return true
		}
	}
	return false
}

type entry struct {
	name      string
	size      int64
	mtime     time.Time
	changedAt time.Time
	ready     bool
	checked   bool // Complete was asked for this size and mtime
	inflight  bool
	retryAt   time.Time
	attempts  int       // retries so far (for the back-off)
	own       int       // failures of the watcher's own work (reading, filing)
	waiting   bool      // the handler called this content incomplete
	slow      bool      // the handler called some content of it incomplete
	held      bool      // held back behind a slow file (logged once)
	parked    bool      // given up until the file changes
	first     time.Time // mtime when first seen: the order of writing
}

type done struct {
	name       string
	retry      bool     // leave the entry, try again at retryAt
	own        bool     // the retry is for the watcher's own failure
	gone       bool     // the file has been moved or deleted
	park       bool     // give up on this content until the file changes
	incomplete bool     // the handler says it is still being written
	open       bool     // its writer still holds it open (Windows)
	rejected   *watched // moved to the error folder: watch it for growth
}

// watched is a rejected file watched in the error folder for a while: if it
// grows there, its writer was still at work, and it is moved back.
type watched struct {
	name  string // name in the watched folder
	path  string // path in the error folder
	size  int64
	mtime time.Time
	until time.Time
}

// Run watches until ctx is done, then waits for running handlers and returns nil.
// Files present at start are processed.
func (w *Watcher) Run(ctx context.Context) error {
	fsw, err := fsnotify.NewWatcher()
	var events chan fsnotify.Event
	var errs chan error
	if err != nil {
		w.log.WithError(err).Warn("file events unavailable; relying on rescans")
	} else {
		defer fsw.Close()
		if err := fsw.Add(w.opts.Dir); err != nil {
			w.log.WithError(err).Warn("file events unavailable for this folder (network share?); relying on rescans")
		} else {
			events, errs = fsw.Events, fsw.Errors
		}
	}
	entries := map[string]*entry{}
	doneCh := make(chan done)
	var wg sync.WaitGroup
	inflight := 0
	tick := time.NewTicker(w.poll)
	defer tick.Stop()
	rescan := time.NewTicker(w.opts.RescanInterval)
	defer rescan.Stop()

	var rejected []*watched

	w.scan(entries)
	for {
		now := time.Now()
		// With one worker the order of writing is kept: nothing written
		// after a file whose writer is slow overtakes it (an update must not
		// overtake its order). The wait is bounded by IncompleteWait.
		var holdAfter time.Time
		if w.opts.Workers == 1 {
			for _, e := range entries {
				if e.slow && !e.parked && (holdAfter.IsZero() || e.first.Before(holdAfter)) {
					holdAfter = e.first
				}
			}
		}
		// Dispatch what is ready, oldest first.
		var cands []*entry
		for _, e := range entries {
			if inflight >= w.opts.Workers {
				break // no worker free: nothing to pick now
			}
			if e.inflight || e.parked || now.Before(e.retryAt) {
				continue
			}
			if e.waiting {
				if now.Sub(e.changedAt) >= w.opts.IncompleteWait {
					cands = append(cands, e)
				}
				continue
			}
			if !holdAfter.IsZero() && e.first.After(holdAfter) {
				if !e.held {
					e.held = true
					w.log.WithField("file", e.name).Debug("held back behind an earlier file that is still being written")
				}
				continue
			}
			if e.ready || now.Sub(e.changedAt) >= w.opts.QuietPeriod {
				cands = append(cands, e)
			}
		}
		sort.Slice(cands, func(i, j int) bool {
			if !cands[i].first.Equal(cands[j].first) {
				return cands[i].first.Before(cands[j].first)
			}
			return cands[i].name < cands[j].name
		})
		for _, e := range cands {
			if inflight >= w.opts.Workers {
				break
			}
			e.inflight = true
			inflight++
			wg.Add(1)
			go func(name string, attempts, own int, settled bool) {
				defer wg.Done()
				doneCh <- w.process(ctx, name, attempts, own, settled)
			}(e.name, e.attempts, e.own, e.waiting)
		}

		select {
		case <-ctx.Done():
			go func() {
				for range doneCh {
				}
			}()
			wg.Wait()
			close(doneCh)
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			name := filepath.Base(ev.Name)
			if filepath.Dir(ev.Name) != w.opts.Dir || !w.Match(name) {
				continue
			}
			w.observe(entries, name)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			w.log.WithError(err).Warn("file event error; rescanning")
			w.scan(entries)
		case name := <-w.readyCh:
			if !w.Match(name) {
				continue
			}
			w.observe(entries, name)
			if e := entries[name]; e != nil {
				e.ready = true
			}
		case <-tick.C:
			for name, e := range entries {
				if !e.inflight {
					w.observe(entries, name)
				}
			}
			rejected = w.watchRejected(entries, rejected)
		case <-rescan.C:
			w.scan(entries)
		case d := <-doneCh:
			inflight--
			if d.rejected != nil {
				rejected = append(rejected, d.rejected)
			}
			e := entries[d.name]
			if e == nil {
				continue
			}
			e.inflight = false
			switch {
			case d.gone:
				delete(entries, d.name)
			case d.park:
				e.parked = true
			case d.incomplete:
				e.waiting, e.slow = true, true
			case d.open:
				// Later files wait behind it as behind an incomplete one, for
				// at most IncompleteWait without a change; it is asked again
				// after a quiet period.
				e.attempts++
				e.slow = time.Since(e.changedAt) < w.opts.IncompleteWait
				e.retryAt = time.Now().Add(w.opts.QuietPeriod)
			case d.retry:
				e.attempts++
				if d.own {
					e.own++
				}
				delay := w.opts.RetryDelay << min(e.attempts-1, 6)
				e.retryAt = time.Now().Add(min(delay, maxRetryDelay))
			}
		}
	}
}

// scan reads the folder and observes every matching file.
func (w *Watcher) scan(entries map[string]*entry) {
	des, err := os.ReadDir(w.opts.Dir)
	if err != nil {
		w.log.WithError(err).Warn("cannot read folder")
		return
	}
	seen := map[string]bool{}
	for _, de := range des {
		if de.IsDir() || !w.Match(de.Name()) {
			continue
		}
		seen[de.Name()] = true
		w.observe(entries, de.Name())
	}
	for name, e := range entries {
		if !seen[name] && !e.inflight {
			delete(entries, name)
		}
	}
}

// observe stats a file and updates its entry.
func (w *Watcher) observe(entries map[string]*entry, name string) {
	e := entries[name]
	if e != nil && e.inflight {
		return
	}
	fi, err := os.Stat(filepath.Join(w.opts.Dir, name))
	if err != nil || !fi.Mode().IsRegular() {
		delete(entries, name)
		return
	}
	if e == nil {
		e = &entry{name: name, size: -1, first: fi.ModTime()}
		entries[name] = e
	}
	if fi.Size() != e.size || !fi.ModTime().Equal(e.mtime) {
		e.size, e.mtime, e.changedAt = fi.Size(), fi.ModTime(), time.Now()
		e.ready, e.checked = false, false
		e.waiting, e.parked = false, false
		e.retryAt, e.attempts, e.own = time.Time{}, 0, 0
	}
	if w.opts.Complete != nil && !e.ready && !e.checked && e.size > 0 && e.size <= w.opts.MaxSize {
		e.checked = true
		data, err := os.ReadFile(filepath.Join(w.opts.Dir, name))
		if err == nil && int64(len(data)) == e.size && w.opts.Complete(data) {
			e.ready = true
		}
	}
}

// process hands one file over and files it according to the outcome.
// attempts counts earlier retries, own those for the watcher's own failures;
// settled says the handler called this content incomplete before.
func (w *Watcher) process(ctx context.Context, name string, attempts, own int, settled bool) done {
	path := filepath.Join(w.opts.Dir, name)
	log := w.log.WithField("file", name)
	fi, err := os.Stat(path)
	if err != nil {
		return done{name: name, gone: true}
	}
	if fi.Size() > w.opts.MaxSize {
		herr := fmt.Errorf("file is %d bytes, more than the limit of %d bytes; not read", fi.Size(), w.opts.MaxSize)
		return w.reject(log, name, herr, own, nil)
	}
	data, err := readWhole(path)
	if errors.Is(err, errStillOpen) {
		// Windows: its writer still holds it. Not a failure of the watcher's
		// own: wait as long as that takes.
		entry := log.WithField("attempt", attempts+1)
		if attempts == 0 {
			entry.Info("file is still open in the program writing it; waiting until it is closed")
		} else {
			entry.Debug("file is still open in the program writing it; waiting until it is closed")
		}
		return done{name: name, open: true}
	}
	if err != nil {
		if own+1 >= w.opts.MaxRetries {
			return w.reject(log, name, fmt.Errorf("the file could not be read in %d attempts: %w", own+1, err), own, nil)
		}
		log.WithError(err).Warn("cannot read file; will retry")
		return done{name: name, retry: true, own: true}
	}
	herr := w.handler(ctx, File{Name: name, Path: path, Size: int64(len(data)), ModTime: fi.ModTime(), Data: data, Settled: settled})
	switch {
	case herr == nil:
		if err := w.finish(name); err != nil {
			if own+1 >= w.opts.MaxRetries {
				log.WithError(err).Error("processed, but cannot archive; moving it to the error folder so that it is not handed over again")
				return w.reject(log, name, fmt.Errorf("the file was processed and accepted, but could not be moved to the archive folder in %d attempts (%w); "+
					"it was put here so that it is not processed again. Nothing needs to be sent again", own+1, err), own, nil)
			}
			log.WithError(err).Error("processed but cannot archive; will hand over again (the receiver recognises the duplicate)")
			return done{name: name, retry: true, own: true}
		}
		return done{name: name, gone: true}
	case IsIncomplete(herr) && !settled && ctx.Err() == nil:
		log.WithError(herr).WithField("wait", w.opts.IncompleteWait.String()).Info("file looks still being written; waiting for the rest")
		return done{name: name, incomplete: true}
	case IsRetryable(herr) || ctx.Err() != nil:
		log.WithError(herr).WithField("attempt", attempts+1).Warn("not processed; file stays and will be retried")
		return done{name: name, retry: true}
	default:
		if settled {
			herr = fmt.Errorf("the file looked incomplete and stayed unchanged for %s: %w", w.opts.IncompleteWait, herr)
		}
		return w.reject(log, name, herr, own, &watched{size: int64(len(data)), mtime: fi.ModTime()})
	}
}

func (w *Watcher) finish(name string) error {
	src := filepath.Join(w.opts.Dir, name)
	if w.opts.DeleteProcessed {
		if err := os.Remove(src); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		syncDir(w.opts.Dir)
		return nil
	}
	dst, err := moveUnique(src, w.opts.ArchiveDir, name, 0)
	if err != nil {
		return err
	}
	w.log.WithField("file", name).WithField("to", dst).Debug("archived")
	return nil
}

// reject moves the file to the error folder with a note. When that fails
// MaxRetries times, the file is left alone until it changes. watch, when
// set, holds the size and mtime of the content that was judged: the
// rejected file is watched for a change (its writer was not done).
func (w *Watcher) reject(log logrus.FieldLogger, name string, herr error, own int, watch *watched) done {
	src := filepath.Join(w.opts.Dir, name)
	dst, err := moveUnique(src, w.opts.ErrorDir, name, len(noteSuffix))
	if err != nil {
		if own+1 >= w.opts.MaxRetries {
			log.WithError(err).WithField("reason", herr.Error()).Error(fmt.Sprintf("cannot move the rejected file to the error folder in %d attempts; leaving it alone until it changes", own+1))
			return done{name: name, park: true}
		}
		log.WithError(err).Error("cannot move rejected file to the error folder; will retry")
		return done{name: name, retry: true, own: true}
	}
	note := fmt.Sprintf("file: %s\n", name)
	if base := filepath.Base(dst); base != name {
		note += fmt.Sprintf("stored as: %s (the name was shortened or numbered to fit the folder)\n", base)
	}
	note += fmt.Sprintf("folder: %s\nrejected: %s\nerror: %s\n", w.opts.Dir, time.Now().Format(time.RFC3339), herr)
	if err := writeNote(dst+noteSuffix, note); err != nil {
		log.WithError(err).Error("cannot write the error note")
	}
	syncDir(w.opts.ErrorDir)
	log.WithError(herr).WithField("to", dst).Warn("file rejected")
	d := done{name: name, gone: true}
	if watch != nil {
		watch.name, watch.path, watch.until = name, dst, time.Now().Add(w.opts.IncompleteWait)
		d.rejected = watch
	}
	return d
}

// watchRejected looks at recently rejected files: one that grew in the
// error folder is moved back (under its name, numbered if taken), its note
// removed, and observed again. It returns the files still to watch.
func (w *Watcher) watchRejected(entries map[string]*entry, list []*watched) []*watched {
	now := time.Now()
	keep := list[:0]
	for _, r := range list {
		fi, err := os.Stat(r.path)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if fi.Size() == r.size && fi.ModTime().Equal(r.mtime) {
			if now.Before(r.until) {
				keep = append(keep, r)
			}
			continue
		}
		log := w.log.WithField("file", r.name)
		dst, err := moveUnique(r.path, w.opts.Dir, r.name, 0)
		if err != nil {
			log.WithError(err).Error("a rejected file grew in the error folder, but cannot be moved back")
			continue
		}
		os.Remove(r.path + noteSuffix)
		syncDir(w.opts.ErrorDir)
		log.WithField("to", dst).Info("a rejected file grew in the error folder (its writer was not done): moved back to be tried again")
		if name := filepath.Base(dst); w.Match(name) {
			w.observe(entries, name)
		}
	}
	for i := len(keep); i < len(list); i++ {
		list[i] = nil
	}
	return keep
}

// writeNote writes the note under a short hidden temp name (so that a long
// file name cannot make it too long) and renames it, so that a reader never
// sees half a note.
func writeNote(path, text string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".note-*.tmp")
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
