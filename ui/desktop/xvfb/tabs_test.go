package xvfb

import (
	"fmt"
	"image"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mesi/mconnect/connectors/hl7"
	"github.com/mesi/mconnect/connectors/mllp"
)

// TestDashboardTabsWithData runs the desktop application with its hub in
// the same process, gives it what a clinic's day gives it — orders over
// MLLP from the EHR, two tablets paired that measure them, an EHR that
// takes the first result and refuses the others — and opens every tab by
// launching mconnect a second time with --tab (which brings the running
// window forward on that tab, and exits 0). It saves one screenshot per
// tab; with MCONNECT_UPDATE_SCREENSHOT=1 they replace
// docs/screenshots/tab-*.png.
func TestDashboardTabsWithData(t *testing.T) {
	if os.Getenv("MCONNECT_XVFB_TEST") == "" {
		t.Skip("MCONNECT_XVFB_TEST is not set: this test runs the desktop application with data on Xvfb")
	}
	root := repoRoot(t)
	dir := t.TempDir()
	bin := buildMconnect(t, root, dir)
	display := os.Getenv("DISPLAY")
	if display == "" {
		display = startXvfb(t, dir)
	}

	ehr := startFakeEHR(t)
	var device, mllpAddr string
	path := birpisConfig(t, bin, func(cfg map[string]any) {
		cfg["hub"].(map[string]any)["name"] = "Reception PC"
		device = cfg["device"].(map[string]any)["listen"].(string)
		mllpAddr = cfg["hl7"].(map[string]any)["listen"].(string)
		cfg["hl7"].(map[string]any)["resultHost"] = ehr.addr
	})

	gui := startDashboard(t, bin, dir, display, "--config", path)
	_, geom := waitForWindow(t, display)
	waitForPaint(t, display, filepath.Join(dir, "root.png"), geom)
	deadline := time.Now().Add(60 * time.Second)
	for exec.Command(bin, "status", "--config", path).Run() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the hub in the window did not come up:\n%s", gui.String())
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Orders from the EHR.
	patients := []struct{ family, given, id, order string }{
		{"Novak", "Janez", "100201", "ORD2001"}, {"Kos", "Ana", "100202", "ORD2002"},
		{"Zupan", "Luka", "100203", "ORD2003"}, {"Horvat", "Maja", "100204", "ORD2004"},
	}
	for i, p := range patients {
		sendORM(t, mllpAddr, fmt.Sprintf("CTRL%04d", i+1), p.family, p.given, p.id, p.order)
	}

	// Two tablets pair and measure.
	for i, serial := range []string{"MT-0001", "MT-0002"} {
		code, fp := pairCode(t, bin, path)
		args := []string{"tablet-sim", "--hub", "https://" + device, "--fp", fp, "--code", code,
			"--serial", serial, "--name", fmt.Sprintf("Exam room %d", i+1), "--token-file", filepath.Join(dir, serial+".token")}
		if i == 0 {
			args = append(args, "--once")
		}
		sim := exec.Command(bin, args...)
		if i == 0 {
			if out, err := sim.CombinedOutput(); err != nil {
				t.Fatalf("tablet-sim: %v\n%s", err, out)
			}
			continue
		}
		// The second tablet stays online (long-poll) without work left.
		var simOut syncBuffer
		sim.Stdout, sim.Stderr = &simOut, &simOut
		if err := sim.Start(); err != nil {
			t.Fatal(err)
		}
		stop(t, "tablet-sim", sim)
	}
	// The EHR got the results: one taken, the others refused.
	deadline = time.Now().Add(60 * time.Second)
	for ehr.count() < len(patients) {
		if time.Now().After(deadline) {
			t.Fatalf("the EHR got %d results, want %d", ehr.count(), len(patients))
		}
		time.Sleep(200 * time.Millisecond)
	}

	tabs := []string{"worklist", "results", "tablets", "groups", "connections", "log", "settings"}
	var prev image.Image
	for _, tab := range tabs {
		out, err := exec.Command(bin, "--tab", tab, "--config", path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "already running") { // the command line speaks English
			t.Fatalf("second launch with --tab %s: %v\n%s", tab, err, out)
		}
		// Let the window switch and paint, then take it.
		var img image.Image
		for range 20 {
			time.Sleep(500 * time.Millisecond)
			img = waitForPaint(t, display, filepath.Join(dir, "root.png"), geom)
			if prev == nil || differs(prev, img) {
				break
			}
		}
		if prev != nil && !differs(prev, img) {
			t.Errorf("tab %s looks like the tab before it: the window did not switch", tab)
		}
		prev = img
		shot := filepath.Join(dir, "tab-"+tab+".png")
		if err := writePNG(shot, img); err != nil {
			t.Fatal(err)
		}
		if os.Getenv("MCONNECT_UPDATE_SCREENSHOT") == "1" {
			if err := copyFile(shot, filepath.Join(root, "docs", "screenshots", shotName("tab-"+tab))); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A failed result waits for a person: the command line sees it too.
	out, err := exec.Command(bin, "delivery", "list", "--state", "failed", "--config", path).CombinedOutput()
	if err != nil || strings.Count(string(out), "failed") < len(patients)-1 {
		t.Errorf("failed deliveries: %v\n%s", err, out)
	}
}

// differs says whether two screenshots of the window differ noticeably.
func differs(a, b image.Image) bool {
	ab, bb := a.Bounds(), b.Bounds()
	if ab.Size() != bb.Size() {
		return true
	}
	n := 0
	for y := 0; y < ab.Dy(); y += 3 {
		for x := 0; x < ab.Dx(); x += 3 {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				n++
			}
		}
	}
	return n > 200
}

var codeLine = regexp.MustCompile(`\b(\d{6})\b`)
var fpLine = regexp.MustCompile(`\b([0-9a-fA-F]{64}|(?:[0-9A-F]{2}:){31}[0-9A-F]{2})\b`)

// pairCode asks the running hub for a pairing code and its fingerprint.
func pairCode(t *testing.T, bin, path string) (code, fp string) {
	t.Helper()
	out, err := exec.Command(bin, "pair-code", "--config", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pair-code: %v\n%s", err, out)
	}
	c, f := codeLine.FindStringSubmatch(string(out)), fpLine.FindStringSubmatch(string(out))
	if c == nil || f == nil {
		t.Fatalf("pair-code printed no code or fingerprint:\n%s", out)
	}
	return c[1], f[1]
}

// sendORM sends one order as the EHR does and checks it was accepted.
func sendORM(t *testing.T, addr, ctrl, family, given, pid, order string) {
	t.Helper()
	now := time.Now().Format("20060102150405")
	sched := time.Now().Add(30 * time.Minute).Format("20060102150405")
	msg := strings.Join([]string{
		"MSH|^~\\&|BIRPIS|ZD LJUBLJANA|MCONNECT|MESI|" + now + "||ORM^O01|" + ctrl + "|P|2.3|||||SI|UNICODE UTF-8",
		"PID|1||" + pid + "^^^ZZZS^MR||" + family + "^" + given + "||19700101|M",
		"PV1|1|O|KARD^101^1^ZDL||||1234^Novak^Ana^^^dr.",
		"ORC|NW|" + order + "^BIRPIS||GRP55|SC||1^^^" + sched + "^^R||" + now,
		"OBR|1|" + order + "^BIRPIS||ECG^Resting ECG^L|R|" + now + "|" + sched,
	}, "\r") + "\r"
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	if err := mllp.WriteFrame(c, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	ack, err := mllp.NewReader(c, 0).ReadFrame()
	if err != nil || !strings.Contains(string(ack), "MSA|AA") {
		t.Fatalf("order %s: %v %q", order, err, ack)
	}
}

// fakeEHR takes results over MLLP: the first is accepted, the others are
// refused (AR), as an EHR does for a patient it does not know.
type fakeEHR struct {
	addr string
	mu   sync.Mutex
	got  int
}

func (e *fakeEHR) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.got
}

func startFakeEHR(t *testing.T) *fakeEHR {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	e := &fakeEHR{addr: l.Addr().String()}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := mllp.NewReader(c, 0)
				for {
					frame, err := r.ReadFrame()
					if err != nil {
						return
					}
					m, err := hl7.Parse(frame)
					if err != nil {
						return
					}
					e.mu.Lock()
					e.got++
					first := e.got == 1
					e.mu.Unlock()
					code, text := "AA", ""
					if !first {
						code, text = "AR", "patient not found in this practice"
					}
					ack := "MSH|^~\\&|BIRPIS|ZDL|MCONNECT|MESI|" + time.Now().Format("20060102150405") + "||ACK^R01|A" +
						m.Get("MSH-10") + "|P|2.3\rMSA|" + code + "|" + m.Get("MSH-10") + "|" + text + "\r"
					if err := mllp.WriteFrame(c, []byte(ack)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return e
}
