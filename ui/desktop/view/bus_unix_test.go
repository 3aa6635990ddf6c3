//go:build (linux || freebsd || openbsd || netbsd) && !android

package view

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestSessionBusAddress(t *testing.T) {
	t.Parallel()
	withSocket := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(withSocket, "bus"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() }) // subtests run after this function returns
	withFile := t.TempDir()
	if err := os.WriteFile(filepath.Join(withFile, "bus"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		env        map[string]string
		userRunDir string
		want       string
		wantErr    bool
	}{
		{"from the environment", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus"}, "", "unix:path=/run/user/1000/bus", false},
		{"environment wins over runtime dir", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:abstract=/tmp/x", "XDG_RUNTIME_DIR": withSocket}, "", "unix:abstract=/tmp/x", false},
		{"runtime dir socket", map[string]string{"XDG_RUNTIME_DIR": withSocket}, "", "unix:path=" + filepath.Join(withSocket, "bus"), false},
		{"autolaunch is not a bus", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "autolaunch:"}, "", "", true},
		{"runtime dir without socket", map[string]string{"XDG_RUNTIME_DIR": t.TempDir()}, "", "", true},
		{"runtime dir with a plain file", map[string]string{"XDG_RUNTIME_DIR": withFile}, "", "", true},
		{"user run dir socket", map[string]string{}, withSocket, "unix:path=" + filepath.Join(withSocket, "bus"), false},
		{"runtime dir before user run dir", map[string]string{"XDG_RUNTIME_DIR": withSocket}, "/nonexistent", "unix:path=" + filepath.Join(withSocket, "bus"), false},
		{"nothing", map[string]string{}, "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := sessionBusAddress(envOf(tc.env), tc.userRunDir)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("sessionBusAddress = %q, %v; want %q (error %v)", got, err, tc.want, tc.wantErr)
			}
			if tc.wantErr && !errors.Is(err, errNoSessionBus) {
				t.Errorf("error %v is not errNoSessionBus", err)
			}
		})
	}
}

func TestCheckTrayNoBus(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := checkTrayEnv(ctx, envOf(nil), ""); !errors.Is(err, errNoSessionBus) {
		t.Errorf("no bus: err = %v, want errNoSessionBus", err)
	}
	dead := "unix:path=" + filepath.Join(t.TempDir(), "gone")
	if _, err := checkTrayEnv(ctx, envOf(map[string]string{"DBUS_SESSION_BUS_ADDRESS": dead}), ""); err == nil ||
		!strings.Contains(err.Error(), "does not answer") {
		t.Errorf("dead bus: err = %v, want 'does not answer'", err)
	}
}

// startBus runs a private dbus-daemon for the test and returns its address.
func startBus(t *testing.T) string {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon is not installed (apt-get install dbus): cannot test against a real session bus")
	}
	sock := filepath.Join(t.TempDir(), "bus")
	cmd := exec.Command(daemon, "--session", "--nofork", "--nopidfile", "--print-address=1", "--address=unix:path="+sock)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read dbus-daemon address: %v", err)
	}
	return strings.TrimSpace(line)
}

func TestCheckTrayWithBus(t *testing.T) {
	t.Parallel()
	addr := startBus(t)
	env := envOf(map[string]string{"DBUS_SESSION_BUS_ADDRESS": addr})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	host, err := checkTrayEnv(ctx, env, "")
	if err != nil || host {
		t.Fatalf("bus without tray host: host=%v err=%v, want false, nil", host, err)
	}

	// A desktop's tray host owns the StatusNotifierWatcher name.
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if reply, err := conn.RequestName(statusNotifierWatcher, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("request name: %v %v", reply, err)
	}
	host, err = checkTrayEnv(ctx, env, "")
	if err != nil || !host {
		t.Fatalf("bus with tray host: host=%v err=%v, want true, nil", host, err)
	}
}
