package cli

import (
	"io"
	"path/filepath"
)

// cmdGUI starts the desktop application: the tray icon and the Dashboard.
func cmdGUI(args []string, stderr io.Writer, opts Options) error {
	fs := newFlags("mconnect")
	dashboard := fs.Bool("dashboard", false, "open the Dashboard at start")
	path := configFlag(fs)
	pair := fs.Bool("pair", false, "show a pairing code for a new tablet at start (Tablets tab)")
	tab := fs.String("tab", "", "open the Dashboard on this tab: worklist, results, tablets, groups, connections, log, settings")
	child := fs.Bool("dashboard-process", false, "the Dashboard window of the tray process (mconnect starts it itself)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if opts.GUI == nil {
		return usageErr("this build of mconnect has no desktop application; use mconnect serve")
	}
	p, err := configPath(*path)
	if err != nil {
		return usageErr("%v", err)
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	switch *tab {
	case "", "worklist", "results", "tablets", "groups", "connections", "log", "settings":
	default:
		return usageErr("--tab %q: not a tab (worklist, results, tablets, groups, connections, log, settings)", *tab)
	}
	return opts.GUI(GUIOptions{ConfigPath: p, ShowDashboard: *dashboard || *tab != "" || *pair || *child, Tab: *tab, Pair: *pair,
		DashboardProcess: *child, Stderr: stderr})
}
