//go:build darwin

package autostart

import (
	"os"
	"path/filepath"
)

// New returns the manager of this OS: the LaunchAgent in ~/Library/LaunchAgents.
func New(exe string, args ...string) Manager {
	home, err := os.UserHomeDir()
	if err != nil {
		home = "/"
	}
	return NewLaunchAgent(filepath.Join(home, "Library", "LaunchAgents"), exe, args...)
}
