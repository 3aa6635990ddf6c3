//go:build linux && cgo && !wayland

package desktop

// #cgo LDFLAGS: -lX11
// #include <X11/Xlib.h>
// static int mconnect_xfd(void *d) { return d ? ConnectionNumber((Display *)d) : -1; }
import "C"

import (
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/go-gl/glfw/v3.4/glfw"
)

// xWaiter waits for the X server's next message on the display connection
// that GLFW reads, through Go's network poller: the waiting goroutine
// (Fyne's, locked to the main thread) parks without holding one of Go's
// processors, so the runtime sleeps too — a wait inside GLFW, in C, keeps
// Go's monitor waking for the first 10 ms of every wait. It never reads
// from the connection: GLFW does, on the loop's next turn.
type xWaiter struct {
	f     *os.File // never closed: the connection is GLFW's
	rc    syscall.RawConn
	woken atomic.Bool
}

// keepX keeps the display connection's *os.File reachable: its finalizer
// would close GLFW's connection.
var keepX *xWaiter

// newXWaiter returns a waiter on GLFW's X display connection, or nil when
// there is none that Go can poll. Call it on Fyne's goroutine once GLFW
// runs.
func newXWaiter() *xWaiter {
	if keepX != nil {
		return keepX
	}
	fd := int(C.mconnect_xfd(unsafe.Pointer(glfw.GetX11Display())))
	if fd < 0 {
		return nil
	}
	f := os.NewFile(uintptr(fd), "x11-display")
	rc, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	// A file Go cannot poll answers a deadline with an error at once
	// instead of waiting for it.
	if err := f.SetReadDeadline(time.Now().Add(time.Millisecond)); err != nil {
		return nil
	}
	keepX = &xWaiter{f: f, rc: rc}
	return keepX
}

// wait returns when the X server sent something, wake was called, or d
// passed.
func (w *xWaiter) wait(d time.Duration) {
	_ = w.f.SetReadDeadline(time.Now().Add(d))
	if w.woken.Swap(false) {
		return
	}
	first := true
	_ = w.rc.Read(func(uintptr) bool {
		if first {
			first = false
			return false // wait until readable (or the deadline)
		}
		return true
	})
	w.woken.Store(false)
}

// wake ends a wait from any goroutine.
func (w *xWaiter) wake() {
	w.woken.Store(true)
	_ = w.f.SetReadDeadline(time.Now())
}
