//go:build windows

package probe

import (
	"errors"
	"syscall"
)

// WSAECONNREFUSED
const wsaeconnrefused syscall.Errno = 10061

func isRefused(err error) bool {
	return errors.Is(err, wsaeconnrefused) || errors.Is(err, syscall.ECONNREFUSED)
}
