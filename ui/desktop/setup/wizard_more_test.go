package setup

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/connectors/catalogue"
)

type wizardRig struct {
	w       *Wizard
	cfgPath string
	data    string
	sec     *fakeSecrets
	dones   []bool
	peer    *ehrPeer
	ports   []string
}

func newWizardRig(t *testing.T, api control.API) *wizardRig {
	t.Helper()
	a := test.NewTempApp(t)
	win := a.NewWindow("wizard")
	r := &wizardRig{cfgPath: filepath.Join(t.TempDir(), "config.json"), data: t.TempDir(), sec: newSecrets(), peer: newPeer(t), ports: freePorts(t, 2)}
	env := Env{Window: win, ConfigPath: r.cfgPath, DataDir: r.data, Secrets: r.sec, Spawn: inline, Do: inline}
	if api != nil {
		env.API = api
	}
	r.w = NewWizard(env, func(saved bool) { r.dones = append(r.dones, saved) })
	win.SetContent(r.w.Content())
	return r
}

// toSummary goes to the summary for ehr with the EHR peer as its address.
func (r *wizardRig) toSummary(t *testing.T, ehr string, secret string) {
	t.Helper()
	w := r.w
	test.Tap(w.next)
	p, _ := catalogue.Lookup(ehr)
	w.ehrGroup.SetSelected(w.ehrOption(p))
	test.Tap(w.next)
	switch ehr {
	case "birpis":
		typeInto(t, w.fields.byKey["hl7.resultHost"], r.peer.tcp.Addr().String())
		typeInto(t, w.fields.byKey["hl7.listen"], ":"+r.ports[0])
	case "weda":
		typeInto(t, w.fields.byKey["weda.resultURL"], r.peer.http.URL+"/results")
		typeInto(t, w.fields.byKey["weda.token"], secret)
	}
	test.Tap(w.next)
	typeInto(t, w.tablets.byKey["device.listen"], ":"+r.ports[1])
	test.Tap(w.next)
	test.Tap(w.next)
	test.Tap(w.next)
	if w.step != stepSummary {
		t.Fatalf("at step %d", w.step)
	}
}

// TestWizardCancelWritesNothing cancels at every step: no file, no
// secret, done(false) once.
func TestWizardCancelWritesNothing(t *testing.T) {
	for step := stepLanguage; step <= stepSummary; step++ {
		r := newWizardRig(t, nil)
		w := r.w
		test.Tap(w.next)
		p, _ := catalogue.Lookup("weda")
		w.ehrGroup.SetSelected(w.ehrOption(p))
		w.step = stepFields
		w.render()
		typeInto(t, w.fields.byKey["weda.token"], goodSecret)
		w.step = step
		w.render()
		test.Tap(w.cancel)
		if _, err := os.Stat(r.cfgPath); !os.IsNotExist(err) {
			t.Fatalf("step %d: config written on cancel (%v)", step, err)
		}
		if len(r.sec.stored) != 0 {
			t.Fatalf("step %d: secret stored on cancel", step)
		}
		if len(r.dones) != 1 || r.dones[0] {
			t.Fatalf("step %d: done %v", step, r.dones)
		}
	}
}

// TestWizardWhitelistFollowsEHRHost: the MLLP whitelist is the host the
// person enters, until the person edits the whitelist.
func TestWizardWhitelistFollowsEHRHost(t *testing.T) {
	r := newWizardRig(t, nil)
	w := r.w
	test.Tap(w.next)
	p, _ := catalogue.Lookup("nextgen")
	w.ehrGroup.SetSelected(w.ehrOption(p))
	test.Tap(w.next)
	if strings.Contains(w.doc.text("hl7.whitelist"), "/16") {
		t.Fatalf("whitelist starts as %q", w.doc.text("hl7.whitelist"))
	}
	typeInto(t, w.fields.byKey["hl7.resultHost"], "10.20.30.40:2576")
	if got := w.doc.text("hl7.whitelist"); got != "10.20.30.40" {
		t.Fatalf("whitelist %q", got)
	}
	typeInto(t, w.fields.byKey["hl7.whitelist"], "10.20.30.40\n10.20.30.41")
	typeInto(t, w.fields.byKey["hl7.resultHost"], "10.20.30.50:2576")
	if got := w.doc.text("hl7.whitelist"); got != "10.20.30.40\n10.20.30.41" {
		t.Fatalf("whitelist edited by hand changed to %q", got)
	}
	// A value the validator refuses is shown next to its field.
	typeInto(t, w.fields.byKey["hl7.whitelist"], "10.20.30.400")
	if got := w.fields.problemOf("hl7.whitelist"); !strings.Contains(got, `hl7.whitelist[0]: "10.20.30.400" is not an IP address or CIDR`) {
		t.Fatalf("problem shown %q", got)
	}
	if !w.next.Disabled() {
		t.Fatal("Next enabled with a problem on the page")
	}
}

