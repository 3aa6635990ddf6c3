package view

import (
	"sync"

	"fyne.io/fyne/v2"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/assets"
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

// trayMenu is the model behind the tray: its menu (status line, Open
// Dashboard, Quit) and the severity its icon shows. It knows nothing of
// the Fyne app; Run hands its menu and icon to the desktop driver.
type trayMenu struct {
	info Info

	mu     sync.Mutex
	menu   *fyne.Menu
	status *fyne.MenuItem
	sev    domain.Severity
}

// newTrayMenu builds the menu; open shows the Dashboard, quit stops the GUI.
func newTrayMenu(info Info, open, quit func()) *trayMenu {
	status := fyne.NewMenuItem("", nil)
	status.Disabled = true // a label, not an action
	openItem := fyne.NewMenuItem(txtTrayOpen(), open)
	quitItem := fyne.NewMenuItem(txtTrayQuit(), quit)
	quitItem.IsQuit = true // keeps the driver from adding a second Quit
	t := &trayMenu{
		info:   info,
		status: status,
		menu: fyne.NewMenu(txtWindowTitle(),
			status,
			fyne.NewMenuItemSeparator(),
			openItem,
			fyne.NewMenuItemSeparator(),
			quitItem,
		),
	}
	t.update(nil)
	return t
}

// update applies a new health snapshot. It reports whether the status line
// or the icon changed, so that the caller refreshes the tray only then.
func (t *trayMenu) update(hs []domain.Health) (labelChanged, iconChanged bool) {
	s := summarize(hs)
	label, sev := statusLine(s, t.info), overall(s, t.info)
	t.mu.Lock()
	defer t.mu.Unlock()
	labelChanged, iconChanged = label != t.status.Label, sev != t.sev
	t.status.Label, t.sev = label, sev
	return labelChanged, iconChanged
}

// icon is the tray icon for the current state.
func (t *trayMenu) icon() fyne.Resource {
	t.mu.Lock()
	defer t.mu.Unlock()
	return statusIcon(t.sev)
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
