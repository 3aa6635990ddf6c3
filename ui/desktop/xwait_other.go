//go:build !linux || !cgo || wayland

package desktop

import "time"

// xWaiter exists on Linux with X11 only; elsewhere the calm loop waits in
// GLFW (see calmLoop).
type xWaiter struct{}

func newXWaiter() *xWaiter { return nil }

func (*xWaiter) wait(time.Duration) {}
func (*xWaiter) wake()              {}
