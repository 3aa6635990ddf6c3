package desktop

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// calmLoop lets Fyne's loop sleep in the window system while the
// Dashboard is on screen and nothing happens.
//
// Fyne's desktop loop polls the window system and looks for something to
// draw 60 times a second, also when nothing changes: 2 % of a core with
// the Dashboard open and untouched. While the window is on screen,
// calmLoop hands the loop, from time to time, a turn that waits in the
// window system itself (GLFW's WaitEventsTimeout) for at most period:
// input (a mouse move, a key, a click) ends the wait at once and is
// handled in that very call, so input is not delayed; after each wait the
// loop runs normally for gap (a frame or two: what changed is drawn) before
// the next turn. The hub's answers and change events wake the wait too
// (view.SetWake); what else changes without input — a spinner's next
// step — is drawn up to period later while the mouse rests.
type calmLoop struct {
	period, gap time.Duration
	// do runs a function on Fyne's goroutine without waiting (fyne.Do);
	// wait waits for the window system's next event, at most the time
	// given, on Fyne's goroutine; after runs a function after a time.
	do    func(func())
	wait  func(time.Duration)
	after func(time.Duration, func())

	mu      sync.Mutex
	on      bool   // the Dashboard is on screen
	chain   bool   // a turn is queued or waiting
	loop    uint64 // goroutine of Fyne's loop; 0 before it runs
	stopped bool
	// waits counts the turns that waited, for tests.
	waits atomic.Int64
}

// calmPeriod and calmGap: while the mouse rests, the loop runs about
// 20 ms out of every 520.
const (
	calmPeriod = 500 * time.Millisecond
	calmGap    = 20 * time.Millisecond
)

func newCalmLoop(do func(func()), wait func(time.Duration)) *calmLoop {
	return &calmLoop{period: calmPeriod, gap: calmGap, do: do, wait: wait,
		after: func(d time.Duration, f func()) { time.AfterFunc(d, f) }}
}

// started says Fyne's loop runs; call it on Fyne's goroutine (OnStarted).
func (c *calmLoop) started() {
	c.mu.Lock()
	c.loop = goroutineID()
	c.mu.Unlock()
	c.kick()
}

// shown says the Dashboard is on screen; hidden that it is not.
func (c *calmLoop) shown() {
	c.mu.Lock()
	c.on = true
	c.mu.Unlock()
	c.kick()
}

func (c *calmLoop) hidden() {
	c.mu.Lock()
	c.on = false
	c.mu.Unlock()
}

// stop ends the turns for good (Fyne stops).
func (c *calmLoop) stop() {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
}

// kick queues a turn unless one is queued or the loop cannot take one.
func (c *calmLoop) kick() {
	c.mu.Lock()
	start := c.on && !c.stopped && c.loop != 0 && !c.chain
	if start {
		c.chain = true
	}
	c.mu.Unlock()
	if start {
		c.do(c.turn)
	}
}

// turn waits in the window system, then queues the next turn after gap.
// While Fyne stops, fyne.Do runs functions in line on the caller's
// goroutine, where GLFW must not be called: a turn off Fyne's loop ends
// the turns.
func (c *calmLoop) turn() {
	c.mu.Lock()
	if !c.on || c.stopped || goroutineID() != c.loop {
		c.chain = false
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.wait(c.period)
	c.waits.Add(1)
	c.after(c.gap, func() { c.do(c.turn) })
}

// wakeWith returns what ends a turn's wait from any goroutine: post (GLFW's
// PostEmptyEvent), called only while a turn may be waiting. GLFW panics
// when called before it started or after it stopped; a wake then is not
// needed, and the panic is not let through.
func (c *calmLoop) wakeWith(post func()) func() {
	return func() {
		c.mu.Lock()
		waiting := c.chain && !c.stopped
		c.mu.Unlock()
		if !waiting {
			return
		}
		defer func() { _ = recover() }()
		post()
	}
}

// goroutineID is the ID of the calling goroutine (from its stack header,
// "goroutine 1 [running]:").
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
