package setup

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/tlscert"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/registry"
)

// Wizard steps.
const (
	stepLanguage = iota
	stepEHR
	stepFields
	stepTablets
	stepChecks
	stepAutostart
	stepSummary
	stepPair
	stepCount
)

// languages are the GUI's languages, in their own words.
var languages = []struct{ Code, Name string }{
	{"en", "English"}, {"de", "Deutsch"}, {"fr", "Français"}, {"sl", "Slovenščina"},
}

// systemLocale is the OS's locale (a variable so tests can choose one).
var systemLocale = func() string { return string(lang.SystemLocale()) }

// startLanguage is the code of the language the GUI is in: code when it
// is one of languages, else the OS's language when it is one, else "en".
func startLanguage(code string) string {
	known := func(c string) bool {
		for _, l := range languages {
			if l.Code == c {
				return true
			}
		}
		return false
	}
	if known(code) {
		return code
	}
	if loc := systemLocale(); len(loc) >= 2 && known(strings.ToLower(loc[:2])) {
		return strings.ToLower(loc[:2])
	}
	return "en"
}

// languageName is the name of the language with code, in itself.
func languageName(code string) string {
	for _, l := range languages {
		if l.Code == code {
			return l.Name
		}
	}
	return ""
}

// Wizard sets up the hub's connection to the clinic's EHR: language,
// EHR, the fields that EHR needs, the tablet endpoint, checks, autostart,
// summary, save, pairing. Nothing is written before Save; done is called
// once: done(false) on Cancel, done(true) as soon as the configuration is
// saved (the desktop starts or has restarted the hub). The wizard then
// shows its last page, "Pair your first tablet" (env.PairFirstTablet);
// whoever shows the wizard closes it.
type Wizard struct {
	env  *Env
	done func(saved bool)
	reg  *registry.Registry

	step    int
	lang    string
	profile catalogue.Profile
	doc     *document
	current *document       // the running hub's config, when there is one
	own     map[string]bool // listen addresses the running hub holds
	fp      string          // the hub's certificate fingerprint, if known

	fields, tablets *form
	version         int // counts edits; checks are for one version

	checks     []Check
	outcomes   []*Outcome
	overridden map[int]bool
	checkedAt  int // version the outcomes are for (-1: none)
	client     *http.Client

	autostart bool
	problems  []config.Problem
	saved     bool
	finished  bool

	// confirm asks before a failed check is overridden (tests replace it).
	confirm func(title, text string, ok func())

	title, stepOf *widget.Label
	body          *fyne.Container
	msg           *messageBox
	back, next    *widget.Button
	cancel, save  *widget.Button
	root, nav     *fyne.Container
	checkList     *fyne.Container
	summary       *fyne.Container
	langGroup     *widget.RadioGroup
	ehrGroup      *widget.RadioGroup
	pairBtn       *widget.Button
}

// NewWizard returns the wizard; with env.API it starts from the running
// configuration where the same EHR is chosen again.
func NewWizard(env Env, done func(saved bool)) *Wizard {
	w := &Wizard{env: &env, done: done, reg: registry.Default, lang: startLanguage(env.Language), overridden: map[int]bool{}, checkedAt: -1, own: map[string]bool{}}
	w.confirm = func(title, text string, ok func()) {
		dialog.ShowConfirm(title, text, func(yes bool) {
			if yes {
				ok()
			}
		}, env.Window)
	}
	if env.Autostart != nil {
		w.autostart, _ = env.Autostart.Enabled()
	} else {
		w.autostart = false
	}
	w.title = widget.NewLabel("")
	w.title.TextStyle.Bold = true
	w.title.SizeName = theme.SizeNameSubHeadingText
	w.stepOf = widget.NewLabel("")
	w.body = container.NewStack()
	w.msg = newMessageBox()
	w.back = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), w.goBack)
	w.next = widget.NewButtonWithIcon("", theme.NavigateNextIcon(), w.goNext)
	w.next.Importance = widget.HighImportance
	w.cancel = widget.NewButton("", w.doCancel)
	w.save = widget.NewButtonWithIcon("", theme.DocumentSaveIcon(), w.doSave)
	w.save.Importance = widget.HighImportance
	w.nav = container.NewBorder(nil, nil, w.cancel, container.NewHBox(w.back, w.next, w.save))
	nav := w.nav
	w.root = container.NewBorder(container.NewVBox(container.NewBorder(nil, nil, nil, w.stepOf, w.title), widget.NewSeparator()),
		container.NewVBox(w.msg.root, widget.NewSeparator(), nav), nil, nil, w.body)
	if env.API != nil {
		call(w.env, func(ctx context.Context) (control.ConfigDoc, error) { return env.API.Config(ctx) },
			func(doc control.ConfigDoc, err error) {
				if err != nil {
					return // a first configuration: nothing to start from
				}
				if d, err := parseDocument(doc.JSON); err == nil {
					w.current = d
					for _, key := range []string{"device.listen", "hl7.listen", "gdt.ftp.listen", "join.api.listen", "ziplanerx.api.listen"} {
						if v := d.text(key); v != "" {
							w.own[key+"="+v] = true
						}
					}
				}
			})
		call(w.env, func(ctx context.Context) (control.Status, error) { return env.API.Status(ctx) },
			func(st control.Status, err error) {
				if err == nil && st.Fingerprint != "" {
					w.fp = st.Fingerprint
				}
			})
	}
	if w.fp == "" {
		w.fp = fingerprintIn(env.DataDir)
	}
	w.render()
	return w
}

