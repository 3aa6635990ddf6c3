package view

import (
	"slices"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// gui connects a Hub to the Dashboard and, when there is one, the tray
// model. Health snapshots arrive on any goroutine and are applied on
// Fyne's goroutine through fyne.Do.
type gui struct {
	hub  Hub
	dash *dashboard
	tray *trayMenu // nil when running window-only
	// trayChanged, if set, is called on Fyne's goroutine after the tray
	// model changed, so that Run pushes the new menu or icon to the driver.
	trayChanged func(labelChanged, iconChanged bool)
	// onHealth, if set, sees every snapshot (the notifications).
	onHealth func([]domain.Health)
	// last is the newest snapshot, shown on a Dashboard built later.
	last []domain.Health
}

// newGUI builds the Dashboard (and the tray model when withTray) for h.
// notice explains a missing tray; open and quit are the tray's actions.
func newGUI(h Hub, withTray bool, notice string, act trayActions) *gui {
	info := h.Info()
	g := &gui{hub: h, dash: newDashboard(info, notice, time.Now)}
	if withTray {
		g.tray = newTrayMenu(info, act)
	}
	return g
}

// start shows the current health and follows the hub's updates until the
// returned cancel is called. Call it on Fyne's goroutine (or before the app
// runs).
func (g *gui) start() (cancel func()) {
	g.apply(g.hub.Health())
	return g.hub.SubscribeHealth(func(hs []domain.Health) {
		hs = slices.Clone(hs) // the hub may reuse its slice
		uiDo(func() { g.apply(hs) })
	})
}

// setDashboard shows the health on d from now on (nil: no Dashboard,
// while its window is released).
func (g *gui) setDashboard(d *dashboard) {
	g.dash = d
	if d != nil {
		d.update(g.last)
	}
}

// dashboard is the Dashboard on screen or hidden; nil while released.
func (g *gui) dashboard() *dashboard { return g.dash }

func (g *gui) apply(hs []domain.Health) {
	g.last = hs
	if g.dash != nil {
		g.dash.update(hs)
	}
	if g.onHealth != nil {
		g.onHealth(hs)
	}
	if g.tray == nil {
		return
	}
	labelChanged, iconChanged := g.tray.update(hs)
	if g.trayChanged != nil && (labelChanged || iconChanged) {
		g.trayChanged(labelChanged, iconChanged)
	}
}
