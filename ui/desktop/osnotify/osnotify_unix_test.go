//go:build (linux || freebsd || openbsd || netbsd) && !android

package osnotify

import (
	"bufio"
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/mesi/mconnect/app/sessionbus"
	"github.com/mesi/mconnect/internal/testfs"
)

// startBus runs a private session bus for the test, points
// DBUS_SESSION_BUS_ADDRESS at it and returns its address.
func startBus(t *testing.T) string {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon is not installed (apt-get install dbus): cannot test against a real session bus")
	}
	sock := filepath.Join(testfs.TempDir(t), "bus")
	cmd := exec.Command(daemon, "--session", "--nofork", "--nopidfile", "--print-address=1", "--address=unix:path="+sock)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read dbus-daemon address: %v", err)
	}
	addr := strings.TrimSpace(line)
	t.Setenv(sessionbus.EnvVar, addr)
	return addr
}

// notifyCall is what a Notify call brought, with the icon file's content
// read while the call ran.
type notifyCall struct {
	appName    string
	replacesID uint32
	icon       string
	iconData   []byte
	iconMode   os.FileMode
	summary    string
	body       string
	actions    []string
	hints      map[string]dbus.Variant
	timeout    int32
}

// fakeServer plays the desktop's notification server.
type fakeServer struct {
	calls  chan notifyCall
	refuse *dbus.Error // the answer to every call when set
}

func (f *fakeServer) Notify(appName string, replacesID uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	if f.refuse != nil {
		return 0, f.refuse
	}
	c := notifyCall{appName: appName, replacesID: replacesID, icon: icon, summary: summary, body: body,
		actions: actions, hints: hints, timeout: timeout}
	if icon != "" {
		c.iconData, _ = os.ReadFile(icon)
		if fi, err := os.Stat(icon); err == nil {
			c.iconMode = fi.Mode().Perm()
		}
	}
	f.calls <- c
	return uint32(len(f.calls)), nil
}

// serve registers f as org.freedesktop.Notifications on the bus at addr
// until the test ends.
func serve(t *testing.T, addr string, f *fakeServer) {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.Export(f, notifyPath, notifyService); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(notifyService, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("request name %s: %v %v", notifyService, reply, err)
	}
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func receive(t *testing.T, calls <-chan notifyCall) notifyCall {
	t.Helper()
	select {
	case c := <-calls:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the notification server got no call")
		return notifyCall{}
	}
}

func TestSend(t *testing.T) {
	addr := startBus(t)
	srv := &fakeServer{calls: make(chan notifyCall, 10)}
	serve(t, addr, srv)
	icon := pngBytes(t)

	tests := []struct {
		name, title, body string
		icon              []byte
		wantBody          string
	}{
		{"plain", "Results", "3 new results", icon, "3 new results"},
		{"markup is escaped in the body", `Tablet <A> & "B"`, "<b>bold</b> & <a href=\"x\">link</a>",
			icon, "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href=\"x\"&gt;link&lt;/a&gt;"},
		{"already escaped text is escaped again", "T", "&amp;", nil, "&amp;amp;"},
		{"no icon, several lines", "Dr. Müller's EHR", "line one\nline two", nil, "line one\nline two"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := New("mCONNECT Hub", "com.mesi.mconnect", tc.icon)
			t.Cleanup(n.Close)
			if err := n.Send(tc.title, tc.body); err != nil {
				t.Fatalf("Send: %v", err)
			}
			c := receive(t, srv.calls)
			if c.appName != "mCONNECT Hub" || c.replacesID != 0 || c.timeout != -1 || len(c.actions) != 0 {
				t.Errorf("app_name %q, replaces_id %d, expire_timeout %d, actions %q; want %q, 0, -1, none",
					c.appName, c.replacesID, c.timeout, c.actions, "mCONNECT Hub")
			}
			if c.summary != tc.title {
				t.Errorf("summary = %q, want %q", c.summary, tc.title)
			}
			if c.body != tc.wantBody {
				t.Errorf("body = %q, want %q", c.body, tc.wantBody)
			}
			if len(c.hints) != 1 || c.hints["desktop-entry"].Value() != "com.mesi.mconnect" {
				t.Errorf("hints = %v, want only desktop-entry com.mesi.mconnect", c.hints)
			}
			if tc.icon == nil {
				if c.icon != "" {
					t.Errorf("app_icon = %q, want none", c.icon)
				}
				return
			}
			if !filepath.IsAbs(c.icon) || !bytes.Equal(c.iconData, tc.icon) {
				t.Errorf("app_icon %q holds %d bytes, want an absolute path to the %d bytes of the PNG", c.icon, len(c.iconData), len(tc.icon))
			}
			if c.iconMode != 0o600 {
				t.Errorf("icon file mode %v, want 0600", c.iconMode)
			}
		})
	}
}

