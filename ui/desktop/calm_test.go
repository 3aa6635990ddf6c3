package desktop

import (
	"testing"
	"time"
)

// calmFixture runs a calmLoop on a loopQueue (Fyne's goroutine played by
// the test's), with waits and timers recorded instead of taken.
type calmFixture struct {
	q      *loopQueue
	c      *calmLoop
	waited []time.Duration
	timers []func()
}

func newCalmFixture() *calmFixture {
	f := &calmFixture{q: &loopQueue{}}
	f.c = newCalmLoop(f.q.do, func(d time.Duration) { f.waited = append(f.waited, d) })
	f.c.after = func(d time.Duration, fn func()) {
		if d != calmGap {
			panic("the next turn is not after the gap")
		}
		f.timers = append(f.timers, fn)
	}
	return f
}

// fire runs the timers due (the gap passed).
func (f *calmFixture) fire() {
	ts := f.timers
	f.timers = nil
	for _, t := range ts {
		t()
	}
}

func TestCalmLoopWaitsOnlyWhileShown(t *testing.T) {
	f := newCalmFixture()
	f.c.shown()
	if len(f.q.queue) != 0 {
		t.Fatal("a turn was queued before Fyne's loop runs")
	}
	f.c.started()
	f.c.shown() // a second show queues no second turn
	if len(f.q.queue) != 1 {
		t.Fatalf("%d turns queued, want 1", len(f.q.queue))
	}
	for range 3 {
		f.q.step()
		if len(f.q.queue) != 0 {
			t.Fatal("the next turn was queued before the gap")
		}
		f.fire()
	}
	if len(f.waited) != 3 || f.waited[0] != calmPeriod {
		t.Fatalf("waits = %v, want 3 of %v", f.waited, calmPeriod)
	}

	// Hidden: the turn queued ends the turns; shown again, they start anew.
	f.c.hidden()
	f.q.step()
	f.fire()
	if len(f.waited) != 3 || len(f.q.queue) != 0 {
		t.Fatalf("hidden: %d waits, %d queued; want 3 and 0", len(f.waited), len(f.q.queue))
	}
	f.c.shown()
	f.q.step()
	if len(f.waited) != 4 {
		t.Fatalf("shown again: %d waits, want 4", len(f.waited))
	}

	// Stopped: nothing waits any more, and a wake does not call GLFW.
	f.c.stop()
	f.fire()
	f.q.step()
	posted := 0
	f.c.wakeWith(func() { posted++ })()
	if len(f.waited) != 4 || posted != 0 {
		t.Errorf("after stop: %d waits, %d wakes; want 4 and 0", len(f.waited), posted)
	}
}

// TestCalmLoopNeverWaitsOffFynesGoroutine: while Fyne stops, fyne.Do runs
// functions in line on the caller's goroutine, where GLFW must not be
// called.
func TestCalmLoopNeverWaitsOffFynesGoroutine(t *testing.T) {
	f := newCalmFixture()
	f.c.started()
	f.c.shown()
	f.q.queue = nil
	done := make(chan struct{})
	go func() { f.c.turn(); close(done) }()
	<-done
	if len(f.waited) != 0 {
		t.Fatal("a turn waited on another goroutine than Fyne's loop")
	}
	// The turns ended; showing again starts them (on the loop's goroutine).
	f.c.shown()
	f.q.step()
	if len(f.waited) != 1 {
		t.Fatalf("%d waits after showing again, want 1", len(f.waited))
	}
}

func TestCalmWakeIsHarmlessWhenGLFWPanics(t *testing.T) {
	f := newCalmFixture()
	f.c.started()
	f.c.shown()
	f.c.wakeWith(func() { panic("glfw: not initialized") })() // must not panic
	posted := 0
	f.c.wakeWith(func() { posted++ })()
	if posted != 1 {
		t.Errorf("a wake while a turn may wait posted %d events, want 1", posted)
	}
}

func TestGoroutineID(t *testing.T) {
	a := goroutineID()
	if a == 0 {
		t.Fatal("no goroutine ID")
	}
	ch := make(chan uint64)
	go func() { ch <- goroutineID() }()
	if b := <-ch; b == a || b == 0 {
		t.Errorf("another goroutine's ID = %d (this one %d)", b, a)
	}
	if goroutineID() != a {
		t.Error("the ID changed")
	}
}
