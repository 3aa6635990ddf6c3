//go:build !windows

package desktop

import (
	"fmt"
	"os"
	"syscall"
)

// relaunch replaces this process with mconnect started anew with args (the
// same process ID: a service manager or a test sees no exit). It returns
// only on failure.
func relaunch(args ...string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	return fmt.Errorf("restart: %w", syscall.Exec(exe, append([]string{exe}, args...), os.Environ()))
}
