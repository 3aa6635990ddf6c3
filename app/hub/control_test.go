//go:build !windows

package hub

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/internal/testfs"
)

// TestControlEndpointOnlyForItsUser: the socket is the owner's alone (mode
// 0600), and even where the mode lets another user through, the peer's
// credentials are checked and the connection is closed.
func TestControlEndpointOnlyForItsUser(t *testing.T) {
	if os.Getenv("MCONNECT_CONTROL_CHILD") != "" {
		// The child: as another user, ask the hub for its status.
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", os.Getenv("MCONNECT_CONTROL_CHILD"))
		}}}
		resp, err := c.Post("http://hub/v1/Status", "application/json", strings.NewReader("{}"))
		if err != nil {
			os.Stdout.WriteString("refused: " + err.Error())
			os.Exit(0)
		}
		os.Stdout.WriteString("answered " + resp.Status)
		os.Exit(0)
	}
	h, _ := newBirpisHub(t)
	dialControl(t, h)
	sock := filepath.Join(h.dataDir, control.SocketName)
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket mode %v, want a 0600 socket", fi.Mode())
	}
	if os.Getuid() != 0 {
		t.Skip("connecting as another user needs root to switch users (CI runs as root)")
	}
	// Open the way for another user, so that only the credential check
	// stands between it and the hub.
	for d := h.dataDir; d != "/" && d != "."; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o005 != 0o005 {
			os.Chmod(d, fi.Mode().Perm()|0o005)
		}
	}
	os.Chmod(sock, 0o666)
	exe, _ := os.Executable()
	bin := filepath.Join(testfs.TempDir(t), "child.test")
	copyFile(t, exe, bin)
	os.Chmod(filepath.Dir(bin), 0o755)
	cmd := exec.Command(bin, "-test.run", "^TestControlEndpointOnlyForItsUser$")
	cmd.Env = append(os.Environ(), "MCONNECT_CONTROL_CHILD="+sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "refused") {
		t.Fatalf("another user reached the hub: %s", out)
	}
	// The owner still gets through.
	if _, err := dialControl(t, h).Status(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// rawControlPost posts body to /v1/method over the unix socket, without the
// client (the socket needs no token: withToken is for Windows).
func rawControlPost(t *testing.T, h *Hub, method, body string, _ bool) (int, []byte) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", filepath.Join(h.dataDir, control.SocketName))
	}}}
	resp, err := hc.Post("http://hub/v1/"+method, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
