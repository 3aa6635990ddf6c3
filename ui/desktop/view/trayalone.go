package view

import (
	"slices"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
)

// TrayOptions connect a Tray to the desktop's tray icon and to the
// Dashboard, which runs in a process of its own. Every function is called
// on the Tray's own goroutine, one at a time, except the actions (Open,
// Pair, Export, Quit, OpenURL), which run on the goroutine of the tray
// icon's click.
type TrayOptions struct {
	// API is the hub's control API (the counts, the Show events).
	API control.API
	Log logrus.FieldLogger
	// SetMenu shows m as the tray icon's menu; it is called again, with the
	// same m, whenever its items changed.
	SetMenu func(m *fyne.Menu)
	// SetIcon shows the icon of the hub's state (green, amber, red).
	SetIcon func(fyne.Resource)
	// SetTooltip shows the icon's tooltip.
	SetTooltip func(string)
	// Notify shows a desktop notification.
	Notify func(title, body string)
	// Open shows the Dashboard on tab (empty: the last one).
	Open func(tab string)
	// Pair shows a pairing code on the Dashboard's Tablets tab.
	Pair func()
	// Export opens Export diagnostics… in the Dashboard.
	Export func()
	// Quit asks whether to stop the hub, and stops it if so.
	Quit func()
	// OpenURL opens a web address (the newer version's page).
	OpenURL func(string)
}

// Tray is the tray icon of a hub whose Dashboard is a separate process: the
// menu model, the icon's colour and tooltip, the counts and the
// notifications of the in-process Shell, without a Fyne app. The tray
// process needs no window, no OpenGL and no event loop of Fyne's.
type Tray struct {
	hub  Hub
	opts TrayOptions
	env  *tabEnv
	log  logrus.FieldLogger

	queue chan func()
	done  chan struct{}
	once  sync.Once

	// Used on the Tray's goroutine only.
	menu       *trayMenu
	notes      *notifier
	counts     follower
	last       []domain.Health
	facts      trayCounts
	pendingTab string
	stop       []func()
}

// StartTray shows h's state in the tray through opts and follows the hub
// until Stop. Call SetLanguage's change through Relabel.
func StartTray(h Hub, opts TrayOptions) *Tray {
	log := opts.Log
	if log == nil {
		log = logrus.StandardLogger()
	}
	t := &Tray{hub: h, opts: opts, log: log, queue: make(chan func(), 64), done: make(chan struct{})}
	t.env = &tabEnv{api: opts.API, now: time.Now, spawn: func(f func()) { go f() }, do: t.post, post: t.post}
	t.counts.env = t.env
	go t.run()
	t.post(func() {
		t.menu = t.newMenu()
		t.notes = newNotifier(time.Now, t.notify)
		// Subscribed before the first reading: no change falls between.
		t.stop = append(t.stop, h.SubscribeHealth(func(hs []domain.Health) {
			hs = slices.Clone(hs)
			t.post(func() { t.apply(hs) })
		}))
		t.apply(h.Health())
		if opts.API != nil {
			t.loadCounts()
			t.stop = append(t.stop, t.env.subscribe(func(control.Event) { t.counts.changed(t.loadCounts) },
				control.EventTablets, control.EventDeliveries, control.EventOrders, control.EventHealth))
		}
		t.stop = append(t.stop, t.tick())
	})
	return t
}

// post runs f on the Tray's goroutine; after Stop it is dropped.
func (t *Tray) post(f func()) {
	select {
	case <-t.done:
	case t.queue <- f:
	}
}

func (t *Tray) run() {
	for {
		select {
		case f := <-t.queue:
			f()
		case <-t.done:
			return
		}
	}
}

// Stop ends following the hub; the tray shows nothing new after it.
func (t *Tray) Stop() {
	stopped := make(chan struct{})
	t.post(func() {
		for _, f := range t.stop {
			f()
		}
		t.stop = nil
		close(stopped)
	})
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
	}
	t.once.Do(func() { close(t.done) })
}

// Relabel builds the menu again in the current language (after
// SetLanguage) and shows it.
func (t *Tray) Relabel() {
	t.post(func() {
		t.menu = t.newMenu()
		t.menu.update(t.last)
		t.menu.setCounts(t.facts)
		t.publish(true, true)
	})
}

func (t *Tray) newMenu() *trayMenu {
	act := trayActions{
		open: func() {
			t.post(func() {
				tab := t.pendingTab
				t.pendingTab = ""
				t.opts.Open(tab)
			})
		},
		quit:    t.opts.Quit,
		openURL: t.opts.OpenURL,
	}
	if t.opts.API != nil {
		act.pair, act.export = t.opts.Pair, t.opts.Export
	}
	return newTrayMenu(t.hub.Info(), act)
}

func (t *Tray) apply(hs []domain.Health) {
	first := t.last == nil
	t.last = hs
	if t.last == nil {
		t.last = []domain.Health{}
	}
	label, icon := t.menu.update(hs)
	t.publish(label || first, icon || first)
	t.notes.observe(hs)
}

// publish hands what changed to the desktop's tray.
func (t *Tray) publish(menu, icon bool) {
	if icon && t.opts.SetIcon != nil {
		t.opts.SetIcon(t.menu.icon())
	}
	if menu {
		if t.opts.SetMenu != nil {
			t.opts.SetMenu(t.menu.menu)
		}
		if t.opts.SetTooltip != nil {
			t.opts.SetTooltip(t.menu.tip())
		}
	}
}

func (t *Tray) loadCounts() {
	t.counts.asked()
	call(t.env, loadTrayCounts, func(f trayFacts, _ error) {
		defer t.counts.answered(t.loadCounts)
		t.facts = f.counts
		if t.menu.setCounts(f.counts) {
			t.publish(true, false)
		}
	})
}

// notify shows a notification and remembers its tab for Open Dashboard.
func (t *Tray) notify(n notification) {
	t.pendingTab = n.tab
	t.log.WithField("title", n.title).Info("ui: notification")
	if t.opts.Notify != nil {
		t.opts.Notify(n.title, n.body)
	}
}

// tick lets lasting warnings reach their notification without a new
// health report, as the Shell's tickNotes does.
func (t *Tray) tick() (cancel func()) {
	if tickEvery <= 0 {
		return func() {}
	}
	tk := time.NewTicker(30 * time.Second)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-tk.C:
				t.post(func() { t.notes.observe(t.last) })
			case <-done:
				return
			}
		}
	}()
	return func() { tk.Stop(); close(done) }
}

// Labels lists the menu's items ("-" for a separator), for tests and the
// support log.
func (t *Tray) Labels() []string {
	out := make(chan []string, 1)
	t.post(func() { out <- t.menu.labels() })
	select {
	case l := <-out:
		return l
	case <-t.done:
		return nil
	}
}
