package logging

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// lineFlushEvery bounds how long an info or debug line waits in memory.
const lineFlushEvery = 200 * time.Millisecond

// lineBuffer collects log lines and writes them out together: at a busy
// ingest every order has its line, and a write to the file for each was a
// system call per order. A line at warning level or worse, Close, and a
// timer lineFlushEvery after the first waiting line write them out.
type lineBuffer struct {
	mu     sync.Mutex
	w      *bufio.Writer
	timer  *time.Timer
	closed bool
}

func newLineBuffer(w io.Writer) *lineBuffer {
	return &lineBuffer{w: bufio.NewWriterSize(w, 64<<10)}
}

// write adds line; now writes it and everything before it at once.
func (b *lineBuffer) write(line []byte, now bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		// After Close (a line logged while the hub stops): unbuffered.
		_, err := b.w.Write(line)
		if err == nil {
			err = b.w.Flush()
		}
		return err
	}
	if _, err := b.w.Write(line); err != nil {
		return err
	}
	if now {
		return b.w.Flush()
	}
	if b.timer == nil {
		b.timer = time.AfterFunc(lineFlushEvery, b.flush)
	}
	return nil
}

func (b *lineBuffer) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.timer = nil
	_ = b.w.Flush()
}

func (b *lineBuffer) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	b.closed = true
	_ = b.w.Flush()
}
