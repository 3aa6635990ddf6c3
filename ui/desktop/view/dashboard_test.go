package view

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/software"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/retention"
)

var testNow = time.Date(2026, 3, 4, 15, 30, 0, 0, time.Local)

func fixedNow() time.Time { return testNow }

var fullInfo = Info{
	Version:        "1.2.3",
	HubName:        "Reception PC",
	ConfigPath:     "/home/clinic/.config/mconnect/config.json",
	DataDir:        "/home/clinic/.local/share/mconnect",
	LANAddress:     "https://192.168.1.20:8443",
	TLSFingerprint: "AB:CD:EF:01",
}

// showDashboard builds a Dashboard in a test window of the real size and
// returns it with every label found in the laid-out tree.
func showDashboard(t *testing.T, info Info, notice string, hs []domain.Health) (*dashboard, []*widget.Label) {
	t.Helper()
	test.NewTempApp(t)
	d := newDashboard(info, notice, fixedNow)
	d.update(hs)
	w := test.NewWindow(d.content())
	t.Cleanup(w.Close)
	w.Resize(DashboardSize)
	return d, visibleLabels(d.content())
}

func labelsOf(o fyne.CanvasObject) []*widget.Label {
	var out []*widget.Label
	for _, obj := range test.LaidOutObjects(o) {
		if l, ok := obj.(*widget.Label); ok {
			out = append(out, l)
		}
	}
	return out
}

// findLabel returns the first label whose text contains s.
func findLabel(labels []*widget.Label, s string) *widget.Label {
	for _, l := range labels {
		if strings.Contains(l.Text, s) {
			return l
		}
	}
	return nil
}

func texts(labels []*widget.Label) []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = l.Text
	}
	return out
}