// Content is the wizard's screen.
func (w *Wizard) Content() fyne.CanvasObject { return w.root }

// fingerprintIn reads the fingerprint of the certificate in dataDir.
func fingerprintIn(dataDir string) string {
	if dataDir == "" {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(dataDir, tlscert.CertFile))
	if err != nil {
		return ""
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return ""
	}
	if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
		return ""
	}
	return tlscert.Fingerprint(blk.Bytes)
}

// chooseEHR starts the configuration of the EHR: the running one when it
// is the same EHR, else the registry's example with this hub's folders.
func (w *Wizard) chooseEHR(id string) error {
	p, err := w.reg.Profile(id)
	if err != nil {
		return err
	}
	var d *document
	if w.current != nil && w.current.ehr() == id {
		b, _ := w.current.marshal()
		d, _ = parseDocument(b)
	} else {
		dataDir := w.env.DataDir
		if w.current != nil && w.current.text("hub.dataDir") != "" {
			dataDir = w.current.text("hub.dataDir")
		}
		c, err := w.reg.Example(id, dataDir)
		if err != nil {
			return err
		}
		if w.current != nil {
			// Keep what the running hub is called and where tablets reach it.
			c.Hub.Name = w.current.text("hub.name")
			c.Device.Listen = w.current.text("device.listen")
		}
		b, err := c.Marshal()
		if err != nil {
			return err
		}
		if d, err = parseDocument(b); err != nil {
			return err
		}
		if contains(p.Sections, "hl7") {
			// Orders only from the EHR's own address, never a whole network.
			if host, _, err := net.SplitHostPort(d.text("hl7.resultHost")); err == nil && net.ParseIP(host) != nil {
				d.setList("hl7.whitelist", host)
			}
		}
	}
	w.profile, w.doc = p, d
	var fs []field
	for _, s := range p.Sections {
		fs = append(fs, fieldsFor(s)...)
	}
	w.fields = newForm(w.env, d, w.own, fs, w.edited)
	w.tablets = newForm(w.env, d, w.own, tabletFields, w.edited)
	w.showFTP()
	w.version++
	w.validate()
	return nil
}

// edited follows every change of a field: the MLLP whitelist follows the
// EHR's address until the person edits it; the checks are out of date.
func (w *Wizard) edited(key string) {
	if key == "hl7.resultHost" {
		if r := w.fields.byKey["hl7.whitelist"]; r != nil && !r.touched {
			if host, _, err := net.SplitHostPort(w.doc.text(key)); err == nil && net.ParseIP(host) != nil {
				w.fields.setText("hl7.whitelist", host)
			}
		}
	}
	if key == "gdt.ftp.enabled" {
		w.showFTP()
	}
	w.version++
	w.validate()
	w.updateNav()
}

