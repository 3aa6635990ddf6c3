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
	conns    *connTests
	worklist *worklist
	results  *results
	tablets  *tablets
	groups   *groups
	log      *logTab
	settings *settingsTab // nil without SetupDeps
	app      *container.AppTabs
	// connIndex is the Connections tab's place.
	connIndex int
	// visible is whether the window is on screen (the Log follows only then).
	visible bool
}

// selectionChanged lets the Log tab follow the log, and the Tablets tab
// count down, only while on screen.
func (t *tabs) selectionChanged() {
	sel := t.app.Selected()
	t.log.setActive(t.visible && sel != nil && sel.Content == t.log.content())
	t.tablets.setOnScreen(t.visible && sel != nil && sel.Content == t.tablets.content())
}

// selectTab opens a tab by its name: "worklist", "results", "tablets",
// "groups", "connections", "log".
func (t *tabs) selectTab(name string) {
	order := []string{"worklist", "results", "tablets", "groups", "connections", "log", "settings"}
	for i, n := range order {
		if n == name && i < len(t.app.Items) {
			t.app.SelectIndex(i)
			return
		}
	}
}

// setVisible says whether the window is on screen.
func (t *tabs) setVisible(on bool) {
	t.visible = on
	t.selectionChanged()
}

// newTabs builds the tabs around the overview. Open on the overview when
// the person must read it first (no tray icon, no hub running).
func newTabs(env *tabEnv, dash *dashboard, overviewFirst bool, deps *SetupDeps, pair func()) *tabs {
	overview := dash.content()
	conns := newConnTests(env)
	dash.showTests(conns)
	t := &tabs{conns: conns, worklist: newWorklist(env), results: newResults(env), tablets: newTablets(env),
		groups: newGroups(env), log: newLogTab(env)}
	t.app = container.NewAppTabs(
		container.NewTabItemWithIcon(txtTabWorklist(), theme.ListIcon(), t.worklist.content()),
		container.NewTabItemWithIcon(txtTabResults(), theme.DocumentIcon(), t.results.content()),
		container.NewTabItemWithIcon(txtTabTablets(), theme.ComputerIcon(), t.tablets.content()),
		container.NewTabItemWithIcon(txtTabGroups(), theme.GridIcon(), t.groups.content()),
		container.NewTabItemWithIcon(txtTabConnections(), theme.InfoIcon(), overview),
		container.NewTabItemWithIcon(txtTabLog(), theme.DocumentIcon(), t.log.content()),
	)
	t.connIndex = 4
	if deps != nil {
		t.settings = newSettingsTab(env, deps, pair)
		t.app.Append(container.NewTabItemWithIcon(txtTabSettings(), theme.SettingsIcon(), t.settings.content()))
	}
	t.app.OnSelected = func(*container.TabItem) { t.selectionChanged() }
	if overviewFirst {
		t.app.SelectIndex(t.connIndex)
	}
	return t
}

func (t *tabs) content() fyne.CanvasObject { return t.app }

// release drops the data the tabs hold once their window is closed (the
// window object lingers until the next one is built); answers still on
// their way are dropped, and change events no longer reload them.
func (t *tabs) release() {
	w := t.worklist
	w.seq++
	w.follow.stop()
	w.orders, w.current = nil, nil
	t.groups.seq++
	t.groups.follow.stop()
	t.groups.items = nil
	t.results.seq++
	t.results.follow.stop()
	t.results.all, t.results.shown = nil, nil
	t.log.seq++
	t.log.lines = nil
	t.tablets.devices = nil
}

// start loads every tab and follows the hub's events until the returned
// cancel is called.
func (t *tabs) start() (cancel func()) {
	t.conns.load()
	stops := []func(){t.worklist.start(), t.results.start(), t.tablets.start(), t.groups.start(), t.log.start()}
	if t.settings != nil {
		stops = append(stops, t.settings.start())
	}
	t.selectionChanged()
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
