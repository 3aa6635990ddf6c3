//go:build (linux || freebsd || openbsd || netbsd) && !android

package view

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/godbus/dbus/v5"
	"github.com/mesi/mconnect/app/sessionbus"
)

// errNoSessionBus means there is no D-Bus session bus to reach.
var errNoSessionBus = errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")

// statusNotifierWatcher is the bus name of the tray host on desktops that
// show StatusNotifierItem icons (KDE, XFCE, GNOME with an extension...).
const statusNotifierWatcher = "org.kde.StatusNotifierWatcher"

// checkTray tells whether the tray can work here. On these systems the
// tray (fyne.io/systray) talks D-Bus to the session bus; without one it
// crashes when the app quits, so the GUI must run window-only. err is nil
// when the bus answers; host reports whether a tray host is registered on
// it (without one the icon is invisible until a host appears).
//
// Unlike godbus' SessionBus, this never autolaunches a bus daemon: it only
// dials the address from DBUS_SESSION_BUS_ADDRESS, or $XDG_RUNTIME_DIR/bus.
func checkTray(ctx context.Context) (host bool, err error) {
	// Fyne and the tray dial the session bus through godbus: give them the
	// address found here, so that none of them autolaunches a second bus.
	if _, err := sessionbus.Ensure(); err != nil {
		return false, errNoSessionBus
	}
	return checkTrayEnv(ctx, os.Getenv, sessionbus.UserRunDir())
}

func checkTrayEnv(ctx context.Context, getenv func(string) string, userRunDir string) (host bool, err error) {
	addr, err := sessionBusAddress(getenv, userRunDir)
	if err != nil {
		return false, err
	}
	conn, err := dbus.Connect(addr, dbus.WithContext(ctx))
	if err != nil {
		return false, fmt.Errorf("D-Bus session bus at %s does not answer: %w", addr, err)
	}
	defer conn.Close()
	var owned bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0,
		statusNotifierWatcher).Store(&owned); err != nil {
		return false, fmt.Errorf("D-Bus session bus at %s: ask for %s: %w", addr, statusNotifierWatcher, err)
	}
	return owned, nil
}

// sessionBusAddress finds the session bus the way godbus does, minus
// autolaunch. userRunDir is /run/user/<uid>.
func sessionBusAddress(getenv func(string) string, userRunDir string) (string, error) {
	addr, err := sessionbus.Find(getenv, userRunDir)
	if err != nil {
		return "", errNoSessionBus
	}
	return addr, nil
}

// preventBusAutolaunch stops godbus from starting a session bus daemon
// (through dbus-launch) when there is none: Fyne asks the desktop portal
// for the colour scheme at start, and such a daemon would outlive the hub.
// Call it only when sessionBusAddress found no bus.
func preventBusAutolaunch() error {
	if err := os.Setenv(sessionbus.EnvVar, sessionbus.Disabled); err != nil {
		return fmt.Errorf("ui: disable D-Bus autolaunch: %w", err)
	}
	return nil
}