// showFTP shows the FTP fields of a GDT connection only while FTP is on.
func (w *Wizard) showFTP() {
	on := w.doc.boolean("gdt.ftp.enabled")
	for _, key := range []string{"gdt.ftp.listen", "gdt.ftp.user", "gdt.ftp.password"} {
		if r := w.fields.byKey[key]; r != nil {
			showIf(r.obj, on)
		}
	}
	w.fields.relayout(nil)
}

// validate runs the config's own validator and shows its messages next
// to the fields.
func (w *Wizard) validate() {
	w.problems = localProblems(w.reg, w.doc)
	rest := w.fields.showProblems(w.problems)
	w.tablets.showProblems(rest)
}

// localProblems validates d with the registry, as the hub does.
func localProblems(reg *registry.Registry, d *document) []config.Problem {
	b, err := d.marshal()
	if err != nil {
		return []config.Problem{{Problem: err.Error()}}
	}
	if _, err := config.Parse(b, reg); err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			return ve.Problems
		}
		return []config.Problem{{Problem: err.Error()}}
	}
	return nil
}

func (w *Wizard) problemsIn(fm *form) bool {
	for _, p := range w.problems {
		if fm.byKey[problemField(p.Key)] != nil {
			return true
		}
	}
	return false
}

// checksPass reports whether every required check passed and every other
// passed or was overridden, for the settings as they are now.
func (w *Wizard) checksPass() bool {
	if w.checkedAt != w.version || len(w.outcomes) != len(w.checks) || len(w.checks) == 0 {
		return false
	}
	for i, o := range w.outcomes {
		if o == nil {
			return false
		}
		if !o.OK && (w.checks[i].Required || !w.overridden[i]) {
			return false
		}
	}
	return true
}

func (w *Wizard) canSave() bool {
	return w.doc != nil && len(w.problems) == 0 && w.checksPass() && !w.saved
}

func (w *Wizard) goBack() {
	if w.step > 0 && !w.saved {
		w.step--
		w.render()
	}
}

func (w *Wizard) goNext() {
	if !w.nextAllowed() {
		return
	}
	w.step++
	w.render()
	if w.step == stepChecks {
		w.runChecks()
	}
}

func (w *Wizard) nextAllowed() bool {
	switch w.step {
	case stepEHR:
		return w.doc != nil
	case stepFields:
		return !w.problemsIn(w.fields)
	case stepTablets:
		return !w.problemsIn(w.tablets)
	case stepSummary, stepPair:
		return false
	}
	return true
}

func (w *Wizard) doCancel() {
	if w.saved {
		return
	}
	w.finish(false)
}

func (w *Wizard) finish(saved bool) {
	if w.finished {
		return
	}
	w.finished = true
	if w.done != nil {
		w.done(saved)
	}
}

func (w *Wizard) updateNav() {
	w.back.SetText(txtBack())
	w.next.SetText(txtNext())
	w.cancel.SetText(txtCancel())
	w.save.SetText(txtSave())
	showIf(w.back, w.step > 0 && !w.saved)
	showIf(w.cancel, !w.saved)
	showIf(w.next, w.step < stepSummary)
	showIf(w.save, w.step == stepSummary)
	if w.nextAllowed() {
		w.next.Enable()
	} else {
		w.next.Disable()
	}
	if w.canSave() {
		w.save.Enable()
	} else {
		w.save.Disable()
	}
	w.nav.Refresh()
}

func showIf(o fyne.CanvasObject, show bool) {
	if show {
		o.Show()
	} else {
		o.Hide()
	}
}

