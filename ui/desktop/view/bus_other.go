//go:build !((linux || freebsd || openbsd || netbsd) && !android)

package view

import (
	"context"
	"errors"
)

// errNoSessionBus is never returned here; it exists for Run's check.
var errNoSessionBus = errors.New("no D-Bus session bus")

// checkTray reports that the tray works: on Windows and macOS the system
// tray is always there.
func checkTray(context.Context) (host bool, err error) { return true, nil }

// preventBusAutolaunch does nothing: there is no D-Bus session bus to
// autolaunch here.
func preventBusAutolaunch() error { return nil }

// statusNotifierWatcher names the Linux tray host in a log line that is
// never written here (checkTray always reports a host).
const statusNotifierWatcher = "org.kde.StatusNotifierWatcher"
