//go:build !windows && !((linux || freebsd || openbsd || netbsd) && !android)

package osnotify

import (
	"errors"
	"fmt"
	"runtime"
)

// system has nothing to keep here.
type system struct{}

func (system) close() {}

func (n *Notifier) send(title, body string) error {
	return fmt.Errorf("osnotify: notifications on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
