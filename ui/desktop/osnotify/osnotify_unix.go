//go:build (linux || freebsd || openbsd || netbsd) && !android

package osnotify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/mesi/mconnect/app/sessionbus"
)

// The notification server on the session bus, as the Desktop
// Notifications Specification names it.
const (
	notifyService = "org.freedesktop.Notifications"
	notifyPath    = dbus.ObjectPath("/org/freedesktop/Notifications")
	notifyMethod  = notifyService + ".Notify"
)

// callTimeout bounds one call to the notification server, so that a
// server that hangs does not hold the caller.
const callTimeout = 10 * time.Second

// userRunDir is where the user's bus socket is when the environment names
// none (tests point it elsewhere).
var userRunDir = sessionbus.UserRunDir

// system is the connection to the session bus, opened by the first Send.
type system struct {
	conn *dbus.Conn
}

func (s *system) close() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

// connect returns the open connection or opens one. The bus is found
// through package sessionbus, so none is ever autolaunched.
func (s *system) connect() (*dbus.Conn, error) {
	if s.conn != nil && s.conn.Connected() {
		return s.conn, nil
	}
	s.close()
	addr, err := sessionbus.Find(os.Getenv, userRunDir())
	if err != nil {
		return nil, fmt.Errorf("osnotify: %w", err)
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		return nil, fmt.Errorf("osnotify: connect to the session bus at %s: %w", addr, err)
	}
	s.conn = conn
	return conn, nil
}

// markup escapes what a server that reads markup in the body would take
// for it. The summary is plain text by the specification.
var markup = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// send calls Notify with replaces_id 0: every notification stands on its
// own, so a newer one never takes an older one off the screen before a
// person saw it. The connection is reused; if it was closed (the bus
// restarted, say), it is opened again once.
func (n *Notifier) send(title, body string) error {
	icon, iconErr := n.iconFile()
	args := []any{
		n.appName,
		uint32(0), // replaces_id
		icon,
		title,
		markup.Replace(body),
		[]string{}, // actions
		map[string]dbus.Variant{"desktop-entry": dbus.MakeVariant(n.appID)},
		int32(-1), // expire_timeout: as the server likes
	}
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var conn *dbus.Conn
		conn, err = n.sys.connect()
		if err != nil {
			return err
		}
		err = call(conn, args)
		if err == nil || conn.Connected() {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("osnotify: call %s: %w", notifyMethod, err)
	}
	return iconErr
}

func call(conn *dbus.Conn, args []any) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var id uint32
	err := conn.Object(notifyService, notifyPath).CallWithContext(ctx, notifyMethod, 0, args...).Store(&id)
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %v: %w", callTimeout, err)
	}
	return err
}