// render builds the current step's page.
func (w *Wizard) render() {
	w.title.SetText(txtStepTitle(w.step))
	w.stepOf.SetText(txtStepOf(w.step+1, stepCount))
	var page fyne.CanvasObject
	switch w.step {
	case stepLanguage:
		page = w.languagePage()
	case stepEHR:
		page = w.ehrPage()
	case stepFields:
		page = container.NewVScroll(container.NewVBox(wrapped(txtFieldsPrompt(w.profile.Name)), w.fields.content()))
	case stepTablets:
		fp := w.fp
		if fp == "" {
			fp = txtFingerprintUnknown()
		}
		fpl := wrapped(fp)
		fpl.Selectable = true
		l := widget.NewLabel(txtFingerprint())
		l.TextStyle.Bold = true
		page = container.NewVScroll(container.NewVBox(wrapped(txtTabletsPrompt()), w.tablets.content(), l, fpl))
	case stepChecks:
		w.checkList = container.NewVBox()
		w.fillChecks()
		page = container.NewBorder(wrapped(txtChecksPrompt()), container.NewHBox(widget.NewButtonWithIcon(txtRunChecks(), theme.ViewRefreshIcon(), w.runChecks)), nil, nil,
			container.NewVScroll(w.checkList))
	case stepAutostart:
		page = w.autostartPage()
	case stepSummary:
		w.summary = container.NewVBox()
		w.fillSummary()
		page = container.NewVScroll(w.summary)
	default:
		pair := widget.NewButtonWithIcon(txtPair(), theme.ComputerIcon(), func() {
			if w.env.PairFirstTablet != nil {
				w.env.PairFirstTablet()
			}
		})
		pair.Importance = widget.HighImportance
		w.pairBtn = pair
		page = container.NewVBox(wrapped(txtSavedWizard()), wrapped(txtPairPrompt()), container.NewHBox(pair))
	}
	w.body.Objects = []fyne.CanvasObject{page}
	w.updateNav()
	w.root.Refresh()
}

func (w *Wizard) languagePage() fyne.CanvasObject {
	var names []string
	sel := ""
	for _, l := range languages {
		names = append(names, l.Name)
		if l.Code == w.lang {
			sel = l.Name
		}
	}
	rg := widget.NewRadioGroup(names, nil)
	rg.SetSelected(sel)
	w.langGroup = rg
	rg.OnChanged = func(name string) {
		for _, l := range languages {
			if l.Name == name && l.Code != w.lang {
				w.lang = l.Code
				if w.env.SetLanguage != nil {
					w.env.SetLanguage(l.Code)
				}
				w.render()
			}
		}
	}
	return container.NewVBox(wrapped(txtLanguagePrompt()), rg)
}

// ehrOption is the line an EHR is listed with.
func (w *Wizard) ehrOption(p catalogue.Profile) string {
	s := p.Name + " — " + string(p.Format) + " — " + txtInbound(p.Inbound)
	if !w.reg.Built(p) {
		s += " (" + txtNotBuilt() + ")"
	}
	return s
}

func (w *Wizard) ehrPage() fyne.CanvasObject {
	var opts []string
	byOpt := map[string]string{}
	sel := ""
	for _, p := range catalogue.All() {
		o := w.ehrOption(p)
		opts = append(opts, o)
		byOpt[o] = p.ID
		if w.doc != nil && p.ID == w.profile.ID {
			sel = o
		}
	}
	rg := widget.NewRadioGroup(opts, nil)
	rg.SetSelected(sel)
	w.ehrGroup = rg
	rg.OnChanged = func(o string) {
		id := byOpt[o]
		if id == "" || (w.doc != nil && id == w.profile.ID) {
			return
		}
		if err := w.chooseEHR(id); err != nil {
			msg, detail := plainError(err, txtNotBuilt())
			w.msg.problem(msg, detail)
			return
		}
		w.msg.clear()
		w.updateNav()
	}
	return container.NewVScroll(container.NewVBox(wrapped(txtEHRPrompt()), rg))
}

func (w *Wizard) autostartPage() fyne.CanvasObject {
	if w.env.Autostart == nil {
		return container.NewVBox(wrapped(txtAutostartPrompt()), wrapped(txtAutostartMissing()))
	}
	c := widget.NewCheck(txtAutostartToggle(), func(on bool) { w.autostart = on })
	c.SetChecked(w.autostart)
	return container.NewVBox(wrapped(txtAutostartPrompt()), c)
}

// runChecks runs the checks of the settings as they are now.
func (w *Wizard) runChecks() {
	if w.doc == nil {
		return
	}
	w.checks = buildChecks(w.profile, w.doc, checkEnv{own: w.own, secrets: w.env.Secrets, client: w.client})
	w.outcomes = make([]*Outcome, len(w.checks))
	w.overridden = map[int]bool{}
	w.checkedAt = -1
	version := w.version
	checks := w.checks
	w.fillChecks()
	w.env.spawn(func() {
		out := make([]*Outcome, len(checks))
		for i, c := range checks {
			ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
			o := c.Run(ctx)
			cancel()
			out[i] = &o
		}
		w.env.do(func() {
			if version != w.version {
				return // the settings changed meanwhile
			}
			w.outcomes, w.checkedAt = out, version
			w.fillChecks()
			w.updateNav()
		})
	})
}

