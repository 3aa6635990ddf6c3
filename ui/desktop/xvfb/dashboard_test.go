package xvfb

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	windowTitle = "mCONNECT Hub"
	// Generous: the machine may be loaded and a cold fyne build takes
	// minutes.
	buildTimeout  = 20 * time.Minute
	windowTimeout = 90 * time.Second
	paintTimeout  = 60 * time.Second
)

// TestDashboardWindow builds mconnect, opens its Dashboard on an X display
// and checks a screenshot of it.
//
// Set MCONNECT_XVFB_TEST=1 to run it; it needs Xvfb (unless DISPLAY is set),
// xwininfo (x11-utils) and import (imagemagick). With
// MCONNECT_UPDATE_SCREENSHOT=1 the screenshot replaces
// docs/screenshots/dashboard.png.
func TestDashboardWindow(t *testing.T) {
	if os.Getenv("MCONNECT_XVFB_TEST") == "" {
		t.Skip("MCONNECT_XVFB_TEST is not set: this test builds the mconnect binary and runs its Dashboard on Xvfb " +
			"(needs xvfb, x11-utils, imagemagick)")
	}
	for _, tool := range []string{"xwininfo", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is required (apt-get install x11-utils imagemagick): %v", tool, err)
		}
	}
	root := repoRoot(t)
	dir := t.TempDir()
	bin := buildMconnect(t, root, dir)

	display := os.Getenv("DISPLAY")
	if display == "" {
		display = startXvfb(t, dir)
	}
	startDashboard(t, bin, dir, display)

	id, geom := waitForWindow(t, display)
	t.Logf("window %s at %v", id, geom)

	shot := filepath.Join(dir, "root.png")
	img := waitForPaint(t, display, shot, geom)
	crop := filepath.Join(dir, "dashboard.png")
	if err := writePNG(crop, img); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s, %s", shot, crop)

	if os.Getenv("MCONNECT_UPDATE_SCREENSHOT") == "1" {
		dst := filepath.Join(root, "docs", "screenshots", "dashboard.png")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := copyFile(crop, dst); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", dst)
	}
}

// shotLang is the language the screenshots are taken in:
// MCONNECT_XVFB_LANG (en, de, fr, sl; default en).
func shotLang() string {
	if l := os.Getenv("MCONNECT_XVFB_LANG"); l != "" {
		return l
	}
	return "en"
}

// locale is the LANG the application is started with.
func locale() string {
	return map[string]string{"de": "de_DE.UTF-8", "fr": "fr_FR.UTF-8", "sl": "sl_SI.UTF-8"}[shotLang()] +
		map[bool]string{true: "en_US.UTF-8"}[shotLang() == "en"]
}

// shotName is a screenshot's file name in docs/screenshots: name.png in
// English, name-de.png in German.
func shotName(name string) string {
	if shotLang() == "en" {
		return name + ".png"
	}
	return name + "-" + shotLang() + ".png"
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

func buildMconnect(t *testing.T, root, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "mconnect")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	// As the Makefile and scripts/dist.sh build it (no_emoji: without
	// Fyne's emoji font).
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "no_emoji", "-o", bin, "github.com/mesi/mconnect")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build github.com/mesi/mconnect: %v\n%s", err, out)
	}
	return bin
}

// startXvfb starts Xvfb on a display it picks itself (-displayfd) and
// returns that display, e.g. ":3".
func startXvfb(t *testing.T, dir string) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	logf, err := os.Create(filepath.Join(dir, "xvfb.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		w.Close()
		t.Fatalf("start Xvfb (apt-get install xvfb): %v", err)
	}
	w.Close()
	stop(t, "Xvfb", cmd)

	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if _, err := strconv.Atoi(n); err != nil {
			t.Fatalf("Xvfb did not report its display (%q); see %s", n, logf.Name())
		}
		return ":" + n
	case <-time.After(60 * time.Second):
		t.Fatal("Xvfb did not start within 60s")
	}
	return ""
}

