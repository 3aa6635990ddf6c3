package desktop

import (
	"testing"
	"time"
)

// loopQueue stands for Fyne's goroutine: queued functions run one after
// the other on the test's goroutine, in line once stopped (as Fyne does
// while it shuts down).
type loopQueue struct {
	queue   []func()
	stopped bool
}

func (q *loopQueue) do(f func()) {
	if q.stopped {
		f()
		return
	}
	q.queue = append(q.queue, f)
}

// step runs what is queued now, as one turn of the loop.
func (q *loopQueue) step() int {
	fs := q.queue
	q.queue = nil
	for _, f := range fs {
		f()
	}
	return len(fs)
}

func TestIdleLoopWaitsOnlyWhileHidden(t *testing.T) {
	q := &loopQueue{}
	l := newIdleLoop(time.Millisecond, q.do)
	l.started()
	if q.step() != 0 {
		t.Fatal("the loop waits before the Dashboard was hidden")
	}
	l.hidden()
	l.hidden() // a second hide queues no second wait
	if len(q.queue) != 1 {
		t.Fatalf("hidden queued %d waits, want 1", len(q.queue))
	}
	for range 3 {
		q.step()
	}
	if got := l.holds.Load(); got != 3 {
		t.Errorf("3 turns of the loop waited %d times, want 3", got)
	}
	if len(q.queue) != 1 {
		t.Fatalf("after a wait %d queued, want the next wait", len(q.queue))
	}
	l.shown()
	q.step() // the queued wait sees the Dashboard shown
	if got := l.holds.Load(); got != 3 || len(q.queue) != 0 {
		t.Errorf("after shown: %d waits, %d queued; want 3, 0", got, len(q.queue))
	}
}

func TestIdleLoopShownEndsAWaitAtOnce(t *testing.T) {
	q := &loopQueue{}
	l := newIdleLoop(time.Hour, q.do)
	l.started()
	l.hidden()
	done := make(chan struct{})
	go func() { q.step(); close(done) }()
	for !l.holding.Load() {
		time.Sleep(time.Millisecond)
	}
	l.shown()
	<-done // an hour otherwise
	if len(q.queue) != 0 {
		t.Errorf("%d functions queued after shown, want none", len(q.queue))
	}
}

func TestIdleLoopStopsWhenFyneRunsInLine(t *testing.T) {
	q := &loopQueue{}
	l := newIdleLoop(time.Millisecond, q.do)
	l.started()
	l.hidden()
	q.stopped = true
	q.step() // the wait's next wait runs in line: it must return, not recurse
	if got := l.holds.Load(); got != 1 {
		t.Errorf("%d waits, want 1", got)
	}
}

// TestIdleLoopStartedHidden: hidden before Fyne's loop runs (started in
// the tray), the waiting begins with the loop, never before it.
func TestIdleLoopStartedHidden(t *testing.T) {
	q := &loopQueue{}
	l := newIdleLoop(time.Millisecond, q.do)
	l.hidden()
	if len(q.queue) != 0 {
		t.Fatal("a wait was queued before the loop runs")
	}
	l.started()
	q.step()
	if got := l.holds.Load(); got != 1 || len(q.queue) != 1 {
		t.Errorf("after start: %d waits, %d queued; want 1, 1", got, len(q.queue))
	}
}