func (w *Wizard) fillChecks() {
	if w.checkList == nil {
		return
	}
	w.checkList.Objects = nil
	for i, c := range w.checks {
		w.checkList.Add(w.checkRow(i, c))
	}
	w.checkList.Refresh()
}

func (w *Wizard) checkRow(i int, c Check) fyne.CanvasObject {
	name := widget.NewLabel(checkName(c))
	name.TextStyle.Bold = true
	var o *Outcome
	if i < len(w.outcomes) {
		o = w.outcomes[i]
	}
	if o == nil {
		return container.NewBorder(nil, nil, widget.NewIcon(theme.ViewRefreshIcon()), nil, container.NewVBox(name, widget.NewLabel(txtChecksRunning())))
	}
	icon := widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	text := wrapped(outcomeText(c.What, *o))
	parts := []fyne.CanvasObject{name, text}
	if !o.OK {
		icon = widget.NewIcon(theme.NewErrorThemedResource(theme.CancelIcon()))
		text.Importance = widget.DangerImportance
		if fix := outcomeFix(*o); fix != "" {
			parts = append(parts, wrapped(fix))
		}
		if o.Detail != "" {
			d := wrapped(o.Detail)
			d.TextStyle.Monospace = true
			d.SizeName = theme.SizeNameCaptionText
			d.Hide()
			parts = append(parts, d, container.NewHBox(widget.NewButton(txtDetails(), func() {
				if d.Visible() {
					d.Hide()
				} else {
					d.Show()
				}
			})))
		}
		if !c.Required {
			if w.overridden[i] {
				parts = append(parts, wrapped(txtOverridden()))
			} else {
				parts = append(parts, container.NewHBox(widget.NewButton(txtOverride(), func() { w.askOverride(i) })))
			}
		}
	}
	return container.NewBorder(nil, nil, container.NewVBox(icon), nil, container.NewVBox(parts...))
}

// askOverride lets a failed reachability check pass after a confirm.
func (w *Wizard) askOverride(i int) {
	w.confirm(txtOverrideTitle(), txtOverrideText(), func() {
		w.overridden[i] = true
		w.fillChecks()
		w.updateNav()
	})
}

func (w *Wizard) fillSummary() {
	s := w.summary
	s.Objects = nil
	s.Add(wrapped(txtSummaryPrompt()))
	s.Add(widget.NewLabel(txtSummaryEHR(w.profile.Name, string(w.profile.Format))))
	for _, fm := range []*form{w.fields, w.tablets} {
		for _, r := range fm.rows {
			s.Add(widget.NewLabel(r.f.labelText() + ": " + w.summaryValue(r)))
		}
	}
	if w.env.Autostart != nil {
		on := txtOff()
		if w.autostart {
			on = txtOn()
		}
		s.Add(widget.NewLabel(txtAutostartToggle() + ": " + on))
	}
	switch {
	case len(w.problems) > 0:
		l := wrapped(txtProblemsLeft())
		l.Importance = widget.DangerImportance
		s.Add(l)
		for _, p := range w.problems {
			s.Add(wrapped(p.Key + ": " + p.Problem))
		}
	case w.checksPass():
		s.Add(wrapped(txtChecksPassed()))
	case w.checkedAt != w.version && w.checkedAt >= 0:
		s.Add(wrapped(txtChecksStale()))
	default:
		l := wrapped(txtChecksNeeded())
		l.Importance = widget.DangerImportance
		s.Add(l)
	}
	s.Refresh()
}

func (w *Wizard) summaryValue(r *fieldRow) string {
	switch r.f.Kind {
	case kindSecret:
		if _, typed := w.doc.pending[r.f.Key]; typed {
			return txtSecretNew()
		}
		return txtSecretKept()
	case kindBool:
		if w.doc.boolean(r.f.Key) {
			return txtOn()
		}
		return txtOff()
	case kindChoice:
		if i := r.sel.SelectedIndex(); i >= 0 {
			return r.sel.Options[i]
		}
	case kindAddresses:
		return strings.ReplaceAll(w.doc.text(r.f.Key), "\n", ", ")
	}
	return w.doc.text(r.f.Key)
}

