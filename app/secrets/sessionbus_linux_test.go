package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mesi/mconnect/internal/testfs"
)

// The tests in this file run the OS keyring code in child processes: the test
// binary re-executes itself with childEnv set and acts as a hub CLI call that
// touches the keyring (see TestMain). Every child carries a marker variable
// that is inherited by whatever it starts (dbus-launch, the dbus-daemon it
// forks, a gnome-keyring-daemon that bus activates), so the processes a child
// left behind are found in /proc by their environment, whoever their parent
// is now, and processes of other sessions on the machine are never mistaken
// for them.
const (
	childEnv  = "MCONNECT_SECRETS_TEST_CHILD"
	markerEnv = "MCONNECT_SECRETS_TEST_MARK"
	// runUserEnv is where the child looks instead of /run/user/UID, so a
	// developer machine's own session bus does not count as "a bus exists".
	runUserEnv = "MCONNECT_SECRETS_TEST_RUN_USER"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(keyringChild())
	}
	os.Exit(m.Run())
}

// keyringChild does what `mconnect secret check` and a config's
// "keyring:NAME" reference do, and prints one line per call:
// "nokeyring <error>" or "other <error>" or "ok".
func keyringChild() int {
	if d := os.Getenv(runUserEnv); d != "" {
		runUserDir = func() string { return d }
	}
	s := New()
	report := func(err error) {
		switch {
		case err == nil:
			fmt.Println("ok")
		case errors.Is(err, ErrNoKeyring):
			fmt.Println("nokeyring", strings.ReplaceAll(err.Error(), "\n", " "))
		default:
			fmt.Println("other", strings.ReplaceAll(err.Error(), "\n", " "))
		}
	}
	report(s.Check())
	_, err := s.Resolve("keyring:weda-api-token")
	report(err)
	return 0
}

type childRun struct {
	lines   []string
	elapsed time.Duration
}

// runChild runs one keyring call in a clean environment: no D-Bus session
// address, no DISPLAY, HOME and XDG_RUNTIME_DIR in fresh folders, and a PATH
// whose first entry holds a dbus-launch that notes it was started (then
// hands over to the real one when installed, as godbus would reach it).
func runChild(t *testing.T, env childEnvironment) (childRun, error) {
	t.Helper()
	// A call that autolaunched a bus can wait for it without end; stop it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = []string{
		childEnv + "=1",
		markerEnv + "=" + env.marker,
		runUserEnv + "=" + env.runUser,
		"PATH=" + env.fakeBin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + env.home,
		"XDG_RUNTIME_DIR=" + env.runtimeDir,
		"LANG=C.UTF-8",
		// A -race child would otherwise wait a second before it exits.
		"GORACE=atexit_sleep_ms=0",
	}
	// Output goes to a file, not a pipe: a daemon the child left behind
	// inherits the descriptor and would hold a pipe open.
	outFile, err := os.CreateTemp(env.home, "child-output")
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	cmd.Stdout, cmd.Stderr = outFile, outFile
	start := time.Now()
	runErr := cmd.Run()
	elapsed := time.Since(start)
	out, err := os.ReadFile(outFile.Name())
	if err != nil {
		t.Fatal(err)
	}
	if runErr != nil {
		return childRun{}, fmt.Errorf("child after %v: %v\n%s", elapsed.Round(time.Millisecond), runErr, out)
	}
	return childRun{lines: strings.Split(strings.TrimSpace(string(out)), "\n"), elapsed: elapsed}, nil
}

type childEnvironment struct {
	marker, fakeBin, home, runtimeDir, runUser, launchLog string
}

