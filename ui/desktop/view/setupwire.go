package view

import (
	"fyne.io/fyne/v2"

	"github.com/mesi/mconnect/ui/desktop/setup"
)

// SetupDeps is what the Settings tab and the setup wizard need from the
// desktop beyond the control API.
type SetupDeps struct {
	ConfigPath, DataDir string
	// Language is the language chosen before ("" : as the system).
	Language string
	Secrets  interface {
		Set(name, value string) error
		Check() error
	}
	Autostart interface {
		Enabled() (bool, error)
		SetEnabled(on bool) error
	}
	// SetLanguage switches the GUI's language from Settings (the desktop
	// starts the window again in it); ApplyLanguage switches it for what
	// is built from now on (the wizard, whose later pages are not built yet).
	SetLanguage, ApplyLanguage func(code string)
	// Configured is called once the first-start wizard saved the
	// configuration: the desktop starts the hub and opens the Dashboard
	// on the Tablets tab with a pairing code.
	Configured func()
}

// setupEnv is the setup screens' environment on this window.
func setupEnv(env *tabEnv, d *SetupDeps, pair func()) setup.Env {
	e := setup.Env{API: env.api, Window: env.win, ConfigPath: d.ConfigPath, DataDir: d.DataDir, Language: d.Language,
		SetLanguage: d.SetLanguage, PairFirstTablet: pair, Spawn: env.spawn, Do: env.do}
	if d.Secrets != nil {
		e.Secrets = d.Secrets
	}
	if d.Autostart != nil {
		e.Autostart = d.Autostart
	}
	return e
}

// settingsTab wraps the setup package's Settings for the tabs.
type settingsTab struct {
	s *setup.Settings
}

func newSettingsTab(env *tabEnv, d *SetupDeps, pair func()) *settingsTab {
	return &settingsTab{s: setup.NewSettings(setupEnv(env, d, pair))}
}

func (t *settingsTab) content() fyne.CanvasObject { return t.s.Content() }

func (t *settingsTab) start() (cancel func()) {
	t.s.Load()
	return func() {}
}

// openWizard shows the first-start wizard in the window: cancelled, the
// Dashboard comes back; saved, the desktop takes over (Configured).
func (s *Shell) openWizard() {
	if s.setup == nil {
		return
	}
	env := setupEnv(s.env, s.setup, nil)
	env.SetLanguage = s.setup.ApplyLanguage
	w := setup.NewWizard(env, func(saved bool) {
		if !saved {
			s.win.SetContent(s.tabs.content())
			return
		}
		if s.setup.Configured != nil {
			s.setup.Configured()
		}
	})
	s.win.SetContent(w.Content())
	s.ShowDashboard()
}
