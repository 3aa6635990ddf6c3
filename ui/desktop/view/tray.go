package view

import (
	"slices"
	"strings"
	"sync"

	"fyne.io/fyne/v2"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/assets"
	"github.com/mesi/mconnect/ui/words"
)

// overall is the severity the tray icon shows: a hub that could not start
// is red, one without configuration amber, else the worst component's.
func overall(s summary, info Info) domain.Severity {
	switch {
	case info.Problem != "":
		return domain.SeverityError
	case info.FirstRun:
		return max(s.Worst, domain.SeverityWarning)
	default:
		return s.Worst
	}
}

// statusLine is the one-line state shown as the tray menu's first item and
// as the Dashboard's heading.
func statusLine(s summary, info Info) string {
	switch {
	case info.Problem != "":
		return txtNotStarted()
	case info.FirstRun:
		return txtNotConfigured()
	case s.Total == 0:
		return txtNoComponents()
	case s.Problems() == 0:
		return txtAllOK()
	default:
		return txtProblems(s.Problems())
	}
}

// statusIcon is the coloured icon for a severity: green, amber or red.
func statusIcon(sev domain.Severity) fyne.Resource {
	switch sev {
	case domain.SeverityOK:
		return assets.TrayOK()
	case domain.SeverityWarning:
		return assets.TrayWarning()
	default:
		return assets.TrayError()
	}
}

// maxTrayParts is how many component lines the tray menu shows (the
// worst first); the Dashboard has them all.
const maxTrayParts = 8

// trayActions are what the tray's items do.
type trayActions struct {
	open, pair, export, quit func()
	// openURL opens a web address (the update's download page).
	openURL func(string)
}

// trayCounts are the tablets and results the tray menu counts.
type trayCounts struct {
	online, tablets           int
	waiting, needPerson       int
	countsKnown, resultsKnown bool
	// updateVersion is a newer signed version (empty: none).
	updateVersion, updateURL string
}

// trayMenu is the model behind the tray: its menu (status line, a line per
// component in words, tablets online, results waiting or needing a
// person, then Open Dashboard, Pair a tablet…, Export diagnostics…, Quit)
// and the severity its icon shows. It knows nothing of the Fyne app; the
// Shell hands its menu and icon to the desktop driver.
type trayMenu struct {
	info Info
	act  trayActions

	mu      sync.Mutex
	menu    *fyne.Menu
	status  *fyne.MenuItem
	fixed   []*fyne.MenuItem // from the separator before Open Dashboard to Quit
	parts   []string
	counts  trayCounts
	sev     domain.Severity
	tooltip string
}

// newTrayMenu builds the menu.
func newTrayMenu(info Info, act trayActions) *trayMenu {
	status := fyne.NewMenuItem("", nil)
	status.Disabled = true // a label, not an action
	quitItem := fyne.NewMenuItem(txtTrayQuit(), act.quit)
	quitItem.IsQuit = true // keeps the driver from adding a second Quit
	fixed := []*fyne.MenuItem{
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem(txtTrayOpen(), act.open),
	}
	if act.pair != nil {
		fixed = append(fixed, fyne.NewMenuItem(txtTrayPair(), act.pair))
	}
	if act.export != nil {
		fixed = append(fixed, fyne.NewMenuItem(txtTrayExport(), act.export))
	}
	fixed = append(fixed, fyne.NewMenuItemSeparator(), quitItem)
	t := &trayMenu{info: info, act: act, status: status, fixed: fixed,
		menu: fyne.NewMenu(txtWindowTitle())}
	t.update(nil)
	return t
}

// update applies a new health snapshot. It reports whether the menu's
// text or the icon changed, so that the caller refreshes the tray only then.
func (t *trayMenu) update(hs []domain.Health) (labelChanged, iconChanged bool) {
	s := summarize(hs)
	label, sev := statusLine(s, t.info), overall(s, t.info)
	var parts []string
	for _, h := range sortedHealth(hs) {
		if len(parts) == maxTrayParts {
			break
		}
		title, _ := words.Health(h, langLookup)
		parts = append(parts, severityMark(h.Severity)+" "+title)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	labelChanged = label != t.status.Label || !slices.Equal(parts, t.parts)
	iconChanged = sev != t.sev
	t.status.Label, t.sev, t.parts = label, sev, parts
	if labelChanged {
		t.rebuild()
	}
	return labelChanged, iconChanged
}

// setCounts shows how many tablets are online and results are waiting;
// it reports whether the menu changed.
func (t *trayMenu) setCounts(c trayCounts) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c == t.counts {
		return false
	}
	t.counts = c
	t.rebuild()
	return true
}

// rebuild lays the menu out again; t.mu is held.
func (t *trayMenu) rebuild() {
	items := []*fyne.MenuItem{t.status}
	if len(t.parts) > 0 || t.counts.countsKnown || t.counts.resultsKnown {
		items = append(items, fyne.NewMenuItemSeparator())
	}
	for _, p := range t.parts {
		it := fyne.NewMenuItem(p, nil)
		it.Disabled = true
		items = append(items, it)
	}
	if t.counts.countsKnown {
		it := fyne.NewMenuItem(txtTrayTablets(t.counts.online, t.counts.tablets), nil)
		it.Disabled = true
		items = append(items, it)
	}
	if t.counts.resultsKnown {
		it := fyne.NewMenuItem(txtTrayResults(t.counts.waiting, t.counts.needPerson), nil)
		it.Disabled = true
		items = append(items, it)
	}
	if t.counts.updateVersion != "" && t.act.openURL != nil {
		u := t.counts.updateURL
		items = append(items, fyne.NewMenuItemSeparator(),
			fyne.NewMenuItem(txtTrayUpdate(t.counts.updateVersion), func() { t.act.openURL(u) }))
	}
	t.menu.Items = append(items, t.fixed...)
	t.tooltip = txtWindowTitle() + ": " + t.status.Label
}

func severityMark(s domain.Severity) string {
	switch s {
	case domain.SeverityOK:
		return "✓"
	case domain.SeverityWarning:
		return "!"
	default:
		return "✗"
	}
}

// icon is the tray icon for the current state.
func (t *trayMenu) icon() fyne.Resource {
	t.mu.Lock()
	defer t.mu.Unlock()
	return statusIcon(t.sev)
}

// tip is the tray icon's tooltip: the app and its state.
func (t *trayMenu) tip() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tooltip
}

// labels lists the menu's item labels, "-" for a separator; for tests and
// logs.
func (t *trayMenu) labels() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.menu.Items))
	for _, it := range t.menu.Items {
		if it.IsSeparator {
			out = append(out, "-")
			continue
		}
		out = append(out, it.Label)
	}
	return out
}

// item finds a menu item by its label.
func (t *trayMenu) item(label string) *fyne.MenuItem {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, it := range t.menu.Items {
		if strings.EqualFold(it.Label, label) {
			return it
		}
	}
	return nil
}
