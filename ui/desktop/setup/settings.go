package setup

import (
	"context"
	"sort"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/connectors/registry"
)

// Settings is the Dashboard's Settings tab: the configuration as forms per
// section (validated by the hub as it is typed, saved through the hub,
// which restarts in place), the language, autostart, diagnostics export,
// the EHR wizard and what the hub is (About).
type Settings struct {
	env *Env

	doc      *document
	original []byte
	forms    []*form
	problems []config.Problem
	own      map[string]bool
	asked    int // validations asked for; only the newest answer counts

	msg       *messageBox
	sections  *fyne.Container
	other     *widget.Label
	save      *widget.Button
	discard   *widget.Button
	langSel   *widget.Select
	autostart *widget.Check
	patient   *widget.Check
	diagBtn   *widget.Button
	progress  *widget.ProgressBarInfinite
	diagOut   *fyne.Container
	about     *widget.Form
	root      fyne.CanvasObject

	// wizard is the open "Change EHR connection" wizard, if any.
	wizard *Wizard
	dlg    dialog.Dialog
	// chooseFile asks where the diagnostics go (tests replace it).
	chooseFile func(done func(path string))
}

// NewSettings returns the Settings tab; Load fills it.
func NewSettings(env Env) *Settings {
	s := &Settings{env: &env, msg: newMessageBox(), sections: container.NewVBox(), other: wrapped("")}
	s.other.Importance = widget.DangerImportance
	s.other.Hide()
	s.save = widget.NewButtonWithIcon(txtSettingsSave(), theme.DocumentSaveIcon(), s.doSave)
	s.save.Importance = widget.HighImportance
	s.discard = widget.NewButtonWithIcon(txtDiscard(), theme.CancelIcon(), s.Load)
	s.save.Disable()
	s.discard.Disable()

	var names []string
	for _, l := range languages {
		names = append(names, l.Name)
	}
	s.langSel = widget.NewSelect(names, nil)
	s.langSel.SetSelected(languageName(startLanguage(env.Language)))
	s.langSel.OnChanged = func(name string) {
		for _, l := range languages {
			if l.Name == name && env.SetLanguage != nil {
				env.SetLanguage(l.Code)
			}
		}
	}
	s.autostart = widget.NewCheck(txtAutostartToggle(), nil)
	s.patient = widget.NewCheck(txtPatientData(), nil)
	s.progress = widget.NewProgressBarInfinite()
	s.progress.Stop()
	s.progress.Hide()
	s.diagOut = container.NewVBox()
	s.diagBtn = widget.NewButtonWithIcon(txtExportDiag(), theme.DownloadIcon(), func() { s.chooseFile(s.exportTo) })
	s.chooseFile = func(done func(string)) {
		d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
			if err != nil || w == nil {
				return
			}
			path := w.URI().Path()
			w.Close()
			done(path)
		}, env.Window)
		d.SetFileName("mconnect-diagnostics-" + time.Now().Format("2006-01-02") + ".zip")
		d.Show()
	}
	change := widget.NewButtonWithIcon(txtChangeEHR(), theme.SettingsIcon(), s.openWizard)
	s.about = widget.NewForm()

	general := widget.NewCard(txtSettingsTitle(), "", container.NewVBox(
		widget.NewForm(widget.NewFormItem(txtLanguage(), s.langSel)),
		s.autostart, change))
	diag := widget.NewCard(txtExportDiag(), "", container.NewVBox(s.patient, container.NewHBox(s.diagBtn), s.progress, s.diagOut))
	s.root = container.NewBorder(s.msg.root, container.NewVBox(s.other, container.NewHBox(s.discard, s.save)), nil, nil,
		container.NewVScroll(container.NewVBox(general, s.sections, diag, widget.NewCard(txtAbout(), "", s.about))))
	return s
}

// Content is the tab's content.
func (s *Settings) Content() fyne.CanvasObject { return s.root }

