//go:build !windows && !darwin

package secrets

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/godbus/dbus/v5"
)

// runUserDir is the runtime folder systemd-logind makes for the user; godbus
// looks for the bus socket there too.
var runUserDir = func() string { return "/run/user/" + strconv.Itoa(os.Getuid()) }

var sessionBusMu sync.Mutex

// ensureSessionBus makes sure go-keyring connects to a session bus that is
// already running and never has one autolaunched. godbus (through
// dbus.SessionBus) runs dbus-launch when DBUS_SESSION_BUS_ADDRESS is unset
// or "autolaunch:" and it finds no socket at /run/user/UID/bus; that starts
// a dbus-daemon and, once go-keyring asks for the Secret Service, a
// D-Bus-activated gnome-keyring-daemon, both of which outlive the hub.
//
// With an address set, godbus dials it and nothing else ("disabled:" means
// no bus, see view.CheckTray in the GUI). Without one, the
// bus socket is looked for at $XDG_RUNTIME_DIR/bus and /run/user/UID/bus
// and, when found, put into DBUS_SESSION_BUS_ADDRESS for godbus to read;
// otherwise the answer is errNoSessionBus and go-keyring is not called.
func ensureSessionBus() error {
	sessionBusMu.Lock()
	defer sessionBusMu.Unlock()
	switch a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a {
	case "", "autolaunch:":
	case "disabled:":
		// What the GUI sets when it found no bus, so that nothing in the
		// process autolaunches one.
		return fmt.Errorf("%w: DBUS_SESSION_BUS_ADDRESS is %q", errNoSessionBus, a)
	default:
		return nil
	}
	var looked []string
	for _, dir := range []string{os.Getenv("XDG_RUNTIME_DIR"), runUserDir()} {
		if dir == "" {
			continue
		}
		sock := filepath.Join(dir, "bus")
		if fi, err := os.Stat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			if err := os.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+dbus.EscapeBusAddressValue(sock)); err != nil {
				return fmt.Errorf("%w: set DBUS_SESSION_BUS_ADDRESS: %v", errNoSessionBus, err)
			}
			return nil
		}
		looked = append(looked, sock)
	}
	return fmt.Errorf("%w: DBUS_SESSION_BUS_ADDRESS is not set and there is no bus socket at %s", errNoSessionBus, strings.Join(looked, " or "))
}