func TestDashboardStates(t *testing.T) {
	longErr := "dial tcp 10.0.0.7:2575: connect: connection refused"
	sender := domain.Health{
		Component: "conn:birpis/outbox", Code: "ehr-unreachable", Severity: domain.SeverityError,
		Args:          map[string]string{"connection": "Results to Birpis", "retrying": "3", "next": "15:35:00"},
		LastMessageAt: testNow.Add(-2 * time.Hour), LastError: longErr,
	}
	listener := domain.Health{
		Component: "conn:birpis", Code: "listening", Severity: domain.SeverityOK,
		Args:          map[string]string{"addr": "port 2575"},
		LastMessageAt: testNow.Add(-time.Minute),
	}
	watcher := domain.Health{
		Component: "conn:weda/files-in", Code: "file-refused", Severity: domain.SeverityWarning,
	}

	tests := []struct {
		name       string
		info       Info
		notice     string
		hs         []domain.Health
		heading    string
		importance widget.Importance
		icon       string
		// want are texts some label must contain; wantNot none may.
		want    []string
		wantNot []string
		// danger are texts shown in red.
		danger []string
	}{
		{
			name: "ok", info: fullInfo, hs: []domain.Health{listener},
			heading: "All connections OK", importance: widget.SuccessImportance, icon: "tray-ok.png",
			want: []string{"1 component · updated 15:30:00", "Listening for orders", "Waiting for the EHR on port 2575",
				"conn:birpis  ·  Last message: 15:29:00", "1.2.3", "Reception PC",
				fullInfo.ConfigPath, fullInfo.DataDir, "https://192.168.1.20:8443", "AB:CD:EF:01"},
			wantNot: []string{"No configuration yet", "could not start", "No tray icon", "Last error"},
		},
		{
			name: "warning", info: fullInfo, hs: []domain.Health{listener, watcher},
			heading: "1 problem", importance: widget.WarningImportance, icon: "tray-warning.png",
			want: []string{"2 components", "An order file was rejected", "Last message: never"},
		},
		{
			name: "error", info: fullInfo, hs: []domain.Health{listener, sender, watcher},
			heading: "2 problems", importance: widget.DangerImportance, icon: "tray-error.png",
			want: []string{"Results to Birpis does not answer", "Results waiting: 3", "Last message: 13:30:00"},
			// The error chain is for support: behind Details, not in the row.
			wantNot: []string{longErr},
		},
		{
			name: "first run", info: Info{FirstRun: true, ConfigPath: "/cfg/mconnect.json", Version: "1.2.3"},
			heading: "Not set up yet", importance: widget.WarningImportance, icon: "tray-warning.png",
			want: []string{"No configuration yet", "Set up the connection: choose your EHR",
				"No components have reported yet.", "not set"},
			// For IT, behind Details: no terminal step in front of staff.
			wantNot: []string{"could not start", "mconnect config example"},
		},
		{
			name: "problem", info: Info{Problem: "listen tcp :8443: address already in use", Version: "1.2.3"},
			heading: "mCONNECT Hub is not running", importance: widget.DangerImportance, icon: "tray-error.png",
			want:    []string{"No components have reported yet."},
			wantNot: []string{"No configuration yet"},
			danger:  []string{"The hub could not start", "listen tcp :8443: address already in use"},
		},
		{
			name: "window only", info: fullInfo, notice: txtNoTray("no D-Bus session bus"), hs: []domain.Health{listener},
			heading: "All connections OK", importance: widget.SuccessImportance, icon: "tray-ok.png",
			want: []string{"No tray icon: no D-Bus session bus. Keep this window open (or minimised): closing it stops mCONNECT Hub, after asking."},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, labels := showDashboard(t, tc.info, tc.notice, tc.hs)
			if d.heading.Text != tc.heading || d.heading.Importance != tc.importance {
				t.Errorf("heading %q (importance %v), want %q (%v)", d.heading.Text, d.heading.Importance, tc.heading, tc.importance)
			}
			if got := d.statusImg.Resource.Name(); got != tc.icon {
				t.Errorf("header icon %s, want %s", got, tc.icon)
			}
			for _, s := range tc.want {
				if findLabel(labels, s) == nil {
					t.Errorf("no label contains %q; labels: %q", s, texts(labels))
				}
			}
			for _, s := range tc.wantNot {
				if l := findLabel(labels, s); l != nil {
					t.Errorf("label %q should not be shown", l.Text)
				}
			}
			if tc.name == "first run" && findButton(d.content(), "Set up the EHR connection…") == nil {
				t.Error("no button to set up the EHR connection")
			}
			if tc.name == "error" {
				var hidden bool
				for _, l := range allLabels(d.content()) {
					hidden = hidden || (!l.Visible() && strings.Contains(l.Text, "Last error: "+longErr))
				}
				if !hidden || findButton(d.content(), "Details") == nil {
					t.Error("the last error is not behind Details")
				}
			}
			for _, s := range tc.danger {
				l := findLabel(labels, s)
				if l == nil {
					t.Errorf("no label contains %q", s)
				} else if l.Importance != widget.DangerImportance {
					t.Errorf("%q is not shown in red (importance %v)", s, l.Importance)
				}
			}
		})
	}
}

// TestDashboardRowsWorstFirst checks that components needing a person come
// first and that each row shows its severity in words and colour.
func TestDashboardRowsWorstFirst(t *testing.T) {
	hs := []domain.Health{
		{Component: "store", Code: "ready", Severity: domain.SeverityOK},
		{Component: "device", Code: "plain-http", Severity: domain.SeverityWarning},
		{Component: "conn:x/outbox", Code: "ehr-unreachable", Args: map[string]string{"connection": "X"}, Severity: domain.SeverityError, LastError: "timeout"},
	}
	d, _ := showDashboard(t, fullInfo, "", hs)
	// Rows alternate with separators.
	var titles []string
	for i, row := range d.rows.Objects {
		if i%2 == 1 {
			if _, ok := row.(*widget.Separator); !ok {
				t.Fatalf("object %d is %T, want a separator", i, row)
			}
			continue
		}
		ls := labelsOf(row)
		titles = append(titles, ls[0].Text)
		sev := ls[1]
		want := map[string]widget.Importance{"OK": widget.SuccessImportance, "Warning": widget.WarningImportance, "Error": widget.DangerImportance}
		if imp, ok := want[sev.Text]; !ok || imp != sev.Importance {
			t.Errorf("row %q: severity label %q importance %v", ls[0].Text, sev.Text, sev.Importance)
		}
	}
	if want := []string{"X does not answer", "Tablet endpoint without encryption", "Database ready"}; !slices.Equal(titles, want) {
		t.Errorf("rows %q, want %q", titles, want)
	}
}

