package desktop

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/hub"
	"github.com/mesi/mconnect/assets"
	"github.com/mesi/mconnect/ui/desktop/osnotify"
	"github.com/mesi/mconnect/ui/desktop/traybar"
	"github.com/mesi/mconnect/ui/desktop/view"
)

// The tray process.
//
// With a tray icon the hub runs in a light process: the hub, the icon and
// its menu (fyne.io/systray) and the notifications, but no window, no
// OpenGL and no event loop of Fyne's. The Dashboard is a second process of
// the same binary (`mconnect --dashboard-process`), started when a person
// opens it and ending when its window is closed: it reaches the hub
// through the control endpoint, as `mconnect status` does. A window that
// fails cannot stop the hub, and what the Dashboard held is given back
// whole when it closes.
//
// The two speak over the Dashboard process's stdin and stdout, one line a
// message. To the Dashboard: "show TAB", "pair", "export", "ask-quit".
// From it: "@quit" (the person confirmed Quit), "@language CODE" (the
// person chose another language; the Dashboard ends and is opened again on
// Settings). The Dashboard ends when its stdin closes: it never outlives
// the tray process.

// trayMemoryLimit is the tray process's soft memory limit (GOMEMLIMIT
// overrides it).
const trayMemoryLimit = 96 << 20

// trayProcess reports whether this platform runs the tray as a process of
// its own (macOS keeps one process: its tray needs Fyne's main thread).
// MCONNECT_ONE_PROCESS=1 keeps one process anywhere, for support.
func trayProcess() bool {
	if os.Getenv("MCONNECT_ONE_PROCESS") == "1" {
		return false
	}
	return runtime.GOOS == "linux" || runtime.GOOS == "windows"
}

// runTray runs the tray process until the person quits (or the session
// ends), then stops the hub.
func runTray(g *guiHub, runner *hub.Runner, opts StartOptions, log logrus.FieldLogger) error {
	if err := view.AddTranslations(); err != nil {
		log.WithError(err).Warn("ui: showing English texts")
	}
	if code := savedLanguage(); code != "" {
		if err := view.SetLanguage(code); err != nil {
			log.WithError(err).Warn("ui: language")
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("tray: %w", err)
	}
	startPprof(log)
	// The hub's heap stays small but serving the Dashboard a list of
	// thousands of appointments leaves tens of MB of garbage: a soft limit
	// has it collected and given back sooner.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(trayMemoryLimit)
	}
	notes := osnotify.New("mCONNECT Hub", AppID, assets.AppIcon().Content())
	defer notes.Close()

	var quitOnce sync.Once
	var tray *view.Tray
	child := &dashboardChild{exe: exe, args: []string{"--dashboard-process", "--config", opts.ConfigPath},
		stderr: opts.Stderr, log: log,
		// What was built for the window's answers goes back to the system.
		onClosed: debug.FreeOSMemory}
	quit := func() {
		quitOnce.Do(func() {
			log.Info("ui: quit")
			traybar.Quit()
		})
	}
	child.onQuit = quit
	child.onLanguage = func(code string) {
		if err := view.SetLanguage(code); err != nil {
			log.WithError(err).Warn("ui: language")
		}
		if tray != nil {
			tray.Relabel()
		}
	}
	tray = view.StartTray(g, view.TrayOptions{
		API: g.api, Log: log,
		SetMenu: func(m *fyne.Menu) { warn(log, traybar.SetMenu(m)) },
		SetIcon: func(r fyne.Resource) { warn(log, traybar.SetIcon(r)) },
		SetTooltip: func(s string) {
			warn(log, traybar.SetTooltip(s))
		},
		Notify: func(title, body string) {
			if err := notes.Send(title, body); err != nil {
				log.WithError(err).Warn("ui: notification not shown")
			}
		},
		Open:    func(tab string) { child.command("show "+tab, opening{tab: tab}) },
		Pair:    func() { child.command("pair", opening{tab: "tablets", pair: true}) },
		Export:  func() { child.command("export", opening{then: "export"}) },
		Quit:    func() { child.command("ask-quit", opening{then: "ask-quit"}) },
		OpenURL: func(u string) { warn(log, openBrowser(u)) },
	})
	// A second `mconnect` asks the hub to show the window; here that
	// means the Dashboard process.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if ch, err := g.api.Subscribe(ctx); err == nil {
		go func() {
			for ev := range ch {
				if ev.Kind == control.EventShow {
					child.command("show "+ev.Tab, opening{tab: ev.Tab})
				}
			}
		}()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		if _, ok := <-sig; ok {
			log.Info("ui: asked to stop")
			quit()
		}
	}()
	if opts.ShowDashboard {
		child.command("show "+opts.Tab, opening{tab: opts.Tab, pair: opts.Pair})
	}
	log.Info("ui: tray icon in its own process; the Dashboard opens as a process of its own")
	traybar.Run(traybar.Options{Title: "mCONNECT Hub", Icon: assets.TrayOK(),
		Tapped: func() { child.command("show", opening{}) }})
	tray.Stop()
	child.stop()
	runner.Stop()
	return nil
}

