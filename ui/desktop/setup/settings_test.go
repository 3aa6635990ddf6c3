package setup

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/hl7net"
	"github.com/mesi/mconnect/connectors/registry"
)

type settingsRig struct {
	s    *Settings
	api  *fakeAPI
	sec  *fakeSecrets
	auto *fakeAutostart
	lang []string
}

func newSettingsRig(t *testing.T, ehr string) *settingsRig {
	t.Helper()
	a := test.NewTempApp(t)
	win := a.NewWindow("settings")
	c, err := registry.Example(ehr, "/srv/mconnect")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.Marshal()
	r := &settingsRig{api: &fakeAPI{config: b, status: control.Status{Version: "1.4.0", DataDir: "/srv/mconnect",
		ConfigPath: "/etc/mconnect/config.json", Fingerprint: "ab12cd34", LANAddress: "192.168.1.5:8443"}},
		sec: newSecrets(), auto: &fakeAutostart{on: true}}
	r.s = NewSettings(Env{API: r.api, Window: win, Secrets: r.sec, Autostart: r.auto,
		SetLanguage: func(c string) { r.lang = append(r.lang, c) }, Spawn: inline, Do: inline})
	win.SetContent(r.s.Content())
	r.s.Load()
	return r
}

func savedJSON(t *testing.T, api *fakeAPI) map[string]any {
	t.Helper()
	if len(api.saves) != 1 {
		t.Fatalf("%d saves", len(api.saves))
	}
	var m map[string]any
	if err := json.Unmarshal(api.saves[0].JSON, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSettingsFormEditSaves: a field edited in the form is in the JSON
// SaveConfig gets; the rest is as it was.
func TestSettingsFormEditSaves(t *testing.T) {
	r := newSettingsRig(t, "birpis")
	s := r.s
	if s.row("hl7.receivingApp") == nil || s.row("hl7.maxConnections") == nil || s.row("log.level") == nil {
		t.Fatal("sections not shown as forms")
	}
	if !s.save.Disabled() {
		t.Fatal("Save enabled before a change")
	}
	typeInto(t, s.row("hl7.receivingApp"), "BIRPIS-2")
	typeInto(t, s.row("hl7.maxConnections"), "4")
	if s.save.Disabled() {
		t.Fatal("Save disabled after a valid change")
	}
	test.Tap(s.save)
	m := savedJSON(t, r.api)
	hl7 := m["hl7"].(map[string]any)
	if hl7["receivingApp"] != "BIRPIS-2" || hl7["maxConnections"] != 4.0 || hl7["listen"] != ":2575" {
		t.Fatalf("saved hl7 %v", hl7)
	}
	if got := s.msg.text.Text; got != txtSaved() {
		t.Fatalf("message %q", got)
	}
}

// TestSettingsSecret: a typed secret goes to the keyring; the JSON keeps
// the reference only.
func TestSettingsSecret(t *testing.T) {
	r := newSettingsRig(t, "weda")
	typeInto(t, r.s.row("weda.token"), goodSecret)
	test.Tap(r.s.save)
	if r.sec.stored["weda-api-token"] != goodSecret {
		t.Fatalf("keyring %v", r.sec.stored)
	}
	if bytes.Contains(r.api.saves[0].JSON, []byte(goodSecret)) {
		t.Fatal("secret in the JSON")
	}
	if savedJSON(t, r.api)["weda"].(map[string]any)["token"] != "keyring:weda-api-token" {
		t.Fatal("reference lost")
	}
}

// TestSettingsProblemNextToField: the hub's `key: problem` is shown under
// its field, and Save stays off.
func TestSettingsProblemNextToField(t *testing.T) {
	r := newSettingsRig(t, "birpis")
	typeInto(t, r.s.row("hl7.listen"), ":99999")
	if got := r.s.problemOf("hl7.listen"); got != "hl7.listen: port 99999 out of range" {
		t.Fatalf("problem %q", got)
	}
	if !r.s.save.Disabled() {
		t.Fatal("Save enabled with a problem")
	}
	// A number field given text: the JSON error names the key.
	typeInto(t, r.s.row("hl7.listen"), ":2575")
	typeInto(t, r.s.row("hl7.maxConnections"), "many")
	if got := r.s.problemOf("hl7.maxConnections"); !strings.Contains(got, "hl7.maxConnections") {
		t.Fatalf("problem %q", got)
	}
}

// TestSettingsDiscardWritesNothing: discarding reloads; nothing is saved
// and no secret stored.
func TestSettingsDiscardWritesNothing(t *testing.T) {
	r := newSettingsRig(t, "weda")
	typeInto(t, r.s.row("weda.token"), goodSecret)
	typeInto(t, r.s.row("weda.resultURL"), "https://other.example/api")
	test.Tap(r.s.discard)
	if len(r.api.saves) != 0 || len(r.sec.stored) != 0 {
		t.Fatalf("saves %d, secrets %v", len(r.api.saves), r.sec.stored)
	}
	if got := r.s.row("weda.resultURL").entry.Text; got != "https://weda.example.invalid/api/mesi/results" {
		t.Fatalf("after discard %q", got)
	}
}

// TestSettingsRestartFails: the hub rolls back; plain words, Details.
func TestSettingsRestartFails(t *testing.T) {
	r := newSettingsRig(t, "birpis")
	r.api.saveErr = &control.Error{Kind: control.Conflict, Message: "the new configuration could not start; the previous one runs again", Detail: "listen tcp :2576: bind: address already in use"}
	typeInto(t, r.s.row("hl7.listen"), ":2576")
	test.Tap(r.s.save)
	if got := r.s.msg.text.Text; got != "The new configuration could not start; the previous one runs again." {
		t.Fatalf("message %q", got)
	}
	if !strings.Contains(r.s.msg.detail.Text, "address already in use") || r.s.msg.detail.Visible() {
		t.Fatal("detail not behind Details")
	}
	test.Tap(r.s.msg.toggle)
	if !r.s.msg.detail.Visible() {
		t.Fatal("Details does not show the detail")
	}
}

// TestSettingsDiagnostics: the export goes through the hub without
// patient data unless ticked; the sections are listed.
func TestSettingsDiagnostics(t *testing.T) {
	r := newSettingsRig(t, "birpis")
	out := filepath.Join(t.TempDir(), "diag.zip")
	r.api.diag = control.DiagResult{Path: out, Sections: []control.DiagSection{{Name: "config"}, {Name: "logs", Problem: "log file missing"}}}
	r.s.chooseFile = func(done func(string)) { done(out) }
	test.Tap(r.s.diagBtn)
	if len(r.api.diags) != 1 || r.api.diags[0].Out != out || r.api.diags[0].IncludePatientData {
		t.Fatalf("requests %+v", r.api.diags)
	}
	var texts []string
	for _, o := range r.s.diagOut.Objects {
		texts = append(texts, labelText(o))
	}
	got := strings.Join(texts, "|")
	if !strings.Contains(got, "config: included") || !strings.Contains(got, "logs: left out — log file missing") {
		t.Fatalf("sections shown %q", got)
	}
	if r.s.progress.Visible() {
		t.Fatal("progress still shown")
	}
	test.Tap(r.s.patient)
	r.api.diagErr = control.Errorf(control.Unavailable, "the hub is stopping")
	test.Tap(r.s.diagBtn)
	if !r.api.diags[1].IncludePatientData || r.s.msg.text.Text != "The hub is stopping." {
		t.Fatalf("second export %+v, message %q", r.api.diags[1], r.s.msg.text.Text)
	}
}

// TestSettingsAboutLanguageAutostart: About from Status; language choice;
// autostart shows and sets the real state.
func TestSettingsAboutLanguageAutostart(t *testing.T) {
	r := newSettingsRig(t, "birpis")
	var about []string
	for _, it := range r.s.about.Items {
		about = append(about, it.Text+"="+labelText(it.Widget))
	}
	for _, want := range []string{"Version=1.4.0", "Data folder=/srv/mconnect", "Configuration file=/etc/mconnect/config.json", "ab12cd34", "=192.168.1.5:8443"} {
		if !strings.Contains(strings.Join(about, "|"), want) {
			t.Errorf("About %q lacks %s", about, want)
		}
	}
	r.s.langSel.SetSelected("Slovenščina")
	if strings.Join(r.lang, ",") != "sl" {
		t.Fatalf("languages %v", r.lang)
	}
	if !r.s.autostart.Checked {
		t.Fatal("autostart shown off although on")
	}
	test.Tap(r.s.autostart)
	if r.auto.on || len(r.auto.sets) != 1 || r.s.autostart.Checked {
		t.Fatalf("autostart %v sets %v shown %v", r.auto.on, r.auto.sets, r.s.autostart.Checked)
	}
	r.auto.setErr = errors.New("permission denied")
	test.Tap(r.s.autostart)
	if r.s.autostart.Checked || r.s.msg.text.Text != txtAutostartFailed() {
		t.Fatalf("failed autostart shown %v, %q", r.s.autostart.Checked, r.s.msg.text.Text)
	}
}

// TestSettingsChangeEHR opens the wizard over the window, which starts
// from the running configuration when the same EHR is chosen.
func TestSettingsChangeEHR(t *testing.T) {
	r := newSettingsRig(t, "birpis")
	// The running hub lets in two EHR hosts, not the example's one.
	c, err := registry.Parse(r.api.config)
	if err != nil {
		t.Fatal(err)
	}
	config.SectionOf[*hl7net.MLLPConfig](c, hl7net.MLLPSection).Whitelist = []string{"10.1.2.3/32", "10.1.2.4"}
	if r.api.config, err = c.Marshal(); err != nil {
		t.Fatal(err)
	}
	r.s.openWizard()
	w := r.s.wizard
	if w == nil {
		t.Fatal("no wizard")
	}
	test.Tap(w.next)
	w.ehrGroup.SetSelected(w.ehrOption(mustProfile(t, "birpis")))
	if w.doc.text("hl7.whitelist") != "10.1.2.3/32\n10.1.2.4" {
		t.Fatalf("the running configuration's whitelist not kept: %q", w.doc.text("hl7.whitelist"))
	}
	test.Tap(w.cancel)
	if r.s.wizard != nil || len(r.api.saves) != 0 {
		t.Fatal("cancel left the wizard open or saved")
	}

	// Through the wizard to a new EHR: saved through the hub, the settings
	// read again.
	r.s.openWizard()
	w = r.s.wizard
	peer := newPeer(t)
	ports := freePorts(t, 1)
	test.Tap(w.next)
	w.ehrGroup.SetSelected(w.ehrOption(mustProfile(t, "weda")))
	test.Tap(w.next)
	typeInto(t, w.fields.byKey["weda.resultURL"], peer.http.URL+"/r")
	typeInto(t, w.fields.byKey["weda.token"], goodSecret)
	test.Tap(w.next)
	if w.doc.text("device.listen") != ":8443" || w.doc.text("hub.dataDir") != "/srv/mconnect" {
		t.Fatalf("the running hub's endpoint and folder not kept: %q %q", w.doc.text("device.listen"), w.doc.text("hub.dataDir"))
	}
	typeInto(t, w.tablets.byKey["device.listen"], ":"+ports[0])
	w.doc.set("hub.dataDir", t.TempDir())
	w.doc.set("weda.inboundDir", t.TempDir())
	w.version++
	test.Tap(w.next)
	test.Tap(w.next)
	test.Tap(w.next)
	test.Tap(w.save)
	if !w.saved || len(r.api.saves) != 1 || r.s.row("weda.token") == nil {
		t.Fatalf("saved %v, saves %d, settings reloaded %v: %s %s", w.saved, len(r.api.saves), r.s.row("weda.token") != nil, w.msg.text.Text, w.msg.detail.Text)
	}
}

func mustProfile(t *testing.T, id string) catalogue.Profile {
	t.Helper()
	p, err := catalogue.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func labelText(o fyne.CanvasObject) string {
	if l, ok := o.(*widget.Label); ok {
		return l.Text
	}
	return ""
}
