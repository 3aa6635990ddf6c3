// Package autostart starts mCONNECT Hub's tray application when the person
// logs in, through each operating system's own mechanism:
//
//   - Linux and the BSDs: an XDG autostart entry, mconnect.desktop in
//     $XDG_CONFIG_HOME/autostart (default ~/.config/autostart);
//   - macOS: a LaunchAgent, com.mesi.mconnect.plist in ~/Library/LaunchAgents;
//   - Windows: the value "mCONNECT Hub" under
//     HKCU\Software\Microsoft\Windows\CurrentVersion\Run.
//
// The state is never stored anywhere else: Enabled reads the entry itself
// every time, so what the hub reports is what the OS does at the next login.
// An entry that exists is read as what it is:
//
//   - it starts this program (the same file, a bare name found on PATH
//     included) and is not switched off: on;
//   - it starts another program (an older copy elsewhere, say): off, and
//     Status says which program; SetEnabled(true) replaces it and
//     SetEnabled(false) removes it, since it carries this program's name;
//   - it is switched off by the desktop (XDG Hidden=true or
//     X-GNOME-Autostart-enabled=false; a LaunchAgent with Disabled true or
//     without RunAtLoad; Windows' Task Manager or Settings > Startup apps,
//     which write StartupApproved\Run): off, and Status says why;
//   - it cannot be read or understood: an error naming the entry.
//
// Arguments are not compared: the entry's own are kept in Status.Command.
// Changes take effect at the next login; nothing is started or stopped now.
package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
)

// Name is the application's name in entries people see (XDG Name=, the
// Windows Run value's name).
const Name = "mCONNECT Hub"

// Manager switches starting at login on and off.
type Manager interface {
	// Enabled reports whether this program starts at the next login.
	Enabled() (bool, error)
	// SetEnabled writes (on) or removes (off) the entry.
	SetEnabled(on bool) error
	// Where names the entry: a file path, or the registry value.
	Where() string
}

// Status is what the entry at Where says, in full.
type Status struct {
	Enabled bool
	// Where is the entry that decides: Manager.Where, or on Linux a
	// system-wide entry (/etc/xdg/autostart) when the person has none.
	Where string
	// Exists is false when there is no entry at all.
	Exists bool
	// Command is what the entry starts (program first), if it names one.
	Command []string
	// Reason says in plain words why it is off ("" when on).
	Reason string
}

// Inspector is implemented by every Manager of this package: the state
// with its reason, for `mconnect autostart status` and the Dashboard.
type Inspector interface {
	Inspect() (Status, error)
}

// Reasons for Status.Reason.
const (
	reasonNoEntry  = "no entry"
	reasonOther    = "it starts another program: %s"
	reasonNoCmd    = "it names no program to start"
	reasonDisabled = "switched off (%s)"
)

// enabled is Enabled through Inspect.
func enabled(i Inspector) (bool, error) {
	st, err := i.Inspect()
	return st.Enabled, err
}

// sameFile reports whether prog (absolute, or a bare name looked up on
// PATH) is the file exe.
func sameFile(prog, exe string) bool {
	if prog == "" {
		return false
	}
	if filepath.Base(prog) == prog {
		p, err := exec.LookPath(prog)
		if err != nil {
			return false
		}
		prog = p
	}
	if filepath.Clean(prog) == filepath.Clean(exe) {
		return true
	}
	a, err1 := os.Stat(prog)
	b, err2 := os.Stat(exe)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// writeFileAtomic writes data to path through a synced temp file in the
// same folder, so a crash leaves the old entry or the new one, never half.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("autostart: create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("autostart: write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), perm)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("autostart: write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// removeFile removes path; a missing file is not an error.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("autostart: remove %s: %w", path, err)
	}
	return nil
}
