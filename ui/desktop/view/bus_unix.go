//go:build (linux || freebsd || openbsd || netbsd) && !android

package view

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/godbus/dbus/v5"
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
	return checkTrayEnv(ctx, os.Getenv, fmt.Sprintf("/run/user/%d", os.Getuid()))
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

// sessionBusAddress finds the session bus the way godbus does (the
// environment, else the user's runtime directory), minus autolaunch.
// userRunDir is /run/user/<uid>.
func sessionBusAddress(getenv func(string) string, userRunDir string) (string, error) {
	if a := getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return a, nil
	}
	for _, dir := range []string{getenv("XDG_RUNTIME_DIR"), userRunDir} {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, "bus")
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return "unix:path=" + dbus.EscapeBusAddressValue(p), nil
		}
	}
	return "", errNoSessionBus
}

// preventBusAutolaunch stops godbus from starting a session bus daemon
// (through dbus-launch) when there is none: Fyne asks the desktop portal
// for the colour scheme at start, and such a daemon would outlive the hub.
// Call it only when sessionBusAddress found no bus.
func preventBusAutolaunch() error {
	if err := os.Setenv("DBUS_SESSION_BUS_ADDRESS", "disabled:"); err != nil {
		return fmt.Errorf("ui: disable D-Bus autolaunch: %w", err)
	}
	return nil
}
