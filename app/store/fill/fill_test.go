package fill

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
)

// TestFilledRowsReadBackLikeRealOnes: the store reads filled rows as its
// own (state, worklist, result of its order, delivery, no duplicate keys).
func TestFilledRowsReadBackLikeRealOnes(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	oldAt := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := Fill(ctx, st, Spec{Orders: 1000, Old: 500, Open: 100, OldAt: oldAt, RecentAt: oldAt.AddDate(1, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	o, err := st.Order(ctx, "ord-fill-00000007")
	if err != nil || o.State != domain.OrderDone || o.ID != "ord-fill-00000007" || o.PlacerNumber != "PF00000007" {
		t.Fatalf("order 7: %+v, %v", o, err)
	}
	wl, err := st.Worklist(ctx, "default")
	if err != nil || len(wl) != 100 {
		t.Fatalf("worklist: %d orders, %v; want 100", len(wl), err)
	}
	r, err := st.Result(ctx, "res-fill-00000007")
	if err != nil || r.OrderID != o.ID || r.ID != "res-fill-00000007" {
		t.Fatalf("result 7: %+v, %v", r, err)
	}
	counts, err := st.QueueCounts(ctx, "ehr", domain.DeliveryDelivered, domain.DeliveryQueued)
	if err != nil || counts[domain.DeliveryDelivered] != 900 || counts[domain.DeliveryQueued] != 0 {
		t.Fatalf("deliveries: %v, %v", counts, err)
	}
	acc, err := st.ApplyOrder(ctx, domain.Order{Connection: "ehr", SourceMessageID: "msg-00000007", Action: domain.ActionNew, PlacerNumber: "x", Patient: domain.Patient{ID: "1"}})
	if err != nil || !acc.Duplicate {
		t.Fatalf("a filled message again: %+v, %v; want a duplicate", acc, err)
	}
}