// Load reads the configuration, the hub's status and the autostart state
// and rebuilds the forms (what was typed and not saved is discarded).
func (s *Settings) Load() {
	s.showAutostart()
	if s.env.API == nil {
		s.msg.info(txtNoHub())
		return
	}
	api := s.env.API
	call(s.env, func(ctx context.Context) (control.ConfigDoc, error) { return api.Config(ctx) },
		func(doc control.ConfigDoc, err error) {
			if err != nil {
				msg, detail := plainError(err, txtNoHubAnswer())
				s.msg.problem(msg, detail)
				return
			}
			d, err := parseDocument(doc.JSON)
			if err != nil {
				s.msg.problem(txtLoadFailed(), err.Error())
				return
			}
			s.msg.clear()
			s.original = append([]byte(nil), doc.JSON...)
			s.build(d)
		})
	call(s.env, func(ctx context.Context) (control.Status, error) { return api.Status(ctx) },
		func(st control.Status, err error) {
			if err == nil {
				s.showAbout(st)
			}
		})
}

func (s *Settings) showAutostart() {
	a := s.env.Autostart
	if a == nil {
		s.autostart.Hide()
		return
	}
	s.autostart.OnChanged = nil
	on, err := a.Enabled()
	s.autostart.SetChecked(on && err == nil)
	s.autostart.OnChanged = func(want bool) {
		if err := a.SetEnabled(want); err != nil {
			s.msg.problem(txtAutostartFailed(), err.Error())
		}
		s.showAutostart() // the real state, whatever happened
	}
}

func (s *Settings) showAbout(st control.Status) {
	s.about.Items = nil
	for _, it := range []struct{ label, value string }{
		{txtVersion(), st.Version}, {txtDataFolder(), st.DataDir}, {txtConfigFile(), st.ConfigPath},
		{txtFingerprint(), st.Fingerprint}, {txtLAN(), st.LANAddress},
	} {
		l := wrapped(it.value)
		l.Selectable = true
		s.about.Append(it.label, l)
	}
	s.about.Refresh()
}

