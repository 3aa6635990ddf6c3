package view

import (
	"context"
	"errors"
	"net/url"
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

// callTimeout bounds one control-API call made by a tab.
const callTimeout = 15 * time.Second

// actor is who the audit log names for changes made in the Dashboard.
const actor = "dashboard"

// tabEnv is what every Dashboard tab needs: the hub's control API (nil
// when no hub runs), the clock, the window for dialogs, and how work moves
// between goroutines. Calls to the API run through spawn (off Fyne's
// goroutine); their answers come back through do; change events from the
// subscription through post.
type tabEnv struct {
	api   control.API
	now   func() time.Time
	win   fyne.Window
	spawn func(func())
	do    func(func())
	post  func(func())
	// open shows a file or folder in the OS's viewer (nil: cannot).
	open func(*url.URL) error
	// trim, if set, hands memory back to the system after a large
	// answer (see bigAnswer) was taken in: decoding one leaves much
	// garbage behind.
	trim func()
}

// bigAnswer is how many appointments make an answer large enough to
// hand memory back after it.
const bigAnswer = 1000

// trimAfter calls env.trim after an answer of n appointments.
func (env *tabEnv) trimAfter(n int) {
	if n >= bigAnswer && env.trim != nil {
		env.trim()
	}
}

// spawnCall runs a control-API call off Fyne's goroutine. Tests of Start
// replace it (in TestMain) to run calls in line: Fyne's test driver has no
// event loop that fyne.Do could hand the answers to.
var spawnCall = func(f func()) { go f() }

// newTabEnv is the production environment: calls on their own goroutine,
// answers and events applied through fyne.Do.
func newTabEnv(api control.API, win fyne.Window) *tabEnv {
	env := &tabEnv{api: api, now: time.Now, win: win, spawn: spawnCall, do: uiDo, post: uiDo}
	if a := fyne.CurrentApp(); a != nil {
		env.open = a.OpenURL
	}
	return env
}

// call runs fn with a bounded context off Fyne's goroutine and hands its
// answer to done on Fyne's goroutine.
func call[T any](env *tabEnv, fn func(ctx context.Context, api control.API) (T, error), done func(T, error)) {
	api := env.api
	env.spawn(func() {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		v, err := fn(ctx, api)
		cancel()
		env.do(func() { done(v, err) })
	})
}

// subscribe follows the hub's change events, handing those of the given
// kinds to fn on Fyne's goroutine, until the returned cancel is called.
func (env *tabEnv) subscribe(fn func(control.Event), kinds ...control.EventKind) (cancel func()) {
	if env.api == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := env.api.Subscribe(ctx)
	if err != nil {
		cancel()
		return func() {}
	}
	go func() {
		for ev := range ch {
			for _, k := range kinds {
				if ev.Kind == k {
					env.post(func() { fn(ev) })
					break
				}
			}
		}
	}()
	return cancel
}

// plainError splits err into words for staff and the technical detail
// behind "Details": a control error's Message and Detail; anything else
// is a hub that did not answer.
func plainError(err error) (message, detail string) {
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
	return txtHubNoAnswer(), err.Error()
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

// messageBox shows a tab's state to staff: a plain message (information
// or a problem) with the technical detail behind a "Details" button.
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
		tight(m.text, m.detail))
	m.root.Hide()
	return m
}

// info shows a plain message without details.
func (m *messageBox) info(text string) {
	m.icon.SetResource(theme.NewPrimaryThemedResource(theme.InfoIcon()))
	m.text.Importance = widget.MediumImportance
	m.text.SetText(text)
	m.detail.SetText("")
	m.detail.Hide()
	m.toggle.Hide()
	m.root.Show()
}

// problem shows err in plain words, its detail behind "Details".
func (m *messageBox) problem(err error) {
	msg, detail := plainError(err)
	m.icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
	m.text.Importance = widget.DangerImportance
	m.text.SetText(msg)
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

// followGap is the least time between two reloads of a tab that change
// events cause (tests set it to 0).
var followGap = time.Second

// follower coalesces a tab's reloads on the hub's change events: while a
// reload is being answered, further events only mark the tab stale, and
// one more reload follows, followGap after the answer. While orders
// arrive by the hundred a second, a tab then asks the hub about once a
// second instead of once per order (each answer can be 10,000
// appointments). Used on Fyne's goroutine only.
type follower struct {
	env     *tabEnv
	busy    int
	stale   bool
	waiting bool // a reload is due after followGap
	stopped bool // the tab's window is closed: no more reloads
}

// stop ends the reloads (the tab was released with its window).
func (f *follower) stop() { f.stopped = true }

// changed is a change event: reload now, or after the reload running.
func (f *follower) changed(reload func()) {
	if f.stopped {
		return
	}
	if f.busy > 0 || f.waiting {
		f.stale = true
		return
	}
	reload()
}

// asked and answered bracket every reload's call to the hub.
func (f *follower) asked() { f.busy++ }

func (f *follower) answered(reload func()) {
	f.busy--
	if f.stopped || f.busy > 0 || !f.stale {
		return
	}
	f.stale = false
	if followGap <= 0 || f.env == nil {
		reload()
		return
	}
	f.waiting = true
	post := f.env.post
	time.AfterFunc(followGap, func() {
		post(func() {
			f.waiting, f.stale = false, false
			if !f.stopped {
				reload()
			}
		})
	})
}

// wake, if set, wakes Fyne's loop from any goroutine (see SetWake).
var wake func()

// SetWake sets what wakes Fyne's loop after work was handed to it from
// another goroutine (an answer from the hub, a change event): while the
// Dashboard is on screen and untouched the loop may be waiting in the
// window system. Call it before Start.
func SetWake(f func()) { wake = f }

// uiDo hands f to Fyne's goroutine and wakes the loop.
func uiDo(f func()) {
	fyne.Do(f)
	if wake != nil {
		wake()
	}
}
