package store

import (
	"context"
	"errors"
	"testing"

	"github.com/mesi/mconnect/app/domain"
)

func pulled(placer string, action domain.OrderAction) domain.Order {
	return order("halo", "", placer, action)
}

func TestApplyPulled(t *testing.T) {
	ctx := context.Background()
	// before is the state of an earlier order of placer A1 ("": none).
	tests := []struct {
		name      string
		before    domain.OrderState
		in        domain.Order
		stored    bool
		tombstone domain.OrderState
		want      domain.OrderState // state of the A1 order the worklist shows, "" none
	}{
		{"new appointment", "", pulled("A1", domain.ActionNew), true, "", domain.OrderScheduled},
		{"read again updates in place", domain.OrderScheduled, pulled("A1", domain.ActionNew), true, "", domain.OrderScheduled},
		{"in progress stays in progress", domain.OrderInProgress, pulled("A1", domain.ActionNew), true, "", domain.OrderInProgress},
		{"deleted in the Dashboard stays deleted", domain.OrderDeleted, pulled("A1", domain.ActionNew), false, domain.OrderDeleted, ""},
		{"done stays done", domain.OrderDone, pulled("A1", domain.ActionNew), false, domain.OrderDone, ""},
		{"cancelled upstream", domain.OrderScheduled, pulled("A1", domain.ActionCancel), true, "", ""},
		{"cancellation of an unknown appointment", "", pulled("A1", domain.ActionCancel), false, "", ""},
		{"booked again after a cancellation", domain.OrderCancelled, pulled("A1", domain.ActionNew), true, "", domain.OrderScheduled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			var firstID string
			if tc.before != "" {
				acc, err := s.ApplyOrder(ctx, pulled("A1", domain.ActionNew))
				if err != nil {
					t.Fatal(err)
				}
				firstID = acc.OrderID
				if tc.before != domain.OrderScheduled {
					if _, err := s.SetOrderState(ctx, acc.OrderID, tc.before, "staff", "test"); err != nil {
						t.Fatal(err)
					}
				}
			}
			res, err := s.ApplyPulled(ctx, []domain.Order{tc.in})
			if err != nil {
				t.Fatal(err)
			}
			r := res[0]
			if r.Err != nil || r.Stored != tc.stored || r.Tombstone != tc.tombstone {
				t.Fatalf("outcome %+v; want stored %v tombstone %q", r, tc.stored, tc.tombstone)
			}
			wl, err := s.Worklist(ctx, "default")
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && len(wl) != 0:
				t.Fatalf("worklist %+v, want empty", wl)
			case tc.want != "" && (len(wl) != 1 || wl[0].State != tc.want):
				t.Fatalf("worklist %+v, want one order %s", wl, tc.want)
			case tc.want != "" && (tc.before == domain.OrderScheduled || tc.before == domain.OrderInProgress) && wl[0].ID != firstID:
				t.Fatalf("order %s replaced by %s; want the same order updated", firstID, wl[0].ID)
			}
		})
	}
}

// One refused appointment does not keep the others out.
func TestApplyPulledRefusesOneAlone(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	bad := pulled("A2", domain.ActionNew)
	bad.Patient.ID = ""
	noID := pulled("", domain.ActionNew)
	res, err := s.ApplyPulled(ctx, []domain.Order{pulled("A1", domain.ActionNew), bad, noID, pulled("A3", domain.ActionNew)})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Stored || !errors.Is(res[1].Err, domain.ErrInvalidOrder) || !errors.Is(res[2].Err, domain.ErrInvalidOrder) || !res[3].Stored {
		t.Fatalf("outcomes %+v", res)
	}
	open, err := s.OpenOrders(ctx, "halo", "default")
	if err != nil || len(open) != 2 {
		t.Fatalf("open orders %+v, %v; want A1 and A3", open, err)
	}
	placers := map[string]bool{open[0].PlacerNumber: true, open[1].PlacerNumber: true}
	if !placers["A1"] || !placers["A3"] {
		t.Fatalf("open orders %+v", open)
	}
	if other, _ := s.OpenOrders(ctx, "leyr", "default"); len(other) != 0 {
		t.Fatalf("another connection's open orders: %+v", other)
	}
}
