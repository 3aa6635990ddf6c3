// Package sessionbus finds the user's D-Bus session bus the way godbus
// does — the environment, then the runtime folders — but never
// autolaunches one: a bus daemon started for the hub (and the
// gnome-keyring-daemon it activates) would outlive it. The OS keyring and
// the tray both reach the bus through here.
package sessionbus

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/godbus/dbus/v5"
)

// ErrNoBus means there is no session bus to reach.
var ErrNoBus = errors.New("no D-Bus session bus")

// EnvVar is where godbus reads the session bus address.
const EnvVar = "DBUS_SESSION_BUS_ADDRESS"

// Disabled is the address that tells godbus there is no bus: nothing in
// the process autolaunches one.
const Disabled = "disabled:"

// Find returns the session bus address: the environment's (unless empty,
// "autolaunch:" or Disabled), else the bus socket in $XDG_RUNTIME_DIR or
// userRunDir (/run/user/UID). getenv reads the environment (os.Getenv).
func Find(getenv func(string) string, userRunDir string) (string, error) {
	switch a := getenv(EnvVar); a {
	case "", "autolaunch:":
	case Disabled:
		return "", fmt.Errorf("%w: %s is %q", ErrNoBus, EnvVar, a)
	default:
		return a, nil
	}
	var looked []string
	for _, dir := range []string{getenv("XDG_RUNTIME_DIR"), userRunDir} {
		if dir == "" {
			continue
		}
		sock := filepath.Join(dir, "bus")
		if fi, err := os.Stat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return "unix:path=" + dbus.EscapeBusAddressValue(sock), nil
		}
		looked = append(looked, sock)
	}
	return "", fmt.Errorf("%w: %s is not set and there is no bus socket at %s", ErrNoBus, EnvVar, strings.Join(looked, " or "))
}

// UserRunDir is /run/user/UID.
func UserRunDir() string { return "/run/user/" + strconv.Itoa(os.Getuid()) }

var mu sync.Mutex

// Ensure makes the process's godbus connect only to a bus that runs: the
// address found is put into the environment; with none, Disabled is, and
// the error is ErrNoBus.
func Ensure() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	addr, err := Find(os.Getenv, UserRunDir())
	if err != nil {
		if os.Getenv(EnvVar) != Disabled {
			_ = os.Setenv(EnvVar, Disabled)
		}
		return "", err
	}
	if os.Getenv(EnvVar) != addr {
		if serr := os.Setenv(EnvVar, addr); serr != nil {
			return "", fmt.Errorf("%w: set %s: %v", ErrNoBus, EnvVar, serr)
		}
	}
	return addr, nil
}