// TestDashboardRendersAtWindowSize paints the Dashboard with the software
// painter: content must fit the window width and paint something.
func TestDashboardRendersAtWindowSize(t *testing.T) {
	d, _ := showDashboard(t, Info{FirstRun: true, ConfigPath: "/cfg/mconnect.json", Problem: "store: open: permission denied"},
		txtNoTray("no D-Bus session bus"), []domain.Health{{Component: "store", Code: "order-write-failed", Severity: domain.SeverityError}})
	if min := d.content().MinSize(); min.Width > DashboardSize.Width {
		t.Errorf("content needs %v wide, more than the window's %v", min.Width, DashboardSize.Width)
	}
	c := software.NewCanvas()
	c.SetContent(d.content())
	c.Resize(DashboardSize)
	img := c.Capture()
	if dir := os.Getenv("MCONNECT_RENDER_DIR"); dir != "" {
		savePNG(t, filepath.Join(dir, "dashboard-test.png"), img)
	}
	colours := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	if len(colours) < 10 {
		t.Errorf("rendered Dashboard has only %d colours", len(colours))
	}
}

// fakeHub is a Hub whose health the test changes.
type fakeHub struct {
	info Info

	mu        sync.Mutex
	hs        []domain.Health
	subs      map[int]func([]domain.Health)
	next      int
	cancelled int
}

func newFakeHub(info Info, hs ...domain.Health) *fakeHub {
	return &fakeHub{info: info, hs: hs, subs: map[int]func([]domain.Health){}}
}

func (f *fakeHub) Info() Info { return f.info }

func (f *fakeHub) Health() []domain.Health {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.hs)
}

func (f *fakeHub) SubscribeHealth(fn func([]domain.Health)) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.next
	f.next++
	f.subs[id] = fn
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.subs[id]; ok {
			delete(f.subs, id)
			f.cancelled++
		}
	}
}

// set changes the health and notifies subscribers, like the hub does.
func (f *fakeHub) set(hs ...domain.Health) {
	f.mu.Lock()
	f.hs = hs
	var subs []func([]domain.Health)
	for _, fn := range f.subs {
		subs = append(subs, fn)
	}
	f.mu.Unlock()
	for _, fn := range subs {
		fn(hs)
	}
}

