package desktop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/ui/desktop/view"
)

// runDashboardProcess is the Dashboard process of the tray process (see
// runTray): the window only, attached to the hub that runs in the tray
// process, until its window is closed or its stdin ends.
func runDashboardProcess(g *guiHub, opts StartOptions) error {
	log := logrus.StandardLogger()
	c, err := control.Dial(g.info.DataDir)
	if err != nil {
		return fmt.Errorf("the hub in the tray cannot be reached: %w", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = g.attach(ctx, c)
	cancel()
	if err != nil {
		return fmt.Errorf("the hub in the tray does not answer: %w", err)
	}
	g.info.Attached = true
	link := &parentLink{in: os.Stdin, out: os.Stdout}
	deps := setupDeps(opts.ConfigPath, g.info.DataDir, log)
	deps.SetLanguage = func(code string) {
		// The texts on screen are built once: the tray process relabels
		// its menu and opens the Dashboard again, in the new language.
		rememberLanguage(code)
		log.WithField("language", code).Info("ui: language changed; opening the Dashboard again")
		time.Sleep(300 * time.Millisecond) // Fyne writes preferences in the background, debounced by 100 ms
		link.send("@language " + code)
		if a := fyne.CurrentApp(); a != nil {
			fyne.Do(a.Quit)
		}
	}
	err = Run(g, Options{ShowDashboard: true, Tab: opts.Tab, Pair: opts.Pair, Setup: deps, Log: log, API: g.api,
		parent: link})
	if err != nil {
		return fmt.Errorf("GUI: %w", err)
	}
	return nil
}

// parentLink is the Dashboard process's line to the tray process.
type parentLink struct {
	in  io.Reader
	out io.Writer
	mu  sync.Mutex
}

func (p *parentLink) send(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.out, line)
}

// serve carries out the tray process's commands on sh until its stdin
// ends (the tray process stops), then closes the Dashboard, keeping its
// size and tab for the next time. Call it on its own goroutine.
func (p *parentLink) serve(sh *view.Shell) {
	sc := bufio.NewScanner(p.in)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		fyne.Do(func() {
			switch cmd {
			case "show":
				sh.ShowTab(arg)
			case "pair":
				sh.Pair()
			case "export":
				sh.ExportDiagnostics()
			case "ask-quit":
				sh.ConfirmQuit(func() {
					p.send("@quit")
					sh.Close()
				})
			}
		})
	}
	fyne.Do(sh.Close)
}

// savedLanguage is the language chosen in the wizard or Settings, read
// from the Dashboard's preferences without a Fyne app ("": as the system).
func savedLanguage() string {
	b, err := os.ReadFile(preferencesPath())
	if err != nil {
		return ""
	}
	return languageIn(b)
}

// languageIn reads the language from Fyne's preferences file.
func languageIn(prefs []byte) string {
	var p map[string]any
	if json.Unmarshal(prefs, &p) != nil {
		return ""
	}
	code, _ := p[prefLanguage].(string)
	return code
}

// preferencesPath is where Fyne keeps the app's preferences.
func preferencesPath() string {
	var root string
	switch runtime.GOOS {
	case "windows":
		home, _ := os.UserHomeDir()
		root = filepath.Join(home, "AppData", "Roaming", "fyne")
	case "darwin":
		home, _ := os.UserHomeDir()
		root = filepath.Join(home, "Library", "Preferences", "fyne")
	default:
		dir, _ := os.UserConfigDir()
		root = filepath.Join(dir, "fyne")
	}
	return filepath.Join(root, AppID, "preferences.json")
}