func TestSendReusesAndReconnects(t *testing.T) {
	addr := startBus(t)
	srv := &fakeServer{calls: make(chan notifyCall, 10)}
	serve(t, addr, srv)
	n := New("mCONNECT Hub", "com.mesi.mconnect", pngBytes(t))
	t.Cleanup(n.Close)

	if err := n.Send("one", "first"); err != nil {
		t.Fatal(err)
	}
	first := receive(t, srv.calls)
	conn := n.sys.conn
	if err := n.Send("two", "second"); err != nil {
		t.Fatal(err)
	}
	second := receive(t, srv.calls)
	if n.sys.conn != conn {
		t.Error("the second Send opened a new connection; want the first one reused")
	}
	if second.icon != first.icon {
		t.Errorf("icon file %q, then %q; want it written once", first.icon, second.icon)
	}

	// The connection ends (the bus dropped it, say): the next Send
	// connects again.
	conn.Close()
	if err := n.Send("three", "after the connection closed"); err != nil {
		t.Fatalf("Send after the connection closed: %v", err)
	}
	if c := receive(t, srv.calls); c.summary != "three" {
		t.Errorf("summary = %q, want three", c.summary)
	}
	if n.sys.conn == conn {
		t.Error("Send used the closed connection")
	}

	n.Close()
	if n.sys.conn != nil {
		t.Error("Close left the connection")
	}
	if _, err := os.Stat(first.icon); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("icon file after Close: %v, want it removed", err)
	}
	// Send works again after Close.
	if err := n.Send("four", "after Close"); err != nil {
		t.Fatalf("Send after Close: %v", err)
	}
	receive(t, srv.calls)
}

func TestSendNoBus(t *testing.T) {
	// A dbus-launch (which godbus runs to autolaunch a bus) and a
	// dbus-daemon that tell when they are started.
	bin := testfs.TempDir(t)
	started := filepath.Join(testfs.TempDir(t), "started")
	for _, name := range []string{"dbus-launch", "dbus-daemon"} {
		script := "#!/bin/sh\necho " + name + " >> '" + started + "'\nexit 1\n"
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin)
	t.Setenv("XDG_RUNTIME_DIR", testfs.TempDir(t))
	emptyRunDir := testfs.TempDir(t)
	old := userRunDir
	userRunDir = func() string { return emptyRunDir }
	t.Cleanup(func() { userRunDir = old })

	tests := []struct {
		name, addr string
		noBus      bool   // the error is sessionbus.ErrNoBus
		want       string // in the error
	}{
		{"disabled", sessionbus.Disabled, true, "no D-Bus session bus"},
		{"unset, no bus socket", "", true, "no D-Bus session bus"},
		{"autolaunch", "autolaunch:", true, "no D-Bus session bus"},
		{"socket gone", "unix:path=" + filepath.Join(testfs.TempDir(t), "gone"), false, "connect to the session bus"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(sessionbus.EnvVar, tc.addr)
			n := New("mCONNECT Hub", "com.mesi.mconnect", nil)
			defer n.Close()
			err := n.Send("title", "body")
			if b, err := os.ReadFile(started); err == nil {
				t.Errorf("Send started a bus: %s", b)
				_ = os.Remove(started)
			}
			if got := os.Getenv(sessionbus.EnvVar); got != tc.addr {
				t.Errorf("%s is %q after Send, want it left %q", sessionbus.EnvVar, got, tc.addr)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "osnotify: ") {
				t.Fatalf("Send = %v, want an osnotify error with %q", err, tc.want)
			}
			if errors.Is(err, sessionbus.ErrNoBus) != tc.noBus {
				t.Errorf("errors.Is(%v, sessionbus.ErrNoBus) = %v, want %v", err, !tc.noBus, tc.noBus)
			}
		})
	}
}

func TestSendIconUnwritable(t *testing.T) {
	addr := startBus(t)
	srv := &fakeServer{calls: make(chan notifyCall, 1)}
	serve(t, addr, srv)
	t.Setenv("TMPDIR", filepath.Join(testfs.TempDir(t), "gone"))
	n := New("mCONNECT Hub", "com.mesi.mconnect", pngBytes(t))
	defer n.Close()

	err := n.Send("title", "body")
	if err == nil || !strings.HasPrefix(err.Error(), "osnotify: write the icon: ") {
		t.Errorf("Send = %v, want the icon's error", err)
	}
	if c := receive(t, srv.calls); c.summary != "title" || c.icon != "" {
		t.Errorf("notification %q with icon %q, want it shown without an icon", c.summary, c.icon)
	}
}

func TestSendRefused(t *testing.T) {
	tests := []struct {
		name   string
		refuse *dbus.Error // nil: no notification server on the bus
		want   string
	}{
		{"server refuses", dbus.NewError("org.freedesktop.Notifications.Error.Refused", []any{"not now"}),
			"org.freedesktop.Notifications.Error.Refused"},
		{"no notification server", nil, "org.freedesktop.DBus.Error.ServiceUnknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := startBus(t)
			if tc.refuse != nil {
				serve(t, addr, &fakeServer{calls: make(chan notifyCall, 1), refuse: tc.refuse})
			}
			n := New("mCONNECT Hub", "com.mesi.mconnect", nil)
			defer n.Close()
			err := n.Send("title", "body")
			if err == nil {
				t.Fatal("Send = nil, want an error")
			}
			if !strings.HasPrefix(err.Error(), "osnotify: call org.freedesktop.Notifications.Notify: ") {
				t.Errorf("error %q does not name the call", err)
			}
			var derr dbus.Error
			if !errors.As(err, &derr) || derr.Name != tc.want {
				t.Errorf("error %v: want the D-Bus error %s wrapped", err, tc.want)
			}
		})
	}
}