func (f *fakeHub) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// TestGUIFollowsSubscription drives the Dashboard and the tray model from
// health updates sent on other goroutines, as the hub does.
func TestGUIFollowsSubscription(t *testing.T) {
	test.NewTempApp(t)
	hub := newFakeHub(fullInfo, health("store", domain.SeverityOK))
	type change struct{ label, icon bool }
	changes := make(chan change, 16)
	g := newGUI(hub, true, "", trayActions{open: func() {}, quit: func() {}})
	g.trayChanged = func(label, icon bool) { changes <- change{label, icon} }
	w := test.NewWindow(g.dash.content())
	defer w.Close()

	stop := g.start()
	// The first snapshot replaces the tray's "waiting" line.
	if c := <-changes; c != (change{true, false}) {
		t.Errorf("initial tray change %+v", c)
	}
	if g.dash.heading.Text != "All connections OK" {
		t.Fatalf("initial heading %q", g.dash.heading.Text)
	}
	if hub.subscribers() != 1 {
		t.Fatalf("subscribers = %d, want 1", hub.subscribers())
	}

	steps := []struct {
		hs      []domain.Health
		heading string
		icon    string
		change  change
	}{
		{[]domain.Health{health("store", domain.SeverityOK), health("conn:a", domain.SeverityWarning)}, "1 problem", "tray-warning.png", change{true, true}},
		{[]domain.Health{health("store", domain.SeverityError), health("conn:a", domain.SeverityWarning)}, "2 problems", "tray-error.png", change{true, true}},
		{[]domain.Health{health("store", domain.SeverityOK)}, "All connections OK", "tray-ok.png", change{true, true}},
	}
	for i, s := range steps {
		done := make(chan struct{})
		go func() {
			defer close(done)
			hub.set(s.hs...)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("step %d: update did not return", i)
		}
		select {
		case c := <-changes:
			if c != s.change {
				t.Errorf("step %d: tray change %+v, want %+v", i, c, s.change)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("step %d: tray not told about the change", i)
		}
		if g.dash.heading.Text != s.heading {
			t.Errorf("step %d: heading %q, want %q", i, g.dash.heading.Text, s.heading)
		}
		if got := g.tray.icon().Name(); got != s.icon {
			t.Errorf("step %d: tray icon %s, want %s", i, got, s.icon)
		}
		if got := g.tray.labels()[0]; got != s.heading {
			t.Errorf("step %d: tray status %q, want %q", i, got, s.heading)
		}
		if got := len(g.dash.rows.Objects); got != 2*len(s.hs)-1 {
			t.Errorf("step %d: %d row objects, want %d", i, got, 2*len(s.hs)-1)
		}
	}

	stop()
	if hub.subscribers() != 0 || hub.cancelled != 1 {
		t.Errorf("after stop: %d subscribers, %d cancels", hub.subscribers(), hub.cancelled)
	}
	select {
	case c := <-changes:
		t.Errorf("unexpected tray change %+v", c)
	default:
	}
}

// TestGUIWindowOnly has no tray model: updates reach the Dashboard only.
func TestGUIWindowOnly(t *testing.T) {
	test.NewTempApp(t)
	hub := newFakeHub(fullInfo)
	g := newGUI(hub, false, txtNoTray("no D-Bus session bus"), trayActions{})
	stop := g.start()
	defer stop()
	if g.tray != nil {
		t.Fatal("tray model built without a tray")
	}
	hub.set(health("device", domain.SeverityWarning))
	if g.dash.heading.Text != "1 problem" {
		t.Errorf("heading %q", g.dash.heading.Text)
	}
	if findLabel(labelsOf(g.dash.content()), "No tray icon") == nil {
		t.Error("notice about the missing tray is not shown")
	}
}

func savePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDashboardShowsAnUpdate(t *testing.T) {
	d, _ := showDashboard(t, fullInfo, "", nil)
	var opened string
	d.showUpdate(&control.UpdateNotice{Version: "1.4.0", Date: "2026-12-10", URL: "https://example.org/dl",
		Notes: map[string]string{"en": "Faster worklists."}}, func(u string) { opened = u })
	labels := visibleLabels(d.content())
	if !hasText(labels, "mCONNECT Hub 1.4.0 is available (2026-12-10)") || !hasText(labels, "Faster worklists.") {
		t.Fatalf("update not shown: %q", texts(labels))
	}
	test.Tap(findButton(d.content(), "Download page"))
	if opened != "https://example.org/dl" {
		t.Errorf("opened %q", opened)
	}
}

func TestDashboardShowsStorage(t *testing.T) {
	d, _ := showDashboard(t, fullInfo, "", nil)
	d.showStorage(&retention.Status{Disk: retention.DiskSpace{Total: 100_000_000_000, Free: 1_500_000_000}, DiskLow: true,
		Usage:     retention.Usage{DatabaseBytes: 2_000_000, ReportsBytes: 8_000_000},
		NextSweep: testNow.Add(time.Hour)})
	l := findLabel(visibleLabels(d.content()), "Disk: 1.5 GB free of 100.0 GB; the hub's data: 10.0 MB")
	if l == nil || l.Importance != widget.DangerImportance || !strings.Contains(l.Text, "cleaned up next at 16:30:00") {
		t.Fatalf("storage shown as %v", l)
	}
}
