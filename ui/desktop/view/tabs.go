package view

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// tabs is the Dashboard window's content: the tabs staff work in, in the
// order of the product (Worklist, Results, Tablets, Groups, Connections,
// Log, Settings; those built so far), the hub's overview under
// Connections.
type tabs struct {
	worklist *worklist
	tablets  *tablets
	app      *container.AppTabs
}

// newTabs builds the tabs around the overview. Open on the overview when
// the person must read it first (no tray icon, no hub running).
func newTabs(env *tabEnv, overview fyne.CanvasObject, overviewFirst bool) *tabs {
	t := &tabs{worklist: newWorklist(env), tablets: newTablets(env)}
	t.app = container.NewAppTabs(
		container.NewTabItemWithIcon(txtTabWorklist(), theme.ListIcon(), t.worklist.content()),
		container.NewTabItemWithIcon(txtTabTablets(), theme.ComputerIcon(), t.tablets.content()),
		container.NewTabItemWithIcon(txtTabConnections(), theme.InfoIcon(), overview),
	)
	if overviewFirst {
		t.app.SelectIndex(len(t.app.Items) - 1)
	}
	return t
}

func (t *tabs) content() fyne.CanvasObject { return t.app }

// start loads every tab and follows the hub's events until the returned
// cancel is called.
func (t *tabs) start() (cancel func()) {
	stops := []func(){t.worklist.start(), t.tablets.start()}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
