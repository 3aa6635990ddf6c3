package desktop

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// TestMain makes the test binary a stand-in Dashboard process when
// MCONNECT_TEST_DASHBOARD names a log file: it writes its arguments and
// every line from the tray process there, and answers "ask-quit" with
// "@quit", "lang CODE" with "@language CODE" (ending, as the real one
// does), "exit" by ending.
func TestMain(m *testing.M) {
	if path := os.Getenv("MCONNECT_TEST_DASHBOARD"); path != "" {
		os.Exit(fakeDashboard(path))
	}
	os.Exit(m.Run())
}

func fakeDashboard(path string) int {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return 3
	}
	defer f.Close()
	fmt.Fprintf(f, "start %s\n", strings.Join(os.Args[1:], " "))
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintf(f, "got %s\n", line)
		switch {
		case line == "ask-quit":
			fmt.Println("@quit")
			return 0
		case strings.HasPrefix(line, "lang "):
			fmt.Println("noise a Dashboard might print")
			fmt.Println("@language " + strings.TrimPrefix(line, "lang "))
			return 0
		case line == "exit":
			return 0
		}
	}
	fmt.Fprintln(f, "eof")
	return 0
}

// dashLog reads what the stand-in Dashboards wrote.
type dashLog struct{ path string }

func (d dashLog) lines() []string {
	b, _ := os.ReadFile(d.path)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// wait waits until the log has want as its lines.
func (d dashLog) wait(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if slices.Equal(d.lines(), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("Dashboard log:\n%s\nwant:\n%s", strings.Join(d.lines(), "\n"), strings.Join(want, "\n"))
}

func newTestChild(t *testing.T) (*dashboardChild, dashLog) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	log := dashLog{filepath.Join(t.TempDir(), "dashboard.log")}
	t.Setenv("MCONNECT_TEST_DASHBOARD", log.path)
	c := &dashboardChild{exe: exe, args: []string{"--dashboard-process", "--config", "/c.json"},
		stderr: os.Stderr, log: logrus.New()}
	t.Cleanup(c.stop)
	return c, log
}

// waitExit waits until no Dashboard process runs.
func (c *dashboardChild) waitExit(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	exited := c.exited
	c.mu.Unlock()
	if exited == nil {
		t.Fatal("no Dashboard was started")
	}
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the Dashboard process did not end")
	}
}

func TestDashboardChildStartsOnceAndTakesCommands(t *testing.T) {
	c, log := newTestChild(t)
	c.command("show results", opening{tab: "results"})
	c.command("pair", opening{tab: "tablets", pair: true})
	c.command("show ", opening{})
	log.wait(t, "start --dashboard-process --config /c.json --tab results", "got pair", "got show")

	// Closed by the person: what it held is handed back, and the next
	// Open starts a new one, as asked.
	closed := make(chan struct{}, 4)
	c.mu.Lock()
	c.onClosed = func() { closed <- struct{}{} }
	c.mu.Unlock()
	c.command("exit", opening{})
	c.waitExit(t)
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("onClosed was not called after the Dashboard ended")
	}
	c.command("pair", opening{tab: "tablets", pair: true})
	c.command("export", opening{then: "export"})
	log.wait(t, "start --dashboard-process --config /c.json --tab results", "got pair", "got show", "got exit",
		"start --dashboard-process --config /c.json --tab tablets --pair", "got export")

	// Stop closes its stdin: it ends, and is not started again.
	c.stop()
	log.wait(t, "start --dashboard-process --config /c.json --tab results", "got pair", "got show", "got exit",
		"start --dashboard-process --config /c.json --tab tablets --pair", "got export", "eof")
	c.command("show", opening{})
	c.mu.Lock()
	running := c.cmd != nil
	c.mu.Unlock()
	if running {
		t.Error("a Dashboard was started after stop")
	}
}

func TestDashboardChildQuitAndLanguage(t *testing.T) {
	c, log := newTestChild(t)
	var mu sync.Mutex
	var langs []string
	quit := make(chan struct{}, 1)
	c.onLanguage = func(code string) { mu.Lock(); langs = append(langs, code); mu.Unlock() }
	c.onQuit = func() { quit <- struct{}{} }

	// Quit from the tray with no Dashboard open: one is started to ask.
	c.command("ask-quit", opening{then: "ask-quit"})
	select {
	case <-quit:
	case <-time.After(20 * time.Second):
		t.Fatal("the confirmed Quit did not reach the tray process")
	}
	log.wait(t, "start --dashboard-process --config /c.json", "got ask-quit")
	c.waitExit(t)

	// Another language: the tray is told, and the Dashboard opens again
	// on Settings.
	c.command("show", opening{})
	c.command("lang de", opening{})
	log.wait(t, "start --dashboard-process --config /c.json", "got ask-quit",
		"start --dashboard-process --config /c.json", "got lang de",
		"start --dashboard-process --config /c.json --tab settings")
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(langs, []string{"de"}) {
		t.Errorf("languages told = %q, want [de]", langs)
	}
	select {
	case <-quit:
		t.Error("a language change quit the tray")
	default:
	}
}

func TestLanguageInPreferences(t *testing.T) {
	tests := []struct {
		prefs, want string
	}{
		{`{"language":"de","dashboard.tab":2}`, "de"},
		{`{"dashboard.tab":2}`, ""},
		{`{"language":7}`, ""},
		{`not json`, ""},
		{``, ""},
	}
	for _, tc := range tests {
		if got := languageIn([]byte(tc.prefs)); got != tc.want {
			t.Errorf("languageIn(%s) = %q, want %q", tc.prefs, got, tc.want)
		}
	}
}