func startDashboard(t *testing.T, bin, dir, display string, args ...string) *syncBuffer {
	t.Helper()
	// A short HOME keeps the paths in the screenshot readable.
	home, err := os.MkdirTemp("", "clinic-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	run := filepath.Join(dir, "run")
	for _, d := range []string{home, run} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	out := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mconnect output:\n%s", out.String())
		}
	})
	cmd := exec.Command(bin, append([]string{"--dashboard"}, args...)...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
		"XDG_RUNTIME_DIR=" + run,
		"LANG=" + locale(),
		"DISPLAY=" + display,
	}
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mconnect --dashboard: %v", err)
	}
	stop(t, "mconnect", cmd)
	return out
}

// stop ends cmd when the test ends: SIGTERM, then SIGKILL after 10s.
func stop(t *testing.T, name string, cmd *exec.Cmd) {
	t.Cleanup(func() {
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		_ = cmd.Process.Signal(syscall.SIGTERM) // fails harmlessly if it has exited
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Logf("%s ignored SIGTERM; killing it", name)
			_ = cmd.Process.Kill()
			<-done
		}
	})
}

// windowLine matches an xwininfo -tree line such as
//
//	0x200007 "mCONNECT Hub": ("mconnect" "mconnect")  900x600+0+0  +0+0
var windowLine = regexp.MustCompile(`^\s*(0x[0-9a-f]+) "` + regexp.QuoteMeta(windowTitle) + `".*?\s(\d+)x(\d+)\+(-?\d+)\+(-?\d+)\s+\+(-?\d+)\+(-?\d+)`)

// waitForWindow polls the X tree until the Dashboard is mapped and big.
func waitForWindow(t *testing.T, display string) (id string, geom image.Rectangle) {
	t.Helper()
	deadline := time.Now().Add(windowTimeout)
	var last string
	for time.Now().Before(deadline) {
		out, err := xcmd(display, "xwininfo", "-root", "-tree").Output()
		if err == nil {
			last = string(out)
			for _, line := range strings.Split(last, "\n") {
				m := windowLine.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				n := make([]int, 6)
				for i := range n {
					n[i], _ = strconv.Atoi(m[i+2])
				}
				// Absolute position is the last pair.
				r := image.Rect(n[4], n[5], n[4]+n[0], n[5]+n[1])
				if r.Dx() >= 400 && r.Dy() >= 300 {
					return m[1], r
				}
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("no window titled %q within %v; X tree:\n%s", windowTitle, windowTimeout, last)
	return "", image.Rectangle{}
}

// waitForPaint takes screenshots of the root window until the Dashboard's
// area shows real content (many colours, not one flat fill), and returns
// that area.
func waitForPaint(t *testing.T, display, shot string, geom image.Rectangle) image.Image {
	t.Helper()
	deadline := time.Now().Add(paintTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		img, err := screenshot(display, shot)
		if err == nil {
			area := img.(interface {
				SubImage(image.Rectangle) image.Image
			}).SubImage(geom.Intersect(img.Bounds()))
			colours, spread := variance(area)
			if colours >= 40 && spread >= 64 {
				return area
			}
			err = fmt.Errorf("window area looks blank: %d colours, brightness spread %d", colours, spread)
		}
		lastErr = err
		time.Sleep(time.Second)
	}
	t.Fatalf("no painted Dashboard within %v: %v", paintTimeout, lastErr)
	return nil
}

func screenshot(display, path string) (image.Image, error) {
	if out, err := xcmd(display, "import", "-window", "root", path).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("import: %w: %s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return img, nil
}

// variance counts distinct colours and the spread between the darkest and
// brightest pixel.
func variance(img image.Image) (colours int, spread int) {
	seen := map[uint32]bool{}
	lo, hi := 255, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			seen[r<<16|g<<8|bl] = true
			l := int(r*299+g*587+bl*114) / 1000
			lo, hi = min(lo, l), max(hi, l)
		}
	}
	return len(seen), hi - lo
}

func xcmd(display, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	return cmd
}

func writePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
