package setup

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/config"
)

// form edits some keys of a document: one row per field with its label,
// hint, input and the config validator's message for it.
type form struct {
	env      *Env
	doc      *document
	rows     []*fieldRow
	byKey    map[string]*fieldRow
	own      map[string]bool // listen addresses the running hub holds
	onChange func(key string)
	// quiet is set while the form itself sets a field's text.
	quiet bool
	box   *fyne.Container
}

// fieldRow is one field's widgets.
type fieldRow struct {
	f       field
	entry   *widget.Entry
	check   *widget.Check
	sel     *widget.Select
	values  []string // the select's values, by option index
	problem *widget.Label
	state   *widget.Label // live "free?" of a port, "created" of a folder
	touched bool          // changed by the person
	obj     fyne.CanvasObject
}

func newForm(env *Env, doc *document, own map[string]bool, fields []field, onChange func(string)) *form {
	fm := &form{env: env, doc: doc, byKey: map[string]*fieldRow{}, own: own, onChange: onChange}
	for _, f := range fields {
		r := fm.newRow(f)
		fm.rows = append(fm.rows, r)
		fm.byKey[f.Key] = r
	}
	return fm
}

// content lays the rows out one below the other.
func (fm *form) content() *fyne.Container {
	fm.box = container.NewVBox()
	for _, r := range fm.rows {
		fm.box.Add(r.obj)
	}
	return fm.box
}

// relayout lays the rows out again after a message appeared or went.
func (fm *form) relayout(r *fieldRow) {
	if r != nil {
		r.obj.Refresh()
	}
	if fm.box != nil {
		fm.box.Refresh()
	}
}

func (fm *form) changed(r *fieldRow) {
	if !fm.quiet {
		r.touched = true
	}
	if fm.onChange != nil {
		fm.onChange(r.f.Key)
	}
}

func (fm *form) newRow(f field) *fieldRow {
	r := &fieldRow{f: f, problem: wrapped(""), state: widget.NewLabel("")}
	r.problem.Importance = widget.DangerImportance
	r.problem.Hide()
	r.state.Hide()
	d := fm.doc
	var input fyne.CanvasObject
	switch f.Kind {
	case kindBool:
		r.check = widget.NewCheck(f.labelText(), nil)
		r.check.SetChecked(d.boolean(f.Key))
		r.check.OnChanged = func(on bool) { d.set(f.Key, on); fm.changed(r) }
		input = r.check
	case kindChoice:
		cur := d.text(f.Key)
		var opts []string
		for _, c := range f.Choices {
			opts = append(opts, c.Label())
			r.values = append(r.values, c.Value)
		}
		if !contains(r.values, cur) {
			opts = append(opts, cur)
			r.values = append(r.values, cur)
		}
		r.sel = widget.NewSelect(opts, nil)
		r.sel.SetSelectedIndex(indexOf(r.values, cur))
		r.sel.OnChanged = func(string) {
			if i := r.sel.SelectedIndex(); i >= 0 {
				d.set(f.Key, r.values[i])
				fm.changed(r)
			}
		}
		input = r.sel
	case kindSecret:
		r.entry = widget.NewPasswordEntry()
		if d.text(f.Key) != "" {
			r.entry.SetPlaceHolder(txtSecretStored())
		}
		r.entry.OnChanged = func(s string) { d.setSecret(f.Key, s); fm.changed(r) }
		input = r.entry
	case kindAddresses:
		r.entry = widget.NewMultiLineEntry()
		r.entry.SetMinRowsVisible(2)
		r.entry.SetText(d.text(f.Key))
		r.entry.OnChanged = func(s string) { d.setList(f.Key, s); fm.changed(r) }
		input = r.entry
	default:
		r.entry = widget.NewEntry()
		r.entry.SetText(d.text(f.Key))
		r.entry.OnChanged = func(s string) {
			d.setText(f.Key, strings.TrimSpace(s))
			if f.Kind == kindPort {
				fm.checkPort(r)
			}
			fm.changed(r)
		}
		input = r.entry
		if f.Kind == kindFolder {
			pick := widget.NewButtonWithIcon(txtChoose(), theme.FolderOpenIcon(), func() { fm.pickFolder(r) })
			create := widget.NewButtonWithIcon(txtCreate(), theme.FolderNewIcon(), func() { fm.createFolder(r) })
			input = container.NewBorder(nil, nil, nil, container.NewHBox(pick, create), r.entry)
		}
	}
	parts := []fyne.CanvasObject{}
	if f.Kind != kindBool {
		l := widget.NewLabel(f.labelText())
		l.TextStyle.Bold = true
		parts = append(parts, l)
	}
	parts = append(parts, input)
	if h := f.hintText(); h != "" {
		hint := wrapped(h)
		hint.SizeName = theme.SizeNameCaptionText
		parts = append(parts, hint)
	}
	parts = append(parts, r.state, r.problem)
	r.obj = container.NewVBox(parts...)
	if f.Kind == kindPort {
		fm.checkPort(r) // "free?" from the start
	}
	return r
}

