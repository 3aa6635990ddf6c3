//go:build !windows && !darwin

package secrets

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/mesi/mconnect/app/sessionbus"
)

// runUserDir is the runtime folder systemd-logind makes for the user
// (tests point it elsewhere).
var runUserDir = sessionbus.UserRunDir

var sessionBusMu sync.Mutex

// ensureSessionBus makes sure go-keyring connects to a session bus that is
// already running and never has one autolaunched (see package sessionbus):
// godbus runs dbus-launch when DBUS_SESSION_BUS_ADDRESS is unset and no
// socket is at /run/user/UID/bus, starting a dbus-daemon and, once
// go-keyring asks for the Secret Service, a D-Bus-activated
// gnome-keyring-daemon, both of which outlive the hub. Without a bus the
// answer is errNoSessionBus and go-keyring is not called.
func ensureSessionBus() error {
	sessionBusMu.Lock()
	defer sessionBusMu.Unlock()
	addr, err := sessionbus.Find(os.Getenv, runUserDir())
	if err != nil {
		return fmt.Errorf("%w: %v", errNoSessionBus, strings.TrimPrefix(err.Error(), sessionbus.ErrNoBus.Error()+": "))
	}
	if os.Getenv(sessionbus.EnvVar) != addr {
		if err := os.Setenv(sessionbus.EnvVar, addr); err != nil {
			return fmt.Errorf("%w: set %s: %v", errNoSessionBus, sessionbus.EnvVar, err)
		}
	}
	return nil
}