// TestWizardOverrideUnreachableEHR: the EHR is off; Save stays disabled
// until the person confirms to continue anyway.
func TestWizardOverrideUnreachableEHR(t *testing.T) {
	r := newWizardRig(t, nil)
	r.peer.tcp.Close() // the EHR is off
	var asked []string
	r.w.confirm = func(title, text string, ok func()) { asked = append(asked, text); ok() }
	r.toSummary(t, "birpis", "")
	w := r.w
	if !w.save.Disabled() {
		t.Fatal("Save enabled with a failed check")
	}
	w.step = stepChecks
	w.render()
	idx := -1
	for i, c := range w.checks {
		if c.What == checkEHR {
			idx = i
		}
	}
	if idx < 0 || w.outcomes[idx].OK || w.outcomes[idx].Code != "refused" {
		t.Fatalf("EHR check %+v", w.outcomes)
	}
	w.askOverride(idx)
	if len(asked) != 1 || !strings.Contains(asked[0], "switched off") {
		t.Fatalf("confirm asked %q", asked)
	}
	w.step = stepSummary
	w.render()
	if w.save.Disabled() {
		t.Fatal("Save disabled after the override")
	}
	// A change after the checks makes them stale again.
	w.step = stepTablets
	w.render()
	typeInto(t, w.tablets.byKey["hub.name"], "Other name")
	if w.checksPass() {
		t.Fatal("checks still pass after a change")
	}
}

// TestWizardRequiredCheckCannotBeOverridden: a port in use keeps Save off.
func TestWizardRequiredCheckCannotBeOverridden(t *testing.T) {
	r := newWizardRig(t, nil)
	busy := r.peer.tcp.Addr().String() // in use by the EHR peer
	r.toSummary(t, "birpis", "")
	w := r.w
	w.step = stepFields
	w.render()
	typeInto(t, w.fields.byKey["hl7.listen"], busy)
	w.step = stepChecks
	w.render()
	w.runChecks()
	for i, c := range w.checks {
		if c.Field == "hl7.listen" {
			if w.outcomes[i].OK || w.outcomes[i].Code != codePortInUse || !c.Required {
				t.Fatalf("port check %+v", w.outcomes[i])
			}
			w.overridden[i] = true // not offered; even if set it must not count
		}
	}
	if w.checksPass() {
		t.Fatal("a required check was overridden")
	}
}

// TestWizardSaveThroughHub: with a hub, ValidateConfig then SaveConfig.
func TestWizardSaveThroughHub(t *testing.T) {
	api := &fakeAPI{}
	r := newWizardRig(t, api)
	r.toSummary(t, "weda", goodSecret)
	test.Tap(r.w.save)
	if !r.w.saved {
		t.Fatalf("not saved: %s %s", r.w.msg.text.Text, r.w.msg.detail.Text)
	}
	if len(api.validate) != 1 || len(api.saves) != 1 {
		t.Fatalf("validate %d, save %d", len(api.validate), len(api.saves))
	}
	if bytes.Contains(api.saves[0].JSON, []byte(goodSecret)) || !bytes.Contains(api.saves[0].JSON, []byte(`"keyring:weda-api-token"`)) {
		t.Fatalf("saved JSON %s", api.saves[0].JSON)
	}
	if r.sec.stored["weda-api-token"] != goodSecret {
		t.Fatalf("keyring %v", r.sec.stored)
	}
	if _, err := os.Stat(r.cfgPath); !os.IsNotExist(err) {
		t.Fatal("the wizard wrote the file itself although a hub runs")
	}
	if len(r.dones) != 1 || !r.dones[0] {
		t.Fatalf("done %v", r.dones)
	}
}

// TestWizardFailedSaveKeepsPrevious: a hub that cannot start the new
// configuration rolls back; its words are shown with Details; a keyring
// that refuses leaves the previous file as it was.
func TestWizardFailedSaveKeepsPrevious(t *testing.T) {
	api := &fakeAPI{saveErr: &control.Error{Kind: control.Conflict, Message: "the new configuration could not start; the previous one runs again", Detail: "hl7: listen :2575: address already in use"}}
	r := newWizardRig(t, api)
	r.toSummary(t, "birpis", "")
	test.Tap(r.w.save)
	if r.w.saved || len(r.dones) != 0 {
		t.Fatal("saved although the hub refused")
	}
	if got := r.w.msg.text.Text; got != "The new configuration could not start; the previous one runs again." {
		t.Fatalf("message %q", got)
	}
	if !strings.Contains(r.w.msg.detail.Text, "address already in use") || r.w.msg.detail.Visible() {
		t.Fatalf("detail %q visible %v", r.w.msg.detail.Text, r.w.msg.detail.Visible())
	}

	prev := []byte(`{"previous": true}`)
	r2 := newWizardRig(t, nil)
	if err := os.WriteFile(r2.cfgPath, prev, 0o600); err != nil {
		t.Fatal(err)
	}
	r2.sec.setErr = os.ErrPermission
	r2.toSummary(t, "weda", goodSecret)
	test.Tap(r2.w.save)
	if r2.w.saved {
		t.Fatal("saved although the keyring refused")
	}
	if b, _ := os.ReadFile(r2.cfgPath); !bytes.Equal(b, prev) {
		t.Fatalf("previous config changed: %s", b)
	}
	if got := r2.w.msg.text.Text; got != txtSecretNotStored() {
		t.Fatalf("message %q", got)
	}
}
