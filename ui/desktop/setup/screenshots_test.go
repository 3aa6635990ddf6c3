package setup

import (
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/mesi/mconnect/connectors/catalogue"
)

var screenshots = flag.Bool("screenshots", false, "render the wizard's pages to docs/screenshots/wizard-*.png")

// TestScreenshots renders the wizard's pages with Fyne's test driver
// (go test ./ui/desktop/setup -run TestScreenshots -screenshots). Every
// run checks that each page renders to a non-empty image.
func TestScreenshots(t *testing.T) {
	a := test.NewTempApp(t)
	win := a.NewWindow("mCONNECT Hub — setup")
	peer := newPeer(t)
	ports := freePorts(t, 2)
	w := NewWizard(Env{Window: win, ConfigPath: filepath.Join(t.TempDir(), "config.json"), DataDir: "/home/praxis/.local/share/mconnect",
		Secrets: newSecrets(), Autostart: &fakeAutostart{on: true}, Spawn: inline, Do: inline}, func(bool) {})
	win.SetContent(w.Content())
	win.Resize(fyne.NewSize(860, 640))
	shot := func(name string) {
		t.Helper()
		img := win.Canvas().Capture()
		if img.Bounds().Dx() < 100 {
			t.Fatalf("%s: image %v", name, img.Bounds())
		}
		if !*screenshots {
			return
		}
		f, err := os.Create(filepath.Join("..", "..", "..", "docs", "screenshots", "wizard-"+name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
	}
	shot("1-language")
	test.Tap(w.next)
	p, _ := catalogue.Lookup("birpis")
	w.ehrGroup.SetSelected(w.ehrOption(p))
	shot("2-ehr")
	test.Tap(w.next)
	typeInto(t, w.fields.byKey["hl7.resultHost"], peer.tcp.Addr().String())
	typeInto(t, w.fields.byKey["hl7.listen"], ":"+ports[0])
	shot("3-birpis")
	test.Tap(w.next)
	typeInto(t, w.tablets.byKey["device.listen"], ":"+ports[1])
	shot("4-tablets")
	peer.tcp.Close() // the EHR is off: its check fails and may be overridden
	test.Tap(w.next)
	shot("5-checks")
	w.confirm = func(_, _ string, ok func()) { ok() }
	for i, c := range w.checks {
		if c.What == checkEHR {
			w.askOverride(i)
		}
	}
	test.Tap(w.next)
	test.Tap(w.next)
	shot("6-summary")
	if w.save.Disabled() {
		t.Fatal("Save disabled after the override")
	}
}
