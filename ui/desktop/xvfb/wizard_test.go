package xvfb

import (
	"crypto/tls"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestFirstStartWizard is the desktop path of the README on a fresh
// profile: mconnect started with an empty HOME shows the setup wizard;
// clicks alone (xdotool, at the places the wizard's layout puts its
// controls in the default 1100×700 window) choose Tomedo, keep the
// suggested folders, switch on the start at login and save. The app
// then starts again with the hub, which serves tablets, and shows a
// pairing code; the autostart entry starts this binary; a GDT order
// dropped into the suggested folder is taken.
func TestFirstStartWizard(t *testing.T) {
	if os.Getenv("MCONNECT_XVFB_TEST") == "" {
		t.Skip("MCONNECT_XVFB_TEST is not set: this test clicks through the setup wizard on Xvfb (needs xdotool)")
	}
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Fatalf("xdotool is required (apt-get install xdotool): %v", err)
	}
	root := repoRoot(t)
	dir := t.TempDir()
	bin := buildMconnect(t, root, dir)
	display := startXvfb(t, dir) // its own display: the clicks must land on this window only

	home, err := os.MkdirTemp("", "fresh-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	run := filepath.Join(dir, "run")
	if err := os.MkdirAll(run, 0o700); err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	app := exec.Command(bin)
	app.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_RUNTIME_DIR=" + run,
		"LANG=" + locale(), "DISPLAY=" + display}
	app.Stdout, app.Stderr = out, out
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	stop(t, "mconnect", app)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mconnect output:\n%s", out.String())
		}
	})
	_, geom := waitForWindow(t, display)
	img := waitForPaint(t, display, filepath.Join(dir, "root.png"), geom)
	if err := writePNG(filepath.Join(dir, "wizard-start.png"), img); err != nil {
		t.Fatal(err)
	}

	click := func(what string, x, y int) {
		t.Helper()
		if out, err := xcmd(display, "xdotool", "mousemove", itoa(geom.Min.X+x), itoa(geom.Min.Y+y), "click", "1").CombinedOutput(); err != nil {
			t.Fatalf("click %s: %v %s", what, err, out)
		}
		time.Sleep(1500 * time.Millisecond) // the page changes and checks run
	}
	next := func(step string) { click("Next ("+step+")", 1058, 677) }
	shots := []string{"wizard-start"}
	snap := func(name string) {
		t.Helper()
		img := waitForPaint(t, display, filepath.Join(dir, "root.png"), geom)
		if err := writePNG(filepath.Join(dir, name+".png"), img); err != nil {
			t.Fatal(err)
		}
		shots = append(shots, name)
	}
	next("language")
	click("Tomedo", 20, 391)
	snap("wizard-ehr")
	next("EHR")
	snap("wizard-tomedo")
	next("Tomedo's folders and IDs")
	next("tablets")
	time.Sleep(2 * time.Second) // the checks
	snap("wizard-checks")
	next("checks")
	click("start at login", 19, 110)
	next("autostart")
	click("Save", 1058, 677)

	cfg := filepath.Join(home, ".config", "mconnect", "config.json")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(cfg); err == nil {
			break
		}
		if time.Now().After(deadline) {
			shot, _ := screenshot(display, filepath.Join(dir, "stuck.png"))
			_ = shot
			t.Fatalf("the wizard wrote no %s (screenshot %s)", cfg, filepath.Join(dir, "stuck.png"))
		}
		time.Sleep(300 * time.Millisecond)
	}
	if out, err := exec.Command(bin, "config", "validate", "--config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("the wizard's config does not validate: %v\n%s", err, out)
	}

	// The hub serves tablets on the configured port.
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // pinning is the tablet's job; here: is it up
	var resp *http.Response
	for deadline = time.Now().Add(60 * time.Second); ; {
		resp, err = client.Get("https://127.0.0.1:8443/api/v1/health")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hub does not serve tablets after the wizard: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/v1/health: %s", resp.Status)
	}
	img = waitForPaint(t, display, filepath.Join(dir, "root.png"), geom)
	if err := writePNG(filepath.Join(dir, "after-wizard.png"), img); err != nil {
		t.Fatal(err)
	}

	// Start at login: the entry starts this binary.
	entry, err := os.ReadFile(filepath.Join(home, ".config", "autostart", "mconnect.desktop"))
	if err != nil || !strings.Contains(string(entry), "Exec="+bin) {
		t.Errorf("autostart entry %q: %v", entry, err)
	}

	// A GDT order dropped where the wizard suggested is taken.
	in := filepath.Join(home, ".local", "share", "mconnect", "exchange", "tomedo-in")
	order, err := os.ReadFile(filepath.Join(root, "testdata", "orders", "tomedo_6302_utf8.gdt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "order1.gdt"), order, 0o644); err != nil {
		t.Fatal(err)
	}
	for deadline = time.Now().Add(60 * time.Second); ; {
		if _, err := os.Stat(filepath.Join(in, "order1.gdt")); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the GDT order was not taken")
		}
		time.Sleep(300 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(in, "error", "order1.gdt")); err == nil {
		note, _ := os.ReadFile(filepath.Join(in, "error", "order1.gdt.error"))
		t.Fatalf("the GDT order was refused: %s", note)
	}
	if os.Getenv("MCONNECT_UPDATE_SCREENSHOT") == "1" {
		for _, n := range append(shots, "after-wizard") {
			if err := copyFile(filepath.Join(dir, n+".png"), filepath.Join(root, "docs", "screenshots", shotName("first-start-"+n))); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