func newChildEnvironment(t *testing.T) childEnvironment {
	t.Helper()
	base := testfs.TempDir(t)
	e := childEnvironment{
		marker:     fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()),
		fakeBin:    filepath.Join(base, "bin"),
		home:       filepath.Join(base, "home"),
		runtimeDir: filepath.Join(base, "run"),
		runUser:    filepath.Join(base, "run-user"),
		launchLog:  filepath.Join(base, "dbus-launch.log"),
	}
	for _, d := range []string{e.fakeBin, e.home, e.runtimeDir, e.runUser} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	real, _ := exec.LookPath("dbus-launch")
	script := "#!/bin/sh\necho started >>'" + e.launchLog + "'\n"
	if real != "" {
		script += "exec '" + real + "' \"$@\"\n"
	} else {
		script += "exit 1\n"
	}
	if err := os.WriteFile(filepath.Join(e.fakeBin, "dbus-launch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// Whatever a child leaves behind is killed at the end, so a failing run
	// does not leak either.
	t.Cleanup(func() {
		for _, p := range markedProcesses(t, e.marker) {
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
	})
	return e
}

type proc struct {
	pid     int
	cmdline string
}

// markedProcesses lists the processes whose environment holds the marker.
func markedProcesses(t *testing.T, marker string) []proc {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("process table: %v", err)
	}
	want := []byte(markerEnv + "=" + marker + "\x00")
	var found []proc
	for _, de := range entries {
		pid, err := strconv.Atoi(de.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		environ, err := os.ReadFile(filepath.Join("/proc", de.Name(), "environ"))
		if err != nil || !bytes.Contains(append([]byte{0}, environ...), append([]byte{0}, want...)) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", de.Name(), "cmdline"))
		found = append(found, proc{pid, strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))})
	}
	return found
}

// assertNothingLeft fails when a process the children started is still
// there. A process needs a moment to go after its parent exits; one that is
// still there after two seconds was left behind.
func assertNothingLeft(t *testing.T, e childEnvironment) {
	t.Helper()
	var left []proc
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		left = markedProcesses(t, e.marker)
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, p := range left {
		t.Errorf("process %d left running: %s", p.pid, p.cmdline)
	}
	if b, err := os.ReadFile(e.launchLog); err == nil {
		t.Errorf("dbus-launch was started %d times (a session bus was autolaunched)", bytes.Count(b, []byte("started")))
	}
}

// TestNoSessionBusStartsNothing is a headless server: no
// DBUS_SESSION_BUS_ADDRESS and no bus socket. Twenty keyring calls in a row
// each answer "no OS keyring" with the hint to use env: references, start no
// dbus-launch, and leave no dbus-daemon or gnome-keyring-daemon behind.
func TestNoSessionBusStartsNothing(t *testing.T) {
	e := newChildEnvironment(t)
	var slowest time.Duration
	var firstLine string
	wrong := 0
	for i := 0; i < 20; i++ {
		r, err := runChild(t, e)
		if err != nil {
			t.Errorf("call %d: %v", i, err)
			break
		}
		slowest = max(slowest, r.elapsed)
		firstLine = r.lines[0]
		if len(r.lines) != 2 {
			t.Fatalf("call %d: output %q", i, r.lines)
		}
		for _, l := range r.lines {
			if !strings.HasPrefix(l, "nokeyring ") || !strings.Contains(l, "env:VAR") || !strings.Contains(l, "no D-Bus session bus") {
				if wrong++; wrong == 1 {
					t.Errorf("call %d: %s", i, l)
				}
			}
		}
	}
	t.Logf("slowest of 20 calls (process start included): %v; %s", slowest, firstLine)
	assertNothingLeft(t, e)
}

// TestStaleBusSocket: a socket file is left at $XDG_RUNTIME_DIR/bus but no
// bus listens on it. The call says "no OS keyring" and starts nothing.
func TestStaleBusSocket(t *testing.T) {
	e := newChildEnvironment(t)
	sock := filepath.Join(e.runtimeDir, "bus")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	r, err := runChild(t, e)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", r.lines[0])
	for _, l := range r.lines {
		if !strings.HasPrefix(l, "nokeyring ") || !strings.Contains(l, "env:VAR") {
			t.Fatalf("stale socket: %s", l)
		}
	}
	assertNothingLeft(t, e)
}

