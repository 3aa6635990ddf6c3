// Package traybar shows the hub's tray icon and its menu through
// fyne.io/systray, without Fyne's app or driver: the tray process, whose
// Dashboard runs as a process of its own, loads no OpenGL and runs no
// event loop of Fyne's. The menu is a *fyne.Menu, the model package view
// builds for both kinds of tray.
package traybar

import (
	"fmt"
	"runtime"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/systray"
)

// Options are the tray icon's fixed parts.
type Options struct {
	// Title names the icon for the desktop (some Linux tray hosts fail
	// without one).
	Title string
	// Icon is the first icon, shown until SetIcon.
	Icon fyne.Resource
	// Tapped is what a click on the icon itself does (not on its menu);
	// nil: the desktop's default, usually the menu.
	Tapped func()
	// Ready is called on its own goroutine once the icon can take a menu.
	Ready func()
}

var (
	mu      sync.Mutex
	menu    *fyne.Menu
	icon    []byte // the newest icon, in the OS's format
	tooltip *string
	ready   bool
	onMenu  func(*fyne.Menu) // for tests: called after each menu is shown
)

// Run shows the tray icon and blocks until Quit. Call it once, from the
// main goroutine (the Windows tray needs its thread).
func Run(opts Options) {
	systray.Run(func() {
		if runtime.GOOS != "windows" && runtime.GOOS != "darwin" && opts.Title != "" {
			systray.SetTitle(opts.Title)
		}
		if opts.Tapped != nil {
			systray.SetOnTapped(opts.Tapped)
		}
		mu.Lock()
		ready = true
		m, img, tip := menu, icon, tooltip
		mu.Unlock()
		// What was set before the icon was ready (the Windows tray
		// drops it then), else the first icon.
		switch {
		case img != nil:
			_ = guard("icon", func() { systray.SetIcon(img) })
		case opts.Icon != nil:
			_ = SetIcon(opts.Icon)
		}
		if tip != nil {
			_ = guard("tooltip", func() { systray.SetTooltip(*tip) })
		}
		if m != nil {
			_ = SetMenu(m)
		}
		if opts.Ready != nil {
			opts.Ready()
		}
	}, nil)
}

// Quit takes the icon away; Run returns.
func Quit() { systray.Quit() }

// SetTooltip sets the icon's tooltip (kept until the icon is ready).
func SetTooltip(s string) error {
	mu.Lock()
	tooltip = &s
	r := ready
	mu.Unlock()
	if !r {
		return nil
	}
	return guard("tooltip", func() { systray.SetTooltip(s) })
}

// SetIcon shows r (a PNG) as the tray icon (kept until the icon is
// ready).
func SetIcon(r fyne.Resource) error {
	img, err := osIcon(r.Content())
	if err != nil {
		return fmt.Errorf("traybar: icon %s: %w", r.Name(), err)
	}
	mu.Lock()
	icon = img
	rd := ready
	mu.Unlock()
	if !rd {
		return nil
	}
	return guard("icon", func() { systray.SetIcon(img) })
}

// guard runs a call into fyne.io/systray, which panics when its D-Bus
// connection is gone (the session bus stopped): the tray process also
// runs the hub, which must not stop for its icon.
func guard(what string, f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("traybar: %s: %v", what, r)
		}
	}()
	f()
	return nil
}

// SetMenu shows m as the icon's menu, replacing what was there; call it
// again after m's items changed. Before the icon is ready, m is kept and
// shown when it is. Each item's Action runs on a goroutine of its own
// item's clicks.
func SetMenu(m *fyne.Menu) error {
	mu.Lock()
	defer mu.Unlock()
	menu = m
	if !ready {
		return nil
	}
	err := guard("menu", func() {
		systray.ResetMenu()
		addItems(m, nil)
	})
	if onMenu != nil {
		onMenu(m)
	}
	return err
}

func addItems(m *fyne.Menu, parent *systray.MenuItem) {
	for _, it := range m.Items {
		if it.IsSeparator {
			if parent != nil {
				parent.AddSeparator()
			} else {
				systray.AddSeparator()
			}
			continue
		}
		var item *systray.MenuItem
		switch {
		case parent != nil && it.Checked:
			item = parent.AddSubMenuItemCheckbox(it.Label, "", true)
		case parent != nil:
			item = parent.AddSubMenuItem(it.Label, "")
		case it.Checked:
			item = systray.AddMenuItemCheckbox(it.Label, "", true)
		default:
			item = systray.AddMenuItem(it.Label, "")
		}
		if it.Disabled {
			item.Disable()
		}
		if it.ChildMenu != nil {
			addItems(it.ChildMenu, item)
		}
		go func(ch <-chan struct{}, action func()) {
			// ResetMenu closes the channel of the items it removes.
			for range ch {
				if action != nil {
					action()
				}
			}
		}(item.ClickedCh, it.Action)
	}
}
