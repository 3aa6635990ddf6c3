package hub

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
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
	for _, body := range []string{`{"id": "seven"}`, `{"id": 1, "surprise": true}`, `{`} {
		status, b := rawControlPost(t, h, "Delivery", body, true)
		if status != http.StatusBadRequest || !bytes.Contains(b, []byte(`"kind":"invalid"`)) {
			t.Errorf("%s: %d %s", body, status, b)
		}
	}
}

// TestTwoControlEndpointsInOneProcess: each hub's endpoint answers its own
// clients (on Windows each checks its own token).
func TestTwoControlEndpointsInOneProcess(t *testing.T) {
	a, _ := newBirpisHub(t)
	ca := dialControl(t, a)
	b, _ := newBirpisHub(t)
	cb := dialControl(t, b)
	ctx := context.Background()
	for _, x := range []struct {
		h *Hub
		c *control.Client
	}{{a, ca}, {b, cb}, {a, ca}} {
		st, err := x.c.Status(ctx)
		if err != nil || st.HubID != x.h.hubID || st.DataDir != x.h.dataDir {
			t.Fatalf("status of %s: %+v %v", x.h.dataDir, st, err)
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
