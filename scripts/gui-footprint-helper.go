//go:build ignore

// Command gui-footprint-helper is what scripts/gui-footprint.sh needs
// around the desktop application on a bare Xvfb:
//
//	go run scripts/gui-footprint-helper.go trayhost
//	    owns org.kde.StatusNotifierWatcher on the session bus
//	    (DBUS_SESSION_BUS_ADDRESS), as a desktop's tray host does, so that
//	    the application runs with its tray icon; runs until killed.
//	go run scripts/gui-footprint-helper.go close WINDOW-ID
//	    asks the X window to close (WM_DELETE_WINDOW, as a window
//	    manager's close button does) on DISPLAY, which has no window
//	    manager.
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/godbus/dbus/v5"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gui-footprint-helper trayhost | close WINDOW-ID")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "trayhost":
		err = trayHost()
	case "close":
		if len(os.Args) != 3 {
			err = fmt.Errorf("close: want one window ID")
			break
		}
		err = closeWindow(os.Getenv("DISPLAY"), os.Args[2])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gui-footprint-helper:", err)
		os.Exit(1)
	}
}

// watcher answers a tray icon's registration.
type watcher struct{}

func (watcher) RegisterStatusNotifierItem(string) *dbus.Error { return nil }
func (watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

func trayHost() error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return fmt.Errorf("trayhost: session bus: %w", err)
	}
	const name, path = "org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher"
	if err := conn.Export(watcher{}, path, name); err != nil {
		return fmt.Errorf("trayhost: export: %w", err)
	}
	reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		return fmt.Errorf("trayhost: own %s: %v (reply %d)", name, err, reply)
	}
	select {}
}

// closeWindow speaks just enough X11 (no authentication, as Xvfb without
// -auth accepts) to send the window a WM_DELETE_WINDOW client message.
func closeWindow(display, id string) error {
	win, err := strconv.ParseUint(strings.TrimPrefix(id, "0x"), map[bool]int{true: 16, false: 10}[strings.HasPrefix(id, "0x")], 32)
	if err != nil {
		return fmt.Errorf("close: window ID %q: %w", id, err)
	}
	d := strings.TrimPrefix(display, ":")
	if i := strings.IndexByte(d, '.'); i >= 0 {
		d = d[:i]
	}
	c, err := net.Dial("unix", "/tmp/.X11-unix/X"+d)
	if err != nil {
		return fmt.Errorf("close: display %q: %w", display, err)
	}
	defer c.Close()
	le := binary.LittleEndian
	setup := make([]byte, 12)
	setup[0] = 'l'
	le.PutUint16(setup[2:], 11)
	if _, err := c.Write(setup); err != nil {
		return err
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(c, head); err != nil {
		return fmt.Errorf("close: X setup: %w", err)
	}
	if head[0] != 1 {
		return fmt.Errorf("close: the X server refused the connection (status %d)", head[0])
	}
	if _, err := io.CopyN(io.Discard, c, int64(le.Uint16(head[6:]))*4); err != nil {
		return err
	}
	atom := func(name string) (uint32, error) {
		n := len(name)
		pad := (4 - n%4) % 4
		req := make([]byte, 8+n+pad)
		req[0] = 16 // InternAtom
		le.PutUint16(req[2:], uint16(len(req)/4))
		le.PutUint16(req[4:], uint16(n))
		copy(req[8:], name)
		if _, err := c.Write(req); err != nil {
			return 0, err
		}
		rep := make([]byte, 32)
		if _, err := io.ReadFull(c, rep); err != nil {
			return 0, err
		}
		if rep[0] != 1 {
			return 0, fmt.Errorf("close: InternAtom %s: X error %d", name, rep[1])
		}
		return le.Uint32(rep[8:]), nil
	}
	protocols, err := atom("WM_PROTOCOLS")
	if err != nil {
		return err
	}
	del, err := atom("WM_DELETE_WINDOW")
	if err != nil {
		return err
	}
	req := make([]byte, 44)
	req[0] = 25 // SendEvent, propagate false
	le.PutUint16(req[2:], 11)
	le.PutUint32(req[4:], uint32(win))
	// event mask 0: to the client that created the window
	ev := req[12:]
	ev[0] = 33 // ClientMessage
	ev[1] = 32 // format
	le.PutUint32(ev[4:], uint32(win))
	le.PutUint32(ev[8:], protocols)
	le.PutUint32(ev[12:], del)
	if _, err := c.Write(req); err != nil {
		return err
	}
	// A round trip (GetInputFocus) makes sure the server handled it.
	if _, err := c.Write([]byte{43, 0, 1, 0}); err != nil {
		return err
	}
	rep := make([]byte, 32)
	if _, err := io.ReadFull(c, rep); err != nil {
		return err
	}
	if rep[0] == 0 {
		return fmt.Errorf("close: SendEvent: X error %d", rep[1])
	}
	return nil
}
