package setup

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/control"
)

// Env is what the Settings and the wizard need from the desktop.
type Env struct {
	// API is the running hub's control API; nil when no hub runs (first
	// start): the wizard then writes ConfigPath itself.
	API    control.API
	Window fyne.Window
	// ConfigPath is the config file; DataDir the hub's data folder.
	ConfigPath, DataDir string
	// Secrets stores typed secrets in the OS keyring (app/secrets.Store).
	Secrets interface {
		Set(name, value string) error
		Check() error
	}
	// Autostart is the OS's start-at-login setting; nil where there is none.
	Autostart interface {
		Enabled() (bool, error)
		SetEnabled(on bool) error
	}
	// Language is the GUI's language now ("en", "de", "fr", "sl"; the
	// desktop sets it): the wizard's language step and the Settings'
	// language menu start on it. Empty: the OS's language if the GUI has
	// it, else English.
	Language string
	// SetLanguage switches the GUI's language ("en", "de", "fr", "sl").
	SetLanguage func(code string)
	// PairFirstTablet shows the pairing QR code (after the wizard saved).
	PairFirstTablet func()
	// Spawn runs work off Fyne's goroutine, Do hands answers back to it;
	// nil: go f() and fyne.Do. Tests run both in line.
	Spawn func(func())
	Do    func(func())
}

// callTimeout bounds one control-API call or check run.
const callTimeout = 30 * time.Second

func (e *Env) spawn(f func()) {
	if e.Spawn != nil {
		e.Spawn(f)
		return
	}
	go f()
}

func (e *Env) do(f func()) {
	if e.Do != nil {
		e.Do(f)
		return
	}
	fyne.Do(f)
}

// call runs fn with a bounded context off Fyne's goroutine and hands its
// answer to done on Fyne's goroutine.
func call[T any](env *Env, fn func(ctx context.Context) (T, error), done func(T, error)) {
	env.spawn(func() {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		v, err := fn(ctx)
		cancel()
		env.do(func() { done(v, err) })
	})
}

// plainError splits err into words for staff and the technical detail
// behind "Details": a control error's Message and Detail; a Go error
// of this package's own work is its text as the detail under msg.
func plainError(err error, msg string) (message, detail string) {
	var ce *control.Error
	if errors.As(err, &ce) {
		message, detail = sentence(ce.Message), ce.Detail
		if detail == "" {
			detail = string(ce.Kind)
			if ce.Field != "" {
				detail += " (" + ce.Field + ")"
			}
		}
		return message, detail
	}
	return msg, err.Error()
}

// sentence starts s with a capital letter and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.ContainsAny(s[len(s)-1:], ".!?") {
		s += "."
	}
	return s
}

// messageBox shows a plain message (information or a problem) with the
// technical detail behind a "Details" button.
type messageBox struct {
	text   *widget.Label
	detail *widget.Label
	toggle *widget.Button
	icon   *widget.Icon
	root   *fyne.Container
}

func newMessageBox() *messageBox {
	m := &messageBox{text: wrapped(""), detail: wrapped(""), icon: widget.NewIcon(nil)}
	m.detail.Selectable = true
	m.detail.TextStyle.Monospace = true
	m.detail.SizeName = theme.SizeNameCaptionText
	m.detail.Hide()
	m.toggle = widget.NewButton(txtDetails(), func() {
		if m.detail.Visible() {
			m.detail.Hide()
		} else {
			m.detail.Show()
		}
	})
	m.root = container.NewBorder(nil, nil, container.NewVBox(m.icon), container.NewVBox(m.toggle),
		container.NewVBox(m.text, m.detail))
	m.root.Hide()
	return m
}

// info shows a plain message without details.
func (m *messageBox) info(text string) { m.show(text, "", false) }

// problem shows a plain message with the detail behind "Details".
func (m *messageBox) problem(text, detail string) { m.show(text, detail, true) }

func (m *messageBox) show(text, detail string, bad bool) {
	if bad {
		m.icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		m.text.Importance = widget.DangerImportance
	} else {
		m.icon.SetResource(theme.NewPrimaryThemedResource(theme.InfoIcon()))
		m.text.Importance = widget.MediumImportance
	}
	m.text.SetText(text)
	m.detail.SetText(detail)
	m.detail.Hide()
	if detail != "" {
		m.toggle.Show()
	} else {
		m.toggle.Hide()
	}
	m.root.Show()
}

func (m *messageBox) clear() { m.root.Hide() }

func wrapped(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}