func warn(log logrus.FieldLogger, err error) {
	if err != nil {
		log.WithError(err).Warn("ui: tray")
	}
}

// openBrowser opens a web address in the person's browser.
func openBrowser(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("open %q: not a web address", raw)
	}
	var cmd *exec.Cmd
	if runtime.GOOS == "windows" {
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u.String())
	} else {
		cmd = exec.Command("xdg-open", u.String())
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("open the browser: %w", err)
	}
	go cmd.Wait()
	return nil
}

// dashboardChild starts and speaks to the Dashboard process.
type dashboardChild struct {
	exe    string
	args   []string
	stderr io.Writer
	log    logrus.FieldLogger
	// onQuit runs when the person confirmed Quit in the Dashboard;
	// onLanguage when they chose another language there; onClosed after
	// each Dashboard process ended.
	onQuit     func()
	onLanguage func(code string)
	onClosed   func()

	mu       sync.Mutex
	cmd      *exec.Cmd
	in       io.WriteCloser
	exited   chan struct{}
	reopen   string // the tab to open again once the running one ended
	stopping bool
}

// opening is how a Dashboard process starts: on tab (empty: the last
// one), with a pairing code, then given the command then.
type opening struct {
	tab  string
	pair bool
	then string
}

// command hands line to the running Dashboard, or starts one as o says.
func (c *dashboardChild) command(line string, o opening) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		return
	}
	if c.cmd != nil {
		if _, err := fmt.Fprintln(c.in, strings.TrimSpace(line)); err != nil {
			c.log.WithError(err).Warn("ui: the Dashboard process does not listen")
		}
		return
	}
	var args []string
	if o.tab != "" {
		args = append(args, "--tab", o.tab)
	}
	if o.pair {
		args = append(args, "--pair")
	}
	if err := c.start(args); err != nil {
		c.log.WithError(err).Error("ui: the Dashboard could not be opened")
		return
	}
	if o.then != "" {
		fmt.Fprintln(c.in, o.then)
	}
}

// start starts the Dashboard process; c.mu is held.
func (c *dashboardChild) start(extra []string) error {
	cmd := exec.Command(c.exe, append(append([]string(nil), c.args...), extra...)...)
	cmd.Env = dashboardEnv(os.Environ())
	cmd.Stderr = c.stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	c.log.WithField("pid", cmd.Process.Pid).Info("ui: Dashboard opened")
	c.cmd, c.in, c.exited = cmd, in, make(chan struct{})
	exited := c.exited
	quitAsked := make(chan bool, 1)
	go func() {
		asked := false
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			cmd, arg, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
			switch cmd {
			case "@quit":
				asked = true
			case "@language":
				c.mu.Lock()
				c.reopen = "settings"
				c.mu.Unlock()
				if c.onLanguage != nil {
					c.onLanguage(arg)
				}
			}
		}
		quitAsked <- asked
	}()
	go func() {
		asked := <-quitAsked
		err := cmd.Wait()
		c.mu.Lock()
		c.cmd, c.in = nil, nil
		reopen := c.reopen
		c.reopen = ""
		stopping := c.stopping
		close(exited)
		if err != nil && !stopping {
			c.log.WithError(err).Warn("ui: the Dashboard process ended with an error")
		} else {
			c.log.Info("ui: Dashboard closed")
		}
		if reopen != "" && !stopping && !asked {
			if err := c.start([]string{"--tab", reopen}); err != nil {
				c.log.WithError(err).Error("ui: the Dashboard could not be opened again")
			}
		}
		c.mu.Unlock()
		if c.onClosed != nil {
			c.onClosed()
		}
		if asked && c.onQuit != nil {
			c.onQuit()
		}
	}()
	return nil
}

// stop closes the Dashboard (its stdin closes; it ends) and waits for it,
// killing it after 5 s.
func (c *dashboardChild) stop() {
	c.mu.Lock()
	c.stopping = true
	cmd, in, exited := c.cmd, c.in, c.exited
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	in.Close()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		c.log.Warn("ui: the Dashboard process did not end; stopping it")
		_ = cmd.Process.Kill()
		<-exited
	}
}
