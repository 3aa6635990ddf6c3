//go:build windows

package desktop

import (
	"fmt"
	"os"
	"os/exec"
)

// relaunch starts mconnect anew with args and ends this process (Windows
// has no exec). It returns only on failure.
func relaunch(args ...string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	if err := exec.Command(exe, args...).Start(); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	os.Exit(0)
	return nil
}