// TestBusAtXDGRuntimeDir: a session bus listens at $XDG_RUNTIME_DIR/bus (a
// desktop session whose runtime folder is not /run/user/UID) while
// DBUS_SESSION_BUS_ADDRESS is unset. The keyring code talks to that bus: the
// bus has no Secret Service, so the answer is the bus's own "not provided"
// error, not "no D-Bus session bus". The bus is the test's own dbus-daemon,
// so nothing is D-Bus activated on it.
func TestBusAtXDGRuntimeDir(t *testing.T) {
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("needs dbus-daemon (Debian package dbus-daemon) to run a session bus")
	}
	e := newChildEnvironment(t)
	sock := filepath.Join(e.runtimeDir, "bus")
	conf := filepath.Join(e.home, "session.conf")
	if err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+sock+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600); err != nil {
		t.Fatal(err)
	}
	bus := exec.Command(daemon, "--config-file="+conf, "--nofork", "--print-address")
	bus.Env = []string{markerEnv + "=" + e.marker, "HOME=" + e.home, "PATH=" + os.Getenv("PATH")}
	out, err := bus.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bus.Process.Kill(); _ = bus.Wait() })
	// The daemon prints its address once it listens.
	if _, err := out.Read(make([]byte, 256)); err != nil {
		t.Fatalf("dbus-daemon did not start: %v", err)
	}
	r, err := runChild(t, e)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", r.lines[0])
	for _, l := range r.lines {
		if strings.Contains(l, "no D-Bus session bus") || !strings.Contains(l, "org.freedesktop.secrets") {
			t.Fatalf("with a bus at %s: %s", sock, l)
		}
	}
	_ = bus.Process.Kill()
	_ = bus.Wait()
	assertNothingLeft(t, e)
}

// TestEnsureSessionBus decides, in this process, whether go-keyring may be
// called and what address godbus will then read.
func TestEnsureSessionBus(t *testing.T) {
	listen := func(t *testing.T, path string) {
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
	}
	tests := []struct {
		name     string
		address  string // DBUS_SESSION_BUS_ADDRESS before
		setup    func(t *testing.T, xdg, runUser string)
		wantErr  bool
		wantAddr string // DBUS_SESSION_BUS_ADDRESS after; "XDG" or "RUNUSER" for the socket there
	}{
		{name: "address set is used as it is", address: "unix:path=/nonexistent/bus", wantAddr: "unix:path=/nonexistent/bus"},
		{name: "nothing there", wantErr: true},
		{name: "disabled: set by the GUI", address: "disabled:", setup: func(t *testing.T, xdg, _ string) { listen(t, filepath.Join(xdg, "bus")) }, wantErr: true, wantAddr: "disabled:"},
		{name: "autolaunch: with no socket", address: "autolaunch:", wantErr: true, wantAddr: "autolaunch:"},
		{name: "socket in XDG_RUNTIME_DIR", setup: func(t *testing.T, xdg, _ string) { listen(t, filepath.Join(xdg, "bus")) }, wantAddr: "XDG"},
		{name: "socket in /run/user/UID", setup: func(t *testing.T, _, ru string) { listen(t, filepath.Join(ru, "bus")) }, wantAddr: "RUNUSER"},
		{name: "autolaunch: replaced by the socket found", address: "autolaunch:", setup: func(t *testing.T, xdg, _ string) { listen(t, filepath.Join(xdg, "bus")) }, wantAddr: "XDG"},
		{name: "a plain file is no bus", setup: func(t *testing.T, xdg, _ string) {
			if err := os.WriteFile(filepath.Join(xdg, "bus"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Short folder names: a socket path must fit in 108 bytes.
			base, err := os.MkdirTemp("", "sb")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(base) })
			xdg, ru := filepath.Join(base, "x"), filepath.Join(base, "r")
			for _, d := range []string{xdg, ru} {
				if err := os.Mkdir(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			old := runUserDir
			runUserDir = func() string { return ru }
			t.Cleanup(func() { runUserDir = old })
			t.Setenv("XDG_RUNTIME_DIR", xdg)
			t.Setenv("DBUS_SESSION_BUS_ADDRESS", tc.address)
			if tc.setup != nil {
				tc.setup(t, xdg, ru)
			}
			err = ensureSessionBus()
			if tc.wantErr != (err != nil) || (err != nil && !errors.Is(err, errNoSessionBus)) {
				t.Fatalf("ensureSessionBus() = %v, want error %v", err, tc.wantErr)
			}
			want := strings.NewReplacer("XDG", "unix:path="+filepath.Join(xdg, "bus"), "RUNUSER", "unix:path="+filepath.Join(ru, "bus")).Replace(tc.wantAddr)
			if got := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); got != want {
				t.Errorf("DBUS_SESSION_BUS_ADDRESS = %q, want %q", got, want)
			}
		})
	}
}