// doSave validates, stores the typed secrets in the keyring and writes the
// configuration: through the hub when one runs (it restarts in place),
// else to env.ConfigPath. A failure leaves the previous file as it was.
func (w *Wizard) doSave() {
	if !w.canSave() {
		return
	}
	w.save.Disable()
	w.msg.info(txtSaving())
	data, err := w.doc.marshal()
	if err != nil {
		msg, detail := plainError(err, txtNotWritten())
		w.msg.problem(msg, detail)
		return
	}
	names, values := w.doc.pendingSecrets()
	env, autostart := w.env, w.autostart
	w.env.spawn(func() {
		res := saveConfig(env, w.reg, data, names, values)
		if res.err == nil && env.Autostart != nil {
			if on, err := env.Autostart.Enabled(); err != nil || on != autostart {
				res.autostartErr = env.Autostart.SetEnabled(autostart)
			}
		}
		env.do(func() { w.saveDone(res) })
	})
}

// saveResult is what a save did.
type saveResult struct {
	problems     []config.Problem
	err          error
	msg          string // the plain words for err
	autostartErr error
}

// saveConfig validates data (through the hub, or with the registry when
// none runs), stores the secrets, then writes data.
func saveConfig(env *Env, reg *registry.Registry, data []byte, names, values []string) saveResult {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	doc := control.ConfigDoc{Path: env.ConfigPath, JSON: data}
	var out []byte
	if env.API != nil {
		chk, err := env.API.ValidateConfig(ctx, doc)
		if err != nil {
			return saveResult{err: err, msg: txtNoHubAnswer()}
		}
		if len(chk.Problems) > 0 {
			return saveResult{problems: chk.Problems, err: errors.New("invalid"), msg: txtInvalid()}
		}
	} else {
		c, err := config.Parse(data, reg)
		if err != nil {
			var ve *config.ValidationError
			if errors.As(err, &ve) {
				return saveResult{problems: ve.Problems, err: err, msg: txtInvalid()}
			}
			return saveResult{err: err, msg: txtInvalid()}
		}
		if out, err = c.Marshal(); err != nil {
			return saveResult{err: err, msg: txtNotWritten()}
		}
	}
	for i := range names {
		if env.Secrets == nil {
			return saveResult{err: errors.New("no keyring in this environment"), msg: txtSecretNotStored()}
		}
		if err := env.Secrets.Set(names[i], values[i]); err != nil {
			return saveResult{err: err, msg: txtSecretNotStored()}
		}
	}
	if env.API != nil {
		chk, err := env.API.SaveConfig(ctx, doc)
		if err != nil {
			return saveResult{err: err, msg: txtNotWritten()}
		}
		if len(chk.Problems) > 0 {
			return saveResult{problems: chk.Problems, err: errors.New("invalid"), msg: txtInvalid()}
		}
		return saveResult{}
	}
	if err := config.WriteFileAtomic(env.ConfigPath, out); err != nil {
		return saveResult{err: err, msg: txtNotWritten()}
	}
	return saveResult{}
}

func (w *Wizard) saveDone(res saveResult) {
	if res.err != nil {
		if len(res.problems) > 0 {
			w.problems = res.problems
			rest := w.fields.showProblems(res.problems)
			w.tablets.showProblems(rest)
			w.msg.problem(res.msg, problemsText(res.problems))
		} else {
			msg, detail := plainError(res.err, res.msg)
			w.msg.problem(msg, detail)
		}
		w.updateNav()
		return
	}
	w.saved = true
	w.step = stepPair
	w.render()
	if res.autostartErr != nil {
		w.msg.problem(txtAutostartFailed(), res.autostartErr.Error())
	} else {
		w.msg.clear()
	}
	w.finish(true)
}

func problemsText(ps []config.Problem) string {
	var lines []string
	for _, p := range ps {
		lines = append(lines, p.Key+": "+p.Problem)
	}
	return strings.Join(lines, "\n")
}
