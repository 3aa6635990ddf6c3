// Package osnotify shows desktop notifications (a title and a body) with
// what the operating system offers, without a GUI toolkit: on Linux and
// the BSDs it calls the notification server on the D-Bus session bus
// (org.freedesktop.Notifications), on Windows it has PowerShell show a
// toast. Elsewhere Send reports errors.ErrUnsupported.
//
// It serves processes that have no GUI of their own, such as the tray.
package osnotify

import (
	"os"
	"sync"
)

// Notifier sends notifications for one application. Its methods may be
// called from several goroutines; Send calls run one at a time.
type Notifier struct {
	appName string
	appID   string
	icon    []byte

	mu       sync.Mutex
	iconPath string // the icon written to a file, once; "" before
	sys      system // what the platform keeps open between calls
}

// New returns a notifier. appName is the name the desktop shows
// ("mCONNECT Hub"), appID the application's ID ("com.mesi.mconnect"), icon
// the PNG bytes of the application's icon (nil for none). Nothing is
// opened before the first Send.
func New(appName, appID string, icon []byte) *Notifier {
	return &Notifier{appName: appName, appID: appID, icon: icon}
}

// Send shows one notification and returns once the system took it (or
// refused it). The error names what failed: no session bus, the
// notification server refused the call, PowerShell failed... When only
// the icon file cannot be written, the notification is shown without the
// icon and Send returns that error.
func (n *Notifier) Send(title, body string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.send(title, body)
}

// Close releases what Send opened: the bus connection and the icon file.
// A later Send opens them anew.
func (n *Notifier) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sys.close()
	if n.iconPath != "" {
		_ = os.Remove(n.iconPath)
		n.iconPath = ""
	}
}
