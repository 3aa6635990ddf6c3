package hub

import (
	"context"
	"testing"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/connectors/hl7net"
	"github.com/mesi/mconnect/device"
)

func TestManualActionsAreAudited(t *testing.T) {
	h, c := newBirpisHub(t)
	ctx := context.Background()
	cl := dialMLLP(t, config.SectionOf[*hl7net.MLLPConfig](c, hl7net.MLLPSection).Listen)
	defer cl.conn.Close()
	if _, err := cl.send(orm("D1")); err != nil {
		t.Fatal(err)
	}
	wl, _ := h.Worklist(ctx, domain.DefaultGroupID)
	if len(wl) != 1 {
		t.Fatalf("worklist %v", wl)
	}
	if _, err := h.DeleteOrder(ctx, control.DeleteOrderRequest{ID: wl[0].ID, Actor: "dashboard:anna"}); err == nil {
		t.Fatal("deleted without a reason")
	}
	if _, err := h.DeleteOrder(ctx, control.DeleteOrderRequest{ID: wl[0].ID, Actor: "dashboard:anna", Reason: "patient went home"}); err != nil {
		t.Fatal(err)
	}
	if wl, _ := h.Worklist(ctx, domain.DefaultGroupID); len(wl) != 0 {
		t.Fatalf("deleted order still listed: %v", wl)
	}

	code, err := h.NewPairingCode(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := h.store.PairDevice(ctx, device.HashCode(code.Code), domain.Device{Serial: "S1"}, "tokhash")
	if err != nil {
		t.Fatal(err)
	}
	g, err := h.store.CreateGroup(ctx, "Cardiology", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.UpdateDevice(ctx, d.ID, store.DeviceChange{Group: &g.ID}, "dashboard:anna", "moved rooms"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.UpdateDevice(ctx, d.ID, store.DeviceChange{Revoke: true}, "dashboard:anna", "lost"); err != nil {
		t.Fatal(err)
	}
	devs, _ := h.Tablets(ctx)
	if len(devs) != 1 || devs[0].Group != g.ID || !devs[0].Revoked {
		t.Fatalf("devices %+v", devs)
	}
	log, _ := h.store.AuditLog(ctx, 20)
	want := map[string]bool{"order.deleted": false, "device.move": false, "device.revoke": false}
	for _, e := range log {
		if _, ok := want[e.Action]; ok && e.Actor == "dashboard:anna" && e.Reason != "" {
			want[e.Action] = true
		}
	}
	for a, ok := range want {
		if !ok {
			t.Errorf("no audit entry %s with actor and reason: %+v", a, log)
		}
	}
	if _, err := h.NewPairingCode(ctx, "no-such-group"); control.KindOf(err) != control.NotFound {
		t.Fatalf("pairing code for unknown group: %v", err)
	}
}
