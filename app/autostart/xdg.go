package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// xdgFile is the entry's file name in every autostart folder.
const xdgFile = "mconnect.desktop"

// XDG is the Manager of Linux and the BSDs: mconnect.desktop in the user's
// autostart folder, which overrides an entry of the same name in the
// system's folders ($XDG_CONFIG_DIRS/autostart, default /etc/xdg/autostart).
type XDG struct {
	user    string   // the user's entry
	system  []string // the system's entries of the same name, first wins
	command []string
}

// NewXDG returns the XDG manager for the environment of this process:
// $XDG_CONFIG_HOME (default ~/.config) and $XDG_CONFIG_DIRS (default
// /etc/xdg); relative values are ignored, as the specification says.
func NewXDG(exe string, args ...string) *XDG {
	home := os.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(home) {
		h, err := os.UserHomeDir()
		if err != nil {
			h = "/"
		}
		home = filepath.Join(h, ".config")
	}
	var sys []string
	for _, d := range filepath.SplitList(os.Getenv("XDG_CONFIG_DIRS")) {
		if filepath.IsAbs(d) {
			sys = append(sys, filepath.Join(d, "autostart", xdgFile))
		}
	}
	if len(sys) == 0 {
		sys = []string{filepath.Join("/etc/xdg", "autostart", xdgFile)}
	}
	return &XDG{user: filepath.Join(home, "autostart", xdgFile), system: sys, command: append([]string{exe}, args...)}
}

// Where is the user's entry.
func (x *XDG) Where() string { return x.user }

// Enabled reads the entry that decides.
func (x *XDG) Enabled() (bool, error) { return enabled(x) }

// Inspect reads the user's entry, else the first system entry.
func (x *XDG) Inspect() (Status, error) {
	for _, p := range append([]string{x.user}, x.system...) {
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Status{Where: p, Exists: true}, fmt.Errorf("autostart: %w", err)
		}
		return x.read(p, data)
	}
	return Status{Where: x.user, Reason: reasonNoEntry}, nil
}

func (x *XDG) read(path string, data []byte) (Status, error) {
	st := Status{Where: path, Exists: true}
	e, err := parseDesktopEntry(data)
	if err != nil {
		return st, fmt.Errorf("autostart: %s: %w", path, err)
	}
	hidden, _, err := e.boolKey("Hidden")
	if err != nil {
		return st, fmt.Errorf("autostart: %s: %w", path, err)
	}
	on, given, err := e.boolKey("X-GNOME-Autostart-enabled")
	if err != nil {
		return st, fmt.Errorf("autostart: %s: %w", path, err)
	}
	if st.Command, err = e.exec(); err != nil {
		return st, fmt.Errorf("autostart: %s: %w", path, err)
	}
	switch {
	case hidden:
		st.Reason = fmt.Sprintf(reasonDisabled, "Hidden=true")
	case given && !on:
		st.Reason = fmt.Sprintf(reasonDisabled, "X-GNOME-Autostart-enabled=false")
	case e.keys["Type"] != "Application":
		st.Reason = fmt.Sprintf("Type=%s: not an application", e.keys["Type"])
	case len(st.Command) == 0:
		st.Reason = reasonNoCmd
	case !sameFile(st.Command[0], x.command[0]):
		st.Reason = fmt.Sprintf(reasonOther, strings.Join(st.Command, " "))
	default:
		st.Enabled = true
	}
	return st, nil
}

// SetEnabled writes the user's entry (on). Off removes it, or, when a
// system entry would still start the program, writes one with Hidden=true.
func (x *XDG) SetEnabled(on bool) error {
	if on {
		return writeFileAtomic(x.user, renderDesktopEntry(x.command), 0o644)
	}
	for _, p := range x.system {
		if _, err := os.Stat(p); err == nil {
			return writeFileAtomic(x.user, renderHiddenEntry(), 0o644)
		}
	}
	return removeFile(x.user)
}
