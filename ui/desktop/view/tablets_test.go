package view

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
)

func sampleTablets() *fakeAPI {
	return &fakeAPI{
		groups: []domain.Group{{ID: "default", Name: "Reception", Default: true}, {ID: "cardio", Name: "Cardiology"}},
		tablets: []domain.Device{
			{ID: "t-1", Serial: "MT-0001", Name: "Exam room 1", AppVersion: "2.4.1", Group: "cardio",
				LastSeen: testNow.Add(-30 * time.Second), Battery: 80, IP: "192.168.1.31"},
			{ID: "t-2", Serial: "MT-0002", Group: "default", LastSeen: testNow.Add(-time.Hour), Battery: -1},
			{ID: "t-3", Serial: "MT-0003", Name: "Old tablet", Group: "default", Revoked: true},
		},
		pairing: control.Pairing{Code: "123456", Expires: testNow.Add(5 * time.Minute),
			URL: "mconnect://pair?hub=https%3A%2F%2F192.168.1.20%3A8443&code=123456&fp=AB%3ACD%3AEF%3A01"},
	}
}

func startTablets(t *testing.T, api control.API) (*tabTest, *tablets) {
	t.Helper()
	tt := newTabTest(t, api)
	tb := newTablets(tt.env)
	tb.visible = true
	tt.win.SetContent(tb.content())
	t.Cleanup(tb.start())
	return tt, tb
}

func TestTabletsList(t *testing.T) {
	_, tb := startTablets(t, sampleTablets())
	if tb.list.Length() != 3 {
		t.Fatalf("%d rows, want 3", tb.list.Length())
	}
	labels := visibleLabels(tb.content())
	for _, want := range []string{
		"Exam room 1", "Battery 80%  ·  App 2.4.1  ·  Last seen 15:29:30  ·  192.168.1.31  ·  Cardiology",
		"MT-0002", "Battery unknown  ·  Last seen 14:30:00  ·  Reception", "Old tablet", "3 tablets",
	} {
		if !hasText(labels, want) {
			t.Errorf("no label shows %q; labels: %q", want, texts(labels))
		}
	}
	for _, tc := range []struct {
		text string
		imp  widget.Importance
	}{{"Online", widget.SuccessImportance}, {"Offline", widget.MediumImportance}, {"Revoked", widget.DangerImportance}} {
		l := findLabel(labels, tc.text)
		if l == nil || l.Importance != tc.imp {
			t.Errorf("state %q missing or not shown with importance %v", tc.text, tc.imp)
		}
	}
	if tb.pairGroup.Selected != "Reception" {
		t.Errorf("pairing group %q, want the default group", tb.pairGroup.Selected)
	}
}

func TestTabletsEmptyAndErrorStates(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		tt, _ := startTablets(t, &fakeAPI{})
		if !hasText(visibleLabels(tt.win.Content()), "No tablets are paired yet.") {
			t.Error("empty state not shown")
		}
	})
	t.Run("no hub", func(t *testing.T) {
		tt, tb := startTablets(t, nil)
		if !hasText(visibleLabels(tt.win.Content()), "The hub is not running") || !tb.pairBt.Disabled() {
			t.Error("no-hub state not shown, or pairing offered")
		}
	})
	t.Run("error", func(t *testing.T) {
		api := &fakeAPI{err: &control.Error{Kind: control.Internal, Message: "the tablet list could not be read", Detail: "store: devices: disk I/O error"}}
		tt, _ := startTablets(t, api)
		labels := visibleLabels(tt.win.Content())
		if !hasText(labels, "The tablet list could not be read.") || hasText(labels, "disk I/O") {
			t.Errorf("error shown as %q", texts(labels))
		}
	})
}

func TestTabletsPairing(t *testing.T) {
	api := sampleTablets()
	tt, tb := startTablets(t, api)
	now := testNow
	tt.env.now = func() time.Time { return now }

	tb.pairGroup.SetSelected("Cardiology")
	test.Tap(tb.pairBt)
	if !slices.Equal(api.pairings, []string{"cardio"}) {
		t.Fatalf("pairing codes asked for groups %q", api.pairings)
	}
	if !tb.pairBox.Visible() || tb.pairCode.Text != "123 456" {
		t.Fatalf("pairing code shown as %q (visible %v)", tb.pairCode.Text, tb.pairBox.Visible())
	}
	if tb.pairLeft.Text != "The code works for 5:00 more." {
		t.Errorf("countdown %q", tb.pairLeft.Text)
	}
	if tb.pairURL.Text != api.pairing.URL {
		t.Errorf("URL %q", tb.pairURL.Text)
	}
	img := tb.pairQR.Image
	if img == nil || !tb.pairQR.Visible() {
		t.Fatal("no QR code")
	}
	if w := img.Bounds().Dx(); w < 250 || tb.pairQR.MinSize().Width < 250 {
		t.Errorf("QR code %d px, shown at %v: too small to scan", w, tb.pairQR.MinSize())
	}

	now = now.Add(61 * time.Second)
	tb.visible = false
	tb.tick() // hidden in the tray: nothing is redrawn
	if tb.pairLeft.Text != "The code works for 5:00 more." {
		t.Errorf("countdown updated while hidden: %q", tb.pairLeft.Text)
	}
	tb.visible = true
	tb.tick()
	if tb.pairLeft.Text != "The code works for 3:59 more." {
		t.Errorf("countdown after 61 s %q", tb.pairLeft.Text)
	}
	now = now.Add(5 * time.Minute)
	tb.tick()
	if tb.pairLeft.Text != "The code has expired. Press \"New code\" for another one." || tb.pairQR.Visible() {
		t.Errorf("expired code shown as %q (QR visible %v)", tb.pairLeft.Text, tb.pairQR.Visible())
	}
	api.pairing.Expires = now.Add(5 * time.Minute)
	test.Tap(tb.pairNew)
	if len(api.pairings) != 2 || !tb.pairQR.Visible() || tb.pairLeft.Text != "The code works for 5:00 more." {
		t.Errorf("new code: %d asked, QR visible %v, %q", len(api.pairings), tb.pairQR.Visible(), tb.pairLeft.Text)
	}

	api.err = &control.Error{Kind: control.Unavailable, Message: "pairing is off in the settings", Detail: "device.pairing: disabled"}
	test.Tap(tb.pairNew)
	if !hasText(visibleLabels(tt.win.Content()), "Pairing is off in the settings.") {
		t.Error("pairing refusal not shown")
	}
}