// setText sets a field's text as the form's own change (not the person's).
func (fm *form) setText(key, s string) {
	r := fm.byKey[key]
	if r == nil || r.entry == nil {
		return
	}
	fm.quiet = true
	r.entry.SetText(s)
	fm.quiet = false
}

// checkPort tells at once whether a port is free.
func (fm *form) checkPort(r *fieldRow) {
	addr := strings.TrimSpace(r.entry.Text)
	own := fm.own[r.f.Key+"="+addr]
	fm.env.spawn(func() {
		o := portFree(addr, own)
		fm.env.do(func() {
			r.state.SetText(outcomeText(checkPort, o))
			if o.OK {
				r.state.Importance = widget.SuccessImportance
			} else {
				r.state.Importance = widget.DangerImportance
			}
			r.state.Show()
			r.state.Refresh()
			fm.relayout(r)
		})
	})
}

func (fm *form) pickFolder(r *fieldRow) {
	if fm.env.Window == nil {
		return
	}
	dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil || u == nil {
			return
		}
		r.entry.SetText(u.Path())
	}, fm.env.Window)
}

func (fm *form) createFolder(r *fieldRow) {
	dir := strings.TrimSpace(r.entry.Text)
	if err := createFolder(dir); err != nil {
		r.state.SetText(txtFolderNotCreated(dir) + " " + err.Error())
		r.state.Importance = widget.DangerImportance
	} else {
		r.state.SetText(txtFolderCreated(dir))
		r.state.Importance = widget.SuccessImportance
	}
	r.state.Show()
	r.state.Refresh()
	fm.relayout(r)
	fm.changed(r)
}

// showProblems puts each problem under its field and returns those no
// field of this form shows.
func (fm *form) showProblems(problems []config.Problem) (rest []config.Problem) {
	texts := map[*fieldRow][]string{}
	for _, p := range problems {
		r := fm.byKey[problemField(p.Key)]
		if r == nil && p.Key == "" {
			// A JSON type error names its key in the text ("a.b: line 3 ...").
			if i := strings.Index(p.Problem, ":"); i > 0 {
				r = fm.byKey[p.Problem[:i]]
			}
		}
		if r == nil {
			rest = append(rest, p)
			continue
		}
		texts[r] = append(texts[r], p.Key+": "+p.Problem)
	}
	changed := false
	for _, r := range fm.rows {
		text := strings.Join(texts[r], "\n")
		if text == r.problem.Text && (text != "") == r.problem.Visible() {
			continue
		}
		changed = true
		r.problem.SetText(text)
		showIf(r.problem, text != "")
		r.obj.Refresh()
	}
	if changed {
		fm.relayout(nil)
	}
	return rest
}

// problemOf returns the message shown under a field ("" for none).
func (fm *form) problemOf(key string) string {
	if r := fm.byKey[key]; r != nil && r.problem.Visible() {
		return r.problem.Text
	}
	return ""
}

func contains(list []string, s string) bool { return indexOf(list, s) >= 0 }

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
