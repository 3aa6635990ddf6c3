package xvfb

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a buffer safe for a process writing while the test reads.
// It has no ReadFrom: io.Copy must go through Write and its lock.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDashboardAttachesToServe: the window started while `mconnect serve`
// runs on the same data folder attaches to that hub through its control
// endpoint and shows its live health, instead of "not running". With
// MCONNECT_UPDATE_SCREENSHOT=1 the screenshot replaces
// docs/screenshots/dashboard-attached.png.
func TestDashboardAttachesToServe(t *testing.T) {
	if os.Getenv("MCONNECT_XVFB_TEST") == "" {
		t.Skip("MCONNECT_XVFB_TEST is not set: this test runs mconnect serve and its Dashboard on Xvfb")
	}
	root := repoRoot(t)
	dir := t.TempDir()
	bin := buildMconnect(t, root, dir)
	display := os.Getenv("DISPLAY")
	if display == "" {
		display = startXvfb(t, dir)
	}

	path := birpisConfig(t, bin, func(cfg map[string]any) {
		cfg["hub"].(map[string]any)["name"] = "Reception PC"
	})
	serve := exec.Command(bin, "serve", "--config", path)
	var serveOut syncBuffer
	serve.Stdout, serve.Stderr = &serveOut, &serveOut
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	stop(t, "mconnect serve", serve)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := exec.Command(bin, "status", "--config", path).Run(); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up:\n%s", serveOut.String())
		}
		time.Sleep(200 * time.Millisecond)
	}

	gui := startDashboard(t, bin, dir, display, "--config", path)
	id, geom := waitForWindow(t, display)
	t.Logf("window %s at %v", id, geom)
	img := waitForPaint(t, display, filepath.Join(dir, "root.png"), geom)
	guiOut := gui.String()
	if !strings.Contains(guiOut, "attached to the hub running on this data folder") {
		t.Fatalf("the window did not attach to the running hub; its output:\n%s", guiOut)
	}
	if strings.Contains(guiOut, "hub starting") || strings.Contains(guiOut, "another") {
		t.Fatalf("the window tried to start a second hub:\n%s", guiOut)
	}
	crop := filepath.Join(dir, "dashboard-attached.png")
	if err := writePNG(crop, img); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", crop)
	if os.Getenv("MCONNECT_UPDATE_SCREENSHOT") == "1" {
		dst := filepath.Join(root, "docs", "screenshots", "dashboard-attached.png")
		if err := copyFile(crop, dst); err != nil {
			t.Fatal(err)
		}
	}
	// serve is still the one hub: its status answers.
	if out, err := exec.Command(bin, "status", "--config", path).CombinedOutput(); err != nil {
		t.Fatalf("status after the window attached: %v\n%s", err, out)
	}
}

// birpisConfig writes a Birpis hub's configuration with its data in a
// short path and every listener on a free loopback port, as edit changes
// it, and returns the file's path.
func birpisConfig(t *testing.T, bin string, edit func(cfg map[string]any)) string {
	t.Helper()
	data, err := os.MkdirTemp("", "hub-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	out, err := exec.Command(bin, "config", "example", "--ehr", "birpis", "--data", data).Output()
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["device"].(map[string]any)["listen"] = freeLoopback(t)
	cfg["hl7"].(map[string]any)["listen"] = freeLoopback(t)
	cfg["hl7"].(map[string]any)["resultHost"] = freeLoopback(t)
	if edit != nil {
		edit(cfg)
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	path := filepath.Join(data, "birpis.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func freeLoopback(t *testing.T) string {
	t.Helper()
	handedMu.Lock()
	defer handedMu.Unlock()
	// A port closed again may be the next one the kernel hands out: the
	// tablets' and the HL7 listener got the same one once.
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		if !handed[addr] {
			handed[addr] = true
			return addr
		}
	}
	t.Fatal("no loopback port that was not handed out already")
	return ""
}

var (
	handedMu sync.Mutex
	handed   = map[string]bool{}
)