func TestTabletsChanges(t *testing.T) {
	api := sampleTablets()
	tt, tb := startTablets(t, api)
	if !tb.renameBt.Disabled() {
		t.Error("actions offered without a selection")
	}
	tb.list.Select(0)
	if tb.name.Text != "Exam room 1" || tb.group.Selected != "Cardiology" {
		t.Fatalf("details show %q in %q", tb.name.Text, tb.group.Selected)
	}

	tb.name.SetText("Exam room 2")
	test.Tap(tb.renameBt)
	tb.group.SetSelected("Reception")
	test.Tap(tb.moveBt)
	if len(api.changes) != 2 || api.changes[0].Name == nil || *api.changes[0].Name != "Exam room 2" ||
		api.changes[1].Group == nil || *api.changes[1].Group != "default" || api.changes[1].Actor != "dashboard" {
		t.Fatalf("changes %+v", api.changes)
	}
	if !hasText(visibleLabels(tb.list), "Exam room 2") {
		t.Error("list not reloaded after the change")
	}

	test.Tap(tb.revokeBt)
	if tb.revokeDialog == nil || !tb.revokeDialog.pop.Visible() {
		t.Fatal("revoke does not ask first")
	}
	test.Tap(tb.revokeDialog.cancel)
	if len(api.changes) != 2 {
		t.Fatal("cancel revoked")
	}
	test.Tap(tb.revokeBt)
	test.Tap(tb.revokeDialog.confirm)
	if len(api.changes) != 3 || !api.changes[2].Revoke || api.changes[2].ID != "t-1" {
		t.Fatalf("revoke sent %+v", api.changes)
	}
	if !tb.renameBt.Disabled() || !tb.revokeBt.Disabled() {
		t.Error("a revoked tablet can still be changed")
	}

	tb.list.Select(1)
	api.err = &control.Error{Kind: control.NotFound, Message: "the group no longer exists", Detail: "group cardio: not found"}
	tb.group.SetSelected("Cardiology")
	test.Tap(tb.moveBt)
	if !hasText(visibleLabels(tt.win.Content()), "The group no longer exists.") {
		t.Error("refused change not shown")
	}
}

func TestTabletsFollowEvents(t *testing.T) {
	api := sampleTablets()
	tt, tb := startTablets(t, api)
	api.mu.Lock()
	api.tablets = append(api.tablets, domain.Device{ID: "t-4", Name: "New one", Group: "default", LastSeen: testNow})
	api.events <- control.Event{Kind: control.EventTablets}
	api.mu.Unlock()
	tt.runPosted(t)
	if tb.list.Length() != 4 {
		t.Errorf("%d rows after the tablet event, want 4", tb.list.Length())
	}
}

// TestQRCode checks the modules drawn: the three finder patterns in their
// corners and the quiet zone around them.
func TestQRCode(t *testing.T) {
	t.Parallel()
	m, err := encodeQR(sampleTablets().pairing.URL)
	if err != nil {
		t.Fatal(err)
	}
	if m.size < 21 || (m.size-21)%4 != 0 {
		t.Fatalf("QR size %d is not a QR version's", m.size)
	}
	finder := func(x0, y0 int) {
		for y := range 7 {
			for x := range 7 {
				ring := x == 0 || y == 0 || x == 6 || y == 6
				core := x >= 2 && x <= 4 && y >= 2 && y <= 4
				if got := m.dark[y0+y][x0+x]; got != (ring || core) {
					t.Errorf("finder at (%d,%d): module (%d,%d) dark=%v", x0, y0, x, y, got)
				}
			}
		}
	}
	finder(0, 0)
	finder(m.size-7, 0)
	finder(0, m.size-7)

	img, err := qrImage("x")
	if err != nil {
		t.Fatal(err)
	}
	r, _, _, _ := img.At(qrQuietZone*qrModulePixels-1, qrQuietZone*qrModulePixels-1).RGBA()
	d, _, _, _ := img.At(qrQuietZone*qrModulePixels, qrQuietZone*qrModulePixels).RGBA()
	if r != 0xffff || d != 0 {
		t.Errorf("quiet zone %x, first finder module %x", r, d)
	}
}
