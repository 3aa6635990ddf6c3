//go:build linux

package traybar

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"github.com/godbus/dbus/v5"

	"github.com/mesi/mconnect/assets"
)

// privateBus starts a session bus of the test's own and points the
// process at it.
func privateBus(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		t.Skip("dbus-daemon is not installed (scripts/deps.sh installs it)")
	}
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon: %v", err)
	}
	addr = strings.TrimSpace(addr)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	return addr
}

var ranTray bool

// watcher is a desktop's tray host as far as an icon needs one.
type watcher struct{ items chan string }

func (w *watcher) RegisterStatusNotifierItem(service string) *dbus.Error {
	w.items <- service
	return nil
}

type row struct {
	id      int32
	label   string
	enabled bool
	sep     bool
}

// readMenu reads the exported menu's items in order. It asks for the
// properties of every possible item ID rather than for the layout: the
// first GetLayout after a menu change makes fyne.io/systray refresh the
// menu from a goroutine that races with that very call (harmless, but the
// race detector stops the test).
func readMenu(t *testing.T, obj dbus.BusObject) []row {
	t.Helper()
	ids := make([]int32, 500)
	for i := range ids {
		ids[i] = int32(i + 1)
	}
	var props []struct {
		V0 int32
		V1 map[string]dbus.Variant
	}
	if err := obj.Call("com.canonical.dbusmenu.GetGroupProperties", 0, ids, []string{}).Store(&props); err != nil {
		t.Fatalf("GetGroupProperties: %v", err)
	}
	var rows []row
	for _, p := range props {
		r := row{id: p.V0, enabled: true}
		if s, ok := p.V1["label"]; ok {
			r.label, _ = s.Value().(string)
		}
		if e, ok := p.V1["enabled"]; ok {
			r.enabled, _ = e.Value().(bool)
		}
		if ty, ok := p.V1["type"]; ok && ty.Value() == "separator" {
			r.sep = true
		}
		rows = append(rows, r)
	}
	return rows
}

func labels(rows []row) []string {
	var out []string
	for _, r := range rows {
		if r.sep {
			out = append(out, "-")
			continue
		}
		out = append(out, r.label)
	}
	return out
}

// TestMenuOverDBus shows a menu as the tray host sees it, clicks an item
// as the host does, and replaces the menu.
func TestMenuOverDBus(t *testing.T) {
	if ranTray {
		t.Skip("fyne.io/systray runs once per process, and this test process ran it already (-count > 1)")
	}
	ranTray = true
	addr := privateBus(t)
	host, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	w := &watcher{items: make(chan string, 4)}
	if err := host.Export(w, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"); err != nil {
		t.Fatal(err)
	}
	if r, err := host.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("watcher name: %v %v", r, err)
	}

	shown := make(chan *fyne.Menu, 8)
	mu.Lock()
	onMenu = func(m *fyne.Menu) { shown <- m }
	mu.Unlock()

	opened := make(chan string, 4)
	status := fyne.NewMenuItem("All connections OK", nil)
	status.Disabled = true
	m := fyne.NewMenu("mCONNECT Hub", status, fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Open Dashboard", func() { opened <- "open" }),
		fyne.NewMenuItem("Quit", func() { opened <- "quit" }))
	if err := SetMenu(m); err != nil { // before the icon is ready: kept
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go Run(Options{Title: "mCONNECT Hub", Icon: assets.TrayOK(), Ready: func() { close(ready) }})
	t.Cleanup(Quit)
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the tray did not get ready")
	}
	select {
	case <-w.items:
	case <-time.After(10 * time.Second):
		t.Fatal("the icon did not register with the tray host")
	}
	select {
	case <-shown:
	case <-time.After(10 * time.Second):
		t.Fatal("the menu set before the icon was ready was not shown")
	}

	obj := host.Object(fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", os.Getpid()), "/StatusNotifierItem/menu")
	rows := readMenu(t, obj)
	if got, want := labels(rows), []string{"All connections OK", "-", "Open Dashboard", "Quit"}; !slices.Equal(got, want) {
		t.Fatalf("menu = %q, want %q", got, want)
	}
	if rows[0].enabled {
		t.Error("the status line can be clicked; it is a label")
	}
	if !rows[2].enabled {
		t.Error("Open Dashboard is disabled")
	}
	click := func(id int32) {
		t.Helper()
		if err := obj.Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(""), uint32(0)).Err; err != nil {
			t.Fatalf("Event: %v", err)
		}
	}
	click(rows[2].id)
	select {
	case got := <-opened:
		if got != "open" {
			t.Errorf("clicking Open Dashboard ran %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("clicking Open Dashboard ran nothing")
	}

	// A new menu replaces the old one; the old items are gone.
	status.Label = "1 problem"
	m.Items = []*fyne.MenuItem{status, fyne.NewMenuItem("Quit", func() { opened <- "quit" })}
	if err := SetMenu(m); err != nil {
		t.Fatal(err)
	}
	<-shown
	rows2 := readMenu(t, obj)
	if got, want := labels(rows2), []string{"1 problem", "Quit"}; !slices.Equal(got, want) {
		t.Fatalf("menu after the change = %q, want %q", got, want)
	}
	click(rows2[1].id)
	select {
	case got := <-opened:
		if got != "quit" {
			t.Errorf("clicking Quit ran %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("clicking Quit ran nothing")
	}

	if err := SetIcon(fyne.NewStaticResource("broken.png", []byte("not a png"))); err == nil {
		t.Error("SetIcon took bytes that are no PNG")
	}
}
