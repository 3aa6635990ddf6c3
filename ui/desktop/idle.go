package desktop

import (
	"sync"
	"sync/atomic"
	"time"
)

// idleLoop slows Fyne's event loop while the Dashboard is in the tray.
//
// Fyne's desktop driver wakes 60 times a second whether a window is shown
// or not (it polls GLFW and looks for something to draw). With no window
// on screen there is nothing to draw and no input to read, so while the
// Dashboard is hidden idleLoop keeps the loop waiting on Fyne's goroutine
// for up to period at a time: the loop runs a few times a second instead
// of 60. Whatever reaches the GUI meanwhile (a tray click, a health
// change, `mconnect --dashboard` run again) waits at most period.
// Showing the Dashboard ends the waiting at once.
type idleLoop struct {
	period time.Duration
	// do runs a function on Fyne's goroutine without waiting (fyne.Do).
	do func(func())

	mu      sync.Mutex
	on      bool
	running bool // Fyne's loop runs (before, do would run hold in line)
	wake    chan struct{}
	holding atomic.Bool
	// holds counts the waits, for tests.
	holds atomic.Int64
}

// idlePeriod is how long the hidden GUI's loop waits at a time.
const idlePeriod = 200 * time.Millisecond

func newIdleLoop(period time.Duration, do func(func())) *idleLoop {
	return &idleLoop{period: period, do: do, wake: make(chan struct{}, 1)}
}

// started says Fyne's loop runs (its OnStarted): a Dashboard hidden
// before starts being waited for now.
func (l *idleLoop) started() {
	l.mu.Lock()
	l.running = true
	on := l.on
	l.mu.Unlock()
	if on {
		l.do(l.hold)
	}
}

// hidden starts slowing the loop (the Dashboard went off screen).
func (l *idleLoop) hidden() {
	l.mu.Lock()
	was, running := l.on, l.running
	l.on = true
	l.mu.Unlock()
	if !was && running {
		l.do(l.hold)
	}
}

// shown stops slowing the loop; a wait in progress ends at once. Call it
// from any goroutine.
func (l *idleLoop) shown() {
	l.mu.Lock()
	l.on = false
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *idleLoop) active() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.on
}

// hold runs on Fyne's goroutine: it waits, then lets the loop run once
// (a frame, the queued work) before waiting again.
func (l *idleLoop) hold() {
	// While Fyne stops, do runs functions in line: no second wait then.
	if !l.active() || !l.holding.CompareAndSwap(false, true) {
		return
	}
	defer l.holding.Store(false)
	t := time.NewTimer(l.period)
	select {
	case <-t.C:
	case <-l.wake:
	}
	t.Stop()
	l.holds.Add(1)
	if l.active() {
		l.do(l.hold)
	}
}