// sectionOrder lists the document's sections: the hub and its tablets
// first, then the EHR's sections (as the registry names them, then any
// other in the file), then log and delivery.
func sectionOrder(d *document) []string {
	out := []string{"hub", "device"}
	seen := map[string]bool{"hub": true, "device": true, "log": true, "delivery": true, "ehr": true, "groups": true}
	if secs, err := registry.Default.SectionsFor(d.ehr()); err == nil {
		for _, sec := range secs {
			if _, ok := d.root[sec]; ok && !seen[sec] {
				out = append(out, sec)
				seen[sec] = true
			}
		}
	}
	var rest []string
	for k := range d.root {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(append(out, rest...), "log", "delivery")
}

func (s *Settings) build(d *document) {
	s.doc = d
	s.own = map[string]bool{}
	s.forms = nil
	s.problems = nil
	s.sections.Objects = nil
	for _, sec := range sectionOrder(d) {
		if _, ok := d.root[sec]; !ok {
			continue
		}
		described := fieldsFor(sec)
		known := map[string]bool{}
		for _, f := range described {
			known[f.Key] = true
			if f.Kind == kindPort {
				s.own[f.Key+"="+d.text(f.Key)] = true
			}
		}
		var more []field
		for _, key := range d.leaves(sec) {
			if !known[key] {
				v, _ := d.get(key)
				more = append(more, guessField(key, v))
			}
		}
		main := newForm(s.env, d, s.own, described, s.edited)
		s.forms = append(s.forms, main)
		box := container.NewVBox(main.content())
		if len(more) > 0 {
			extra := newForm(s.env, d, s.own, more, s.edited)
			s.forms = append(s.forms, extra)
			acc := widget.NewAccordion(widget.NewAccordionItem(txtMore(), extra.content()))
			box.Add(acc)
		}
		s.sections.Add(widget.NewCard(txtSection(sec), "", box))
	}
	s.sections.Refresh()
	s.showProblems(nil)
	s.save.Disable()
	s.discard.Disable()
}

// edited follows a change: the hub validates the configuration as it is.
func (s *Settings) edited(string) {
	s.discard.Enable()
	data, err := s.doc.marshal()
	if err != nil {
		return
	}
	api := s.env.API
	s.asked++
	n := s.asked
	call(s.env, func(ctx context.Context) (control.ConfigCheck, error) {
		return api.ValidateConfig(ctx, control.ConfigDoc{JSON: data})
	}, func(chk control.ConfigCheck, err error) {
		if n != s.asked {
			return // a newer edit is being validated
		}
		if err != nil {
			msg, detail := plainError(err, txtNoHubAnswer())
			s.msg.problem(msg, detail)
			return
		}
		s.showProblems(chk.Problems)
	})
}

func (s *Settings) showProblems(ps []config.Problem) {
	s.problems = ps
	rest := ps
	for _, fm := range s.forms {
		var left []config.Problem
		unshown := fm.showProblems(ps)
		// A problem is left over when no form shows it.
		for _, p := range rest {
			if containsProblem(unshown, p) {
				left = append(left, p)
			}
		}
		rest = left
	}
	if len(rest) > 0 {
		s.other.SetText(txtOther() + "\n" + problemsText(rest))
		s.other.Show()
	} else {
		s.other.Hide()
	}
	if len(ps) == 0 && s.doc != nil {
		s.save.Enable()
	} else {
		s.save.Disable()
	}
}

func containsProblem(ps []config.Problem, p config.Problem) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// problemOf returns the message shown under the field of key.
func (s *Settings) problemOf(key string) string {
	for _, fm := range s.forms {
		if m := fm.problemOf(key); m != "" {
			return m
		}
	}
	return ""
}

func (s *Settings) row(key string) *fieldRow {
	for _, fm := range s.forms {
		if r := fm.byKey[key]; r != nil {
			return r
		}
	}
	return nil
}

// doSave stores typed secrets and saves through the hub, which restarts
// in place (a failed restart rolls back; its words are shown).
func (s *Settings) doSave() {
	if s.doc == nil || s.env.API == nil {
		return
	}
	data, err := s.doc.marshal()
	if err != nil {
		s.msg.problem(txtNotWritten(), err.Error())
		return
	}
	names, values := s.doc.pendingSecrets()
	s.save.Disable()
	s.msg.info(txtSaving())
	env := s.env
	env.spawn(func() {
		res := saveConfig(env, nil, data, names, values)
		env.do(func() {
			if res.err != nil {
				if len(res.problems) > 0 {
					s.showProblems(res.problems)
					s.msg.problem(res.msg, problemsText(res.problems))
				} else {
					msg, detail := plainError(res.err, res.msg)
					s.msg.problem(msg, detail)
					s.save.Enable()
				}
				return
			}
			s.Load()
			s.msg.info(txtSaved())
		})
	})
}

// exportTo writes the diagnostics bundle to path through the hub.
func (s *Settings) exportTo(path string) {
	if s.env.API == nil {
		s.msg.info(txtNoHub())
		return
	}
	api, patient := s.env.API, s.patient.Checked
	s.diagBtn.Disable()
	s.diagOut.Objects = []fyne.CanvasObject{widget.NewLabel(txtDiagRunning())}
	s.diagOut.Refresh()
	s.progress.Show()
	s.progress.Start()
	call(s.env, func(ctx context.Context) (control.DiagResult, error) {
		return api.ExportDiagnostics(ctx, control.DiagRequest{Out: path, IncludePatientData: patient})
	}, func(res control.DiagResult, err error) {
		s.progress.Stop()
		s.progress.Hide()
		s.diagBtn.Enable()
		s.diagOut.Objects = nil
		if err != nil {
			msg, detail := plainError(err, txtDiagFailed())
			s.msg.problem(msg, detail)
			s.diagOut.Refresh()
			return
		}
		s.diagOut.Add(wrapped(txtDiagDone(res.Path)))
		for _, sec := range res.Sections {
			if sec.Problem == "" {
				s.diagOut.Add(widget.NewLabel(txtDiagSectionOK(sec.Name)))
			} else {
				l := wrapped(txtDiagSectionLeft(sec.Name) + " — " + sec.Problem)
				l.Importance = widget.WarningImportance
				s.diagOut.Add(l)
			}
		}
		s.diagOut.Refresh()
	})
}

// openWizard shows the EHR wizard over the window. Cancel closes it;
// after a save the settings are read again and the wizard's last page
// stays until the person closes it.
func (s *Settings) openWizard() {
	env := *s.env
	s.wizard = NewWizard(env, func(saved bool) {
		if saved {
			s.Load()
			return
		}
		if s.dlg != nil {
			s.dlg.Hide()
		}
		s.wizard = nil
	})
	if s.env.Window == nil {
		return
	}
	s.dlg = dialog.NewCustom(txtChangeEHR(), txtClose(), s.wizard.Content(), s.env.Window)
	s.dlg.SetOnClosed(func() { s.wizard = nil })
	s.dlg.Resize(fyne.NewSize(820, 620))
	s.dlg.Show()
}
