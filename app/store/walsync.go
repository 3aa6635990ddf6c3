package store

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// walSync makes commits durable. The store's connections commit with
// synchronous=NORMAL: SQLite writes a transaction's pages to the WAL file
// and returns without waiting for the disk. walSync then flushes the WAL
// file to the disk (fdatasync; FlushFileBuffers on Windows), once for all
// the commits made since the flush before, and only then is a write
// reported done. So a write that returned is on disk exactly as with
// synchronous=FULL, but the one writer does not wait for the disk: the
// next transaction runs while the last one is flushed, and commits of
// several writers share one flush.
//
// SQLite itself flushes the WAL before it copies it into the database
// (checkpoint) and the database after, under NORMAL as under FULL. The
// copying is started here about once a second while there are writes, in
// a pause of the store's writers (a checkpoint beside a writer that never
// stops would never reach the WAL's end, and the WAL would grow without
// bound), instead of by SQLite inside every 8,000th page's commit, where
// it held up the orders waiting behind that one for a long copy. The WAL
// file is deleted only when the last connection closes, after a full
// checkpoint; a flush that finds another file (or none) in its place
// flushes the database file as well.
type walSync struct {
	path, walPath string
	reqs          chan syncReq
	stop          chan struct{}
	done          chan struct{}

	mu     sync.Mutex
	closed bool
	// flushing is held by the one flush running (the loop's, or a
	// caller's own when none was running: see now).
	flushing sync.Mutex
	f        *os.File    // the WAL file, opened at the first flush
	fi       os.FileInfo // what f is, to notice a new WAL file
	// flushFile flushes f (a test replaces it to fail).
	flushFile atomic.Pointer[func(*os.File) error]

	// checkpoint, when set, copies the WAL into the database (the store's
	// passive checkpoint); after a flush it is started on a goroutine of its
	// own, one at a time and at most once every checkpointEvery.
	checkpoint      func()
	checkpointEvery time.Duration
	checkpoints     atomic.Bool // one running
	checkpointing   sync.WaitGroup
	lastCheckpoint  time.Time // touched only by the loop
}

type syncReq struct{ done func(error) }

func newWALSync(path string) *walSync {
	w := &walSync{path: path, walPath: path + "-wal", reqs: make(chan syncReq, 256),
		stop: make(chan struct{}), done: make(chan struct{})}
	f := datasync
	w.flushFile.Store(&f)
	go w.loop()
	return w
}

// async calls done once every commit that returned before the call is on
// disk (err nil), or the flush failed. done runs on the flushing
// goroutine: it must not block.
func (w *walSync) async(done func(error)) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		done(ErrClosed)
		return
	}
	// Under mu: close waits for this send to be taken.
	w.reqs <- syncReq{done: done}
	w.mu.Unlock()
}

// now flushes on the caller's goroutine when no flush is running (ok
// false: one is; ask async or wait instead). A write that comes alone so
// waits for the disk only, not for a hand-over to the flushing goroutine
// and back.
func (w *walSync) now() (ok bool, err error) {
	if !w.flushing.TryLock() {
		return false, nil
	}
	defer w.flushing.Unlock()
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return true, ErrClosed
	}
	return true, w.flush()
}

// wait returns once every commit that returned before the call is on disk.
// It waits whatever the caller's context says: the caller's write is
// committed, and it must not be told it failed when it did not.
func (w *walSync) wait() error {
	if ok, err := w.now(); ok {
		return err
	}
	ch := make(chan error, 1)
	w.async(func(err error) { ch <- err })
	return <-ch
}

func (w *walSync) loop() {
	defer close(w.done)
	for {
		var batch []syncReq
		select {
		case r := <-w.reqs:
			batch = append(batch, r)
		case <-w.stop:
			for {
				select {
				case r := <-w.reqs:
					w.flushing.Lock()
					err := w.flush()
					w.flushing.Unlock()
					r.done(err)
				default:
					w.flushing.Lock()
					w.closeFile()
					w.flushing.Unlock()
					return
				}
			}
		}
	more:
		for {
			select {
			case r := <-w.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		// Every request was made after its commit returned, and the flush
		// starts after they were all taken: it covers them all.
		w.flushing.Lock()
		err := w.flush()
		w.flushing.Unlock()
		for _, r := range batch {
			r.done(err)
		}
	}
}

// flush puts the WAL file's content on disk.
func (w *walSync) flush() error {
	st, err := os.Stat(w.walPath)
	if errors.Is(err, os.ErrNotExist) {
		// No WAL: what was written is in the database file.
		return w.flushPath(w.path)
	}
	if err != nil {
		return fmt.Errorf("flush to disk: %w", err)
	}
	if w.f == nil || !os.SameFile(w.fi, st) {
		w.closeFile()
		f, err := os.OpenFile(w.walPath, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("flush to disk: %w", err)
		}
		w.f, w.fi = f, st
		// A WAL file of its own before it: its content was copied into the
		// database file (or never existed). Flush that too.
		if err := w.flushPath(w.path); err != nil {
			return err
		}
	}
	if err := (*w.flushFile.Load())(w.f); err != nil {
		return fmt.Errorf("flush %s to disk: %w", w.walPath, err)
	}
	if w.checkpoint != nil && time.Since(w.lastCheckpoint) >= w.checkpointEvery && w.checkpoints.CompareAndSwap(false, true) {
		w.lastCheckpoint = time.Now()
		w.checkpointing.Add(1)
		go func() {
			defer w.checkpointing.Done()
			defer w.checkpoints.Store(false)
			w.checkpoint()
		}()
	}
	return nil
}

func (w *walSync) flushPath(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("flush to disk: %w", err)
	}
	defer f.Close()
	if err := (*w.flushFile.Load())(f); err != nil {
		return fmt.Errorf("flush %s to disk: %w", path, err)
	}
	return nil
}

func (w *walSync) closeFile() {
	if w.f != nil {
		w.f.Close()
		w.f, w.fi = nil, nil
	}
}

// close flushes what was asked for and stops; later requests get ErrClosed.
func (w *walSync) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	w.checkpointing.Wait()
}
