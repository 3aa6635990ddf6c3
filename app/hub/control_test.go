//go:build !windows

package hub

import (
	"bytes"
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
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/internal/testfs"
)

// TestControlEndpointServesTheHub: what the command line and a second
// window see over the endpoint is what the hub has, errors stay typed, and
// changes arrive as events.
func TestControlEndpointServesTheHub(t *testing.T) {
	h, _ := newBirpisHub(t)
	c := dialControl(t, h)
	ctx := context.Background()

	local, _ := h.Status(ctx)
	remote, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if remote.State != control.StateRunning || remote.HubID != local.HubID || remote.PID != os.Getpid() ||
		len(remote.Health) != len(local.Health) || remote.Fingerprint == "" {
		t.Fatalf("remote status %+v, local %+v", remote, local)
	}
	for i := range local.Health {
		if remote.Health[i].Component != local.Health[i].Component || remote.Health[i].Severity != local.Health[i].Severity ||
			remote.Health[i].Code != local.Health[i].Code {
			t.Errorf("health %d: remote %+v local %+v", i, remote.Health[i], local.Health[i])
		}
	}

	events, err := c.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.NewPairingCode(ctx, "")
	if err != nil || len(p.Code) != 6 || !strings.Contains(p.URL, "code="+p.Code) {
		t.Fatalf("pairing %+v %v", p, err)
	}
	// Health events of components still starting may come first.
	deadline := time.After(5 * time.Second)
	for got := false; !got; {
		select {
		case ev := <-events:
			switch ev.Kind {
			case control.EventTablets:
				got = true
			case control.EventHealth:
			default:
				t.Fatalf("event %+v after a pairing code, want tablets", ev)
			}
		case <-deadline:
			t.Fatal("no tablets event after a pairing code")
		}
	}

	// Typed errors, not Go error chains.
	if _, err := c.Delivery(ctx, 999); control.KindOf(err) != control.NotFound {
		t.Errorf("unknown delivery: %v (%s)", err, control.KindOf(err))
	}
	var ce *control.Error
	if _, err := c.Resend(ctx, control.ResendRequest{ID: 1}); control.KindOf(err) != control.Invalid ||
		!asError(err, &ce) || ce.Field != "reason" {
		t.Errorf("resend without reason: %v", err)
	}
	if _, err := c.NewPairingCode(ctx, "no-such-group"); control.KindOf(err) != control.NotFound {
		t.Errorf("pairing for an unknown group: %v", err)
	}

	// Groups: create, rename and make default, and the default is kept.
	g, err := c.SaveGroup(ctx, domain.Group{Name: "Cardiology"})
	if err != nil || g.ID == "" {
		t.Fatalf("create group: %+v %v", g, err)
	}
	if g, err = c.SaveGroup(ctx, domain.Group{ID: g.ID, Name: "Cardiology 2nd floor", Default: true}); err != nil || !g.Default {
		t.Fatalf("rename and make default: %+v %v", g, err)
	}
	gs, _ := c.Groups(ctx)
	for _, x := range gs {
		if (x.ID == g.ID) != x.Default || (x.ID == g.ID && x.Name != "Cardiology 2nd floor") {
			t.Errorf("groups after the change: %+v", gs)
		}
	}
	if err := c.DeleteGroup(ctx, g.ID); control.KindOf(err) != control.Conflict {
		t.Errorf("deleting the default group: %v", err)
	}
	if _, err := c.SaveGroup(ctx, domain.Group{}); control.KindOf(err) != control.Invalid {
		t.Errorf("a group without a name: %v", err)
	}

	// The Worklist's summary and the Groups tab's counts, over the endpoint.
	o := domain.Order{Connection: "birpis", SourceMessageID: "m1", PlacerNumber: "A1", Action: domain.ActionNew,
		Measurement: "ECG", Patient: domain.Patient{ID: "P1", Name: domain.PersonName{Family: "Novak"}},
		Fields: []domain.Field{{Key: "OBR-4", Value: "ECG"}}, Meta: map[string]string{"hl7.version": "2.3"}}
	acc, err := h.store.ApplyOrder(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	open := []domain.OrderState{domain.OrderScheduled, domain.OrderInProgress}
	full, err := c.Orders(ctx, control.OrderQuery{States: open})
	if err != nil || len(full) != 1 || len(full[0].Fields) != 1 {
		t.Fatalf("orders: %+v %v", full, err)
	}
	sum, err := c.Orders(ctx, control.OrderQuery{States: open, Summary: true})
	if err != nil || len(sum) != 1 || sum[0].ID != acc.OrderID || sum[0].Fields != nil || sum[0].Meta != nil ||
		sum[0].Patient.Name.Family != "Novak" {
		t.Fatalf("summary: %+v %v", sum, err)
	}
	counts, err := c.CountOrders(ctx, control.OrderQuery{States: open})
	if err != nil || len(counts) != 1 || counts[full[0].Group] != 1 {
		t.Fatalf("counts: %v %v", counts, err)
	}

	// A malformed request is refused with a typed error.
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", filepath.Join(h.dataDir, control.SocketName))
	}}}
	for _, body := range []string{`{"id": "seven"}`, `{"id": 1, "surprise": true}`, `{`} {
		resp, err := hc.Post("http://hub/v1/Delivery", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(b, []byte(`"kind":"invalid"`)) {
			t.Errorf("%s: %d %s", body, resp.StatusCode, b)
		}
	}
}

func asError(err error, target **control.Error) bool {
	e, ok := err.(*control.Error)
	if ok {
		*target = e
	}
	return ok
}

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
