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
}

// Handler processes one complete file. nil: the file is archived (or
// deleted). An error wrapped with Retryable: the file stays and is retried
// later. Any other error: the file goes to the error folder with a note.
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

// Defaults for Options.
const (
	DefaultQuietPeriod    = 2 * time.Second
	DefaultRescanInterval = 5 * time.Second
	DefaultMaxSize        = 10 << 20
	DefaultRetryDelay     = 5 * time.Second
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
	attempts  int
}

type done struct {
	name  string
	retry bool // leave the entry, try again at retryAt
	gone  bool // the file has been moved or deleted
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

	w.scan(entries)
	for {
		now := time.Now()
		// Dispatch what is ready, oldest first.
		var cands []*entry
		for _, e := range entries {
			if inflight >= w.opts.Workers {
				break // no worker free: nothing to pick now
			}
			if e.inflight || now.Before(e.retryAt) {
				continue
			}
			if e.ready || now.Sub(e.changedAt) >= w.opts.QuietPeriod {
				cands = append(cands, e)
			}
		}
		sort.Slice(cands, func(i, j int) bool {
			if !cands[i].mtime.Equal(cands[j].mtime) {
				return cands[i].mtime.Before(cands[j].mtime)
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
			go func(name string, attempts int) {
				defer wg.Done()
				doneCh <- w.process(ctx, name, attempts)
			}(e.name, e.attempts)
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
		case <-rescan.C:
			w.scan(entries)
		case d := <-doneCh:
			inflight--
			e := entries[d.name]
			if e == nil {
				continue
			}
			e.inflight = false
			if d.gone {
				delete(entries, d.name)
				continue
			}
			if d.retry {
				e.attempts++
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
		e = &entry{name: name, size: -1}
		entries[name] = e
	}
	if fi.Size() != e.size || !fi.ModTime().Equal(e.mtime) {
		e.size, e.mtime, e.changedAt = fi.Size(), fi.ModTime(), time.Now()
		e.ready, e.checked = false, false
		e.retryAt = time.Time{}
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
func (w *Watcher) process(ctx context.Context, name string, attempts int) done {
	path := filepath.Join(w.opts.Dir, name)
	log := w.log.WithField("file", name)
	fi, err := os.Stat(path)
	if err != nil {
		return done{name: name, gone: true}
	}
	if fi.Size() > w.opts.MaxSize {
		herr := fmt.Errorf("file is %d bytes, more than the limit of %d bytes; not read", fi.Size(), w.opts.MaxSize)
		return w.reject(log, name, herr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		log.WithError(err).Warn("cannot read file; will retry")
		return done{name: name, retry: true}
	}
	herr := w.handler(ctx, File{Name: name, Path: path, Size: int64(len(data)), ModTime: fi.ModTime(), Data: data})
	switch {
	case herr == nil:
		if err := w.finish(name); err != nil {
			log.WithError(err).Error("processed but cannot archive; will hand over again (the receiver recognises the duplicate)")
			return done{name: name, retry: true}
		}
		return done{name: name, gone: true}
	case IsRetryable(herr) || ctx.Err() != nil:
		log.WithError(herr).WithField("attempt", attempts+1).Warn("not processed; file stays and will be retried")
		return done{name: name, retry: true}
	default:
		return w.reject(log, name, herr)
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
	dst, err := moveUnique(src, w.opts.ArchiveDir, name)
	if err != nil {
		return err
	}
	w.log.WithField("file", name).WithField("to", dst).Debug("archived")
	return nil
}

func (w *Watcher) reject(log logrus.FieldLogger, name string, herr error) done {
	src := filepath.Join(w.opts.Dir, name)
	dst, err := moveUnique(src, w.opts.ErrorDir, name)
	if err != nil {
		log.WithError(err).Error("cannot move rejected file to the error folder; will retry")
		return done{name: name, retry: true}
	}
	note := fmt.Sprintf("file: %s\nfolder: %s\nrejected: %s\nerror: %s\n", name, w.opts.Dir, time.Now().Format(time.RFC3339), herr)
	if err := writeNote(dst+".error", note); err != nil {
		log.WithError(err).Error("cannot write the error note")
	}
	syncDir(w.opts.ErrorDir)
	log.WithError(herr).WithField("to", dst).Warn("file rejected")
	return done{name: name, gone: true}
}

// moveUnique moves src into dir under name, or name-N when taken, never
// replacing a file already there.
func moveUnique(src, dir, name string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 0; i < 10000; i++ {
		cand := name
		if i > 0 {
			cand = fmt.Sprintf("%s-%d%s", stem, i, ext)
		}
		dst := filepath.Join(dir, cand)
		if _, err := os.Lstat(dst); err == nil {
			continue
		}
		if _, err := os.Lstat(dst + ".error"); err == nil {
			continue
		}
		// No directory fsync here: if a crash undoes the move, the file is
		// handed over again and the receiver recognises the duplicate.
		if err := os.Rename(src, dst); err != nil {
			return "", err
		}
		return dst, nil
	}
	return "", fmt.Errorf("no free name for %s in %s", name, dir)
}

// writeNote writes the note under a temp name and renames it, so that a
// reader never sees half a note.
func writeNote(path, text string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
