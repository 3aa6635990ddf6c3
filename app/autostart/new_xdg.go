//go:build !windows && !darwin

package autostart

// New returns the manager of this OS: the XDG autostart entry.
func New(exe string, args ...string) Manager { return NewXDG(exe, args...) }
