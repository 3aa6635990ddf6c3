package xvfb

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// trayWatcher is a desktop's tray host as far as the icon needs one.
type trayWatcher struct{ items chan string }

func (w *trayWatcher) RegisterStatusNotifierItem(s string) *dbus.Error { w.items <- s; return nil }
func (w *trayWatcher) RegisterStatusNotifierHost(string) *dbus.Error   { return nil }

// notifications is a desktop's notification server.
type notifications struct{ got chan string }

func (n *notifications) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	n.got <- summary
	return 1, nil
}

// privateSessionBus starts a D-Bus session bus of the test's own with a
// tray host and a notification server on it.
func privateSessionBus(t *testing.T) (addr string, conn *dbus.Conn, w *trayWatcher, n *notifications) {
	t.Helper()
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("dbus-daemon (apt-get install dbus): %v", err)
	}
	stop(t, "dbus-daemon", cmd)
	addr, err = bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon: %v", err)
	}
	addr = strings.TrimSpace(addr)
	conn, err = dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	w = &trayWatcher{items: make(chan string, 8)}
	n = &notifications{got: make(chan string, 8)}
	for _, e := range []struct {
		obj        any
		path, name string
	}{
		{w, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"},
		{n, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"},
	} {
		if err := conn.Export(e.obj, dbus.ObjectPath(e.path), e.name); err != nil {
			t.Fatal(err)
		}
		if r, err := conn.RequestName(e.name, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
			t.Fatalf("own %s: %v %v", e.name, r, err)
		}
	}
	return addr, conn, w, n
}

// trayItems reads the tray menu's items (label → ID) as a tray host does.
func trayItems(t *testing.T, conn *dbus.Conn, pid int) map[string]int32 {
	t.Helper()
	ids := make([]int32, 500)
	for i := range ids {
		ids[i] = int32(i + 1)
	}
	var props []struct {
		V0 int32
		V1 map[string]dbus.Variant
	}
	obj := conn.Object(fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", pid), "/StatusNotifierItem/menu")
	if err := obj.Call("com.canonical.dbusmenu.GetGroupProperties", 0, ids, []string{}).Store(&props); err != nil {
		t.Fatalf("tray menu: %v", err)
	}
	items := map[string]int32{}
	for _, p := range props {
		if l, ok := p.V1["label"].Value().(string); ok && l != "" {
			items[l] = p.V0
		}
	}
	return items
}

func clickTray(t *testing.T, conn *dbus.Conn, pid int, label string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		items := trayItems(t, conn, pid)
		if id, ok := items[label]; ok {
			obj := conn.Object(fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", pid), "/StatusNotifierItem/menu")
			if err := obj.Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(""), uint32(0)).Err; err != nil {
				t.Fatalf("click %q: %v", label, err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the tray menu: %v", label, items)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// children lists the processes whose parent is pid.
func children(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, n)
		}
	}
	return out
}

// glLoaded says whether a process has mapped Mesa's renderer.
func glLoaded(t *testing.T, pid int) bool {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	return strings.Contains(s, "libLLVM") || strings.Contains(s, "swrast") || strings.Contains(s, "libgallium")
}

func rssMB(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if kb, err := strconv.Atoi(f[1]); err == nil {
				return fmt.Sprintf("%d MB", kb/1024)
			}
		}
	}
	return "?"
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(windowTimeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, windowTimeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitForExit waits until gone says process pid is gone; one that is not
// ends with SIGQUIT first, so that its goroutines' stacks are in its
// output (which the test prints when it fails).
func waitForExit(t *testing.T, what string, pid int, gone func() bool) {
	t.Helper()
	deadline := time.Now().Add(windowTimeout)
	for !gone() {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGQUIT)
			time.Sleep(2 * time.Second)
			t.Fatalf("%s: not within %v (ended with SIGQUIT: its stacks are in the output)", what, windowTimeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestTrayProcess runs the desktop application as staff meet it, with a
// tray host on the session bus: the hub and its tray icon in one process
// without OpenGL, the Dashboard a process of its own, opened from the tray
// menu and by a second `mconnect`, closed without stopping the hub.
func TestTrayProcess(t *testing.T) {
	if os.Getenv("MCONNECT_XVFB_TEST") == "" {
		t.Skip("MCONNECT_XVFB_TEST is not set: this test runs mconnect with a tray host on Xvfb")
	}
	root := repoRoot(t)
	dir := t.TempDir()
	bin := buildMconnect(t, root, dir)
	display := os.Getenv("DISPLAY")
	if display == "" {
		display = startXvfb(t, dir)
	}
	addr, conn, watcher, notes := privateSessionBus(t)

	path := birpisConfig(t, bin, nil)
	home := filepath.Join(dir, "home")
	run := filepath.Join(dir, "run")
	for _, d := range []string{home, run} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"), "XDG_RUNTIME_DIR=" + run, "LANG=en_US.UTF-8",
		"DISPLAY=" + display, "DBUS_SESSION_BUS_ADDRESS=" + addr,
	}
	var log syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mconnect output:\n%s", log.String())
		}
	})
	tray := exec.Command(bin, "--config", path)
	tray.Env, tray.Stdout, tray.Stderr = env, &log, &log
	if err := tray.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- tray.Wait() }()
	t.Cleanup(func() {
		_ = tray.Process.Kill()
		for _, c := range children(tray.Process.Pid) {
			syscall.Kill(c, syscall.SIGKILL)
		}
	})
	select {
	case <-watcher.items:
	case err := <-exited:
		t.Fatalf("mconnect ended before its tray icon registered: %v", err)
	case <-time.After(windowTimeout):
		t.Fatal("the tray icon did not register with the tray host")
	}
	pid := tray.Process.Pid
	status := func() error {
		c := exec.Command(bin, "status", "--config", path)
		c.Env = env
		return c.Run()
	}
	waitFor(t, "the hub answers mconnect status", func() bool { return status() == nil })
	if glLoaded(t, pid) {
		t.Error("the tray process loaded Mesa's renderer")
	}
	if c := children(pid); len(c) != 0 {
		t.Errorf("a Dashboard process runs before anyone opened it: %v", c)
	}
	t.Logf("tray process in the tray: RSS %s", rssMB(pid))

	// Open Dashboard in the tray menu: the window is a process of its own.
	clickTray(t, conn, pid, "Open Dashboard")
	id, geom := waitForWindow(t, display)
	var dash int
	waitFor(t, "the Dashboard process", func() bool {
		c := children(pid)
		if len(c) == 1 {
			dash = c[0]
		}
		return len(c) == 1
	})
	img := waitForPaint(t, display, filepath.Join(dir, "shot.png"), geom)
	if err := writePNG(filepath.Join(dir, "dashboard.png"), img); err != nil {
		t.Fatal(err)
	}
	if glLoaded(t, pid) {
		t.Error("the tray process loaded Mesa's renderer after the Dashboard opened")
	}
	t.Logf("Dashboard open: tray process RSS %s, Dashboard process RSS %s", rssMB(pid), rssMB(dash))

	// Closing the window ends the Dashboard process; the hub serves on.
	helper := exec.Command("go", "run", "scripts/gui-footprint-helper.go", "close", id)
	helper.Dir, helper.Env = root, append(os.Environ(), "DISPLAY="+display)
	if out, err := helper.CombinedOutput(); err != nil {
		t.Fatalf("close the window: %v\n%s", err, out)
	}
	waitForExit(t, "the Dashboard process ends", dash, func() bool { return len(children(pid)) == 0 })
	if err := status(); err != nil {
		t.Fatalf("the hub stopped with its window: %v", err)
	}

	// A second `mconnect` opens the Dashboard on the tab asked for.
	second := exec.Command(bin, "--tab", "tablets", "--config", path)
	second.Env = env
	if out, err := second.CombinedOutput(); err != nil {
		t.Fatalf("mconnect --tab tablets: %v\n%s", err, out)
	}
	waitForWindow(t, display)
	waitFor(t, "the Dashboard process again", func() bool { return len(children(pid)) == 1 })

	// Ending the session (SIGTERM) stops the hub and closes the Dashboard.
	if err := tray.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("mconnect ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("mconnect did not end on SIGTERM")
	}
	waitFor(t, "the Dashboard process ends with the tray", func() bool { return len(children(pid)) == 0 })
	if status() == nil {
		t.Error("the hub still answers after the tray process ended")
	}
	select {
	case n := <-notes.got:
		t.Logf("notification: %s", n)
	default:
	}
}
