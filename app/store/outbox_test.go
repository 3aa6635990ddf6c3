package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/internal/testfs"
)

var (
	sendable = []domain.DeliveryState{domain.DeliveryQueued, domain.DeliveryRetrying}
	resend   = []domain.DeliveryState{domain.DeliveryQueued, domain.DeliveryRetrying, domain.DeliveryAmbiguous}
)

// clockStore opens a store whose clock the test moves.
func clockStore(t *testing.T) (*Store, *time.Time) {
	t.Helper()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s, err := Open(testfs.TempDir(t)+"/hub.db", Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, &now
}

// queue stores n results, each with one delivery per connection, and
// returns their delivery IDs per connection in order.
func queue(t *testing.T, s *Store, n int, orderID string, conns ...string) map[string][]int64 {
	t.Helper()
	ctx := context.Background()
	out := map[string][]int64{}
	for i := 0; i < n; i++ {
		r, _, err := s.SaveResult(ctx, domain.Result{OrderID: orderID, Measurement: "ECG"}, conns)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := s.Deliveries(ctx, DeliveryFilter{ResultID: r.ID})
		if err != nil {
			t.Fatal(err)
		}
		for j := len(ds) - 1; j >= 0; j-- {
			out[ds[j].Connection] = append(out[ds[j].Connection], ds[j].ID)
		}
	}
	return out
}

// fail claims id and completes it as retrying, due after wait.
func fail(t *testing.T, s *Store, id int64, now time.Time, wait time.Duration) {
	t.Helper()
	ctx := context.Background()
	d, err := s.ClaimDelivery(ctx, id, resend)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompleteDelivery(ctx, d, Outcome{State: domain.DeliveryRetrying, NextAt: now.Add(wait), Error: "refused"}); err != nil {
		t.Fatal(err)
	}
}

func TestNextDelivery(t *testing.T) {
	ctx := context.Background()
	type failure struct {
		item int           // index into the queue
		wait time.Duration // retry after
		n    int           // times
	}
	tests := []struct {
		name      string
		items     int
		failures  []failure
		ambiguous []int // indexes left in flight, then recovered
		rule      PickRule
		want      int           // index of the due delivery, -1 none
		wantWake  time.Duration // when want is -1
	}{
		{"fifo", 3, nil, nil, PickRule{Claimable: sendable, PassAfter: 3}, 0, 0},
		{"head waiting for its retry blocks", 3, []failure{{0, time.Minute, 1}}, nil, PickRule{Claimable: sendable, PassAfter: 3}, -1, time.Minute},
		{"head that failed PassAfter times is passed", 3, []failure{{0, time.Minute, 3}}, nil, PickRule{Claimable: sendable, PassAfter: 3}, 1, 0},
		{"PassAfter 1 never blocks", 3, []failure{{0, time.Minute, 1}}, nil, PickRule{Claimable: sendable, PassAfter: 1}, 1, 0},
		{"passed item goes first once due", 3, []failure{{0, 0, 3}}, nil, PickRule{Claimable: sendable, PassAfter: 3}, 0, 0},
		{"passed item not due wakes the worker", 1, []failure{{0, time.Minute, 3}}, nil, PickRule{Claimable: sendable, PassAfter: 3}, -1, time.Minute},
		{"probe takes the head though not due", 3, []failure{{0, time.Minute, 1}}, nil, PickRule{Claimable: sendable, PassAfter: 3, Probe: true}, 0, 0},
		{"probe takes the oldest though passed", 3, []failure{{0, time.Minute, 3}}, nil, PickRule{Claimable: sendable, PassAfter: 3, Probe: true}, 0, 0},
		{"probe skips", 3, []failure{{0, time.Minute, 3}}, nil, PickRule{Claimable: sendable, PassAfter: 3, Probe: true, Skip: -1}, 1, 0},
		{"probe skips only when it can", 1, []failure{{0, time.Minute, 3}}, nil, PickRule{Claimable: sendable, PassAfter: 3, Probe: true, Skip: -1}, 0, 0},
		{"ambiguous held is skipped", 2, nil, []int{0}, PickRule{Claimable: sendable, PassAfter: 3}, 1, 0},
		{"ambiguous resent goes first", 2, nil, []int{0}, PickRule{Claimable: resend, PassAfter: 3}, 0, 0},
		{"empty queue", 0, nil, nil, PickRule{Claimable: sendable, PassAfter: 3}, -1, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, now := clockStore(t)
			ids := queue(t, s, tc.items, "", "ehr", "other")["ehr"]
			for _, f := range tc.failures {
				for i := 0; i < f.n; i++ {
					fail(t, s, ids[f.item], *now, f.wait)
				}
			}
			for _, i := range tc.ambiguous {
				if _, err := s.ClaimDelivery(ctx, ids[i], sendable); err != nil {
					t.Fatal(err)
				}
			}
			if len(tc.ambiguous) > 0 {
				if n, err := s.RecoverInflight(ctx); err != nil || n != len(tc.ambiguous) {
					t.Fatalf("RecoverInflight = %d, %v", n, err)
				}
			}
			if tc.rule.Skip == -1 {
				tc.rule.Skip = ids[0]
			}
			next, err := s.NextDelivery(ctx, "ehr", tc.rule, *now)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want >= 0 && (next.Due == nil || next.Due.ID != ids[tc.want]):
				t.Fatalf("due %+v, want delivery %d", next.Due, ids[tc.want])
			case tc.want < 0 && next.Due != nil:
				t.Fatalf("due %+v, want none", next.Due)
			case tc.want < 0 && tc.wantWake < 0 && !next.WakeAt.IsZero():
				t.Fatalf("wake at %v, want none", next.WakeAt)
			case tc.want < 0 && tc.wantWake >= 0 && !next.WakeAt.Equal(now.Add(tc.wantWake)):
				t.Fatalf("wake at %v, want %v", next.WakeAt, now.Add(tc.wantWake))
			}
		})
	}
}

func TestCompleteDeliveryIgnoresLateAnswers(t *testing.T) {
	s, now := clockStore(t)
	ctx := context.Background()
	id := queue(t, s, 1, "", "ehr")["ehr"][0]
	claim, err := s.ClaimDelivery(ctx, id, sendable)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimDelivery(ctx, id, sendable); !errors.Is(err, ErrDeliveryState) {
		t.Fatalf("second claim: %v, want ErrDeliveryState", err)
	}
	c, err := s.CompleteDelivery(ctx, claim, Outcome{State: domain.DeliveryRetrying, NextAt: now.Add(time.Second), Error: "timeout"})
	if err != nil || c.Stale || c.Delivery.State != domain.DeliveryRetrying {
		t.Fatalf("first completion: %+v, %v", c, err)
	}
	// The first attempt's answer arrives late, after the delivery moved on.
	c, err = s.CompleteDelivery(ctx, claim, Outcome{State: domain.DeliveryDelivered, Answer: "AA late"})
	if err != nil || !c.Stale || c.Delivery.State != domain.DeliveryRetrying {
		t.Fatalf("late completion: %+v, %v; want stale and still retrying", c, err)
	}
	claim2, err := s.ClaimDelivery(ctx, id, sendable)
	if err != nil {
		t.Fatal(err)
	}
	// A repeated answer of the old claim does not touch the new one.
	if c, err := s.CompleteDelivery(ctx, claim, Outcome{State: domain.DeliveryFailed, Error: "AR"}); err != nil || !c.Stale || c.Delivery.State != domain.DeliveryInflight {
		t.Fatalf("old claim during new claim: %+v, %v", c, err)
	}
	if c, err := s.CompleteDelivery(ctx, claim2, Outcome{State: domain.DeliveryDelivered, Answer: "AA"}); err != nil || c.Stale || c.Delivery.State != domain.DeliveryDelivered {
		t.Fatalf("current claim: %+v, %v", c, err)
	}
	if c, err := s.CompleteDelivery(ctx, claim2, Outcome{State: domain.DeliveryRetrying, Error: "dup"}); err != nil || !c.Stale || c.Delivery.State != domain.DeliveryDelivered {
		t.Fatalf("duplicate answer: %+v, %v", c, err)
	}
	atts, err := s.Attempts(ctx, id)
	if err != nil || len(atts) != 5 {
		t.Fatalf("attempts = %d (%v), want every answer recorded (5)", len(atts), err)
	}
	if d, _ := s.Delivery(ctx, id); d.Attempts != 2 || d.LastError != "timeout" {
		t.Fatalf("delivery %+v: want 2 attempts and the last failure kept", d)
	}
}

func TestOrderDoneWhenEveryDeliverySucceeded(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		steps  []string // per connection a, b: "d" deliver, "f" fail permanently, "c" cancel
		state  domain.OrderState
		before domain.OrderState // order state before the result (default scheduled)
	}{
		{"both delivered", []string{"a:d", "b:d"}, domain.OrderDone, ""},
		{"one still open", []string{"a:d"}, domain.OrderScheduled, ""},
		{"one failed", []string{"a:d", "b:f"}, domain.OrderScheduled, ""},
		{"other cancelled", []string{"a:d", "b:c"}, domain.OrderDone, ""},
		{"all cancelled", []string{"a:c", "b:c"}, domain.OrderScheduled, ""},
		{"in progress", []string{"b:d", "a:d"}, domain.OrderDone, domain.OrderInProgress},
		{"deleted stays deleted", []string{"a:d", "b:d"}, domain.OrderDeleted, domain.OrderDeleted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := clockStore(t)
			acc, err := s.ApplyOrder(ctx, order("ehr-in", "m1", "A1", domain.ActionNew))
			if err != nil {
				t.Fatal(err)
			}
			switch tc.before {
			case domain.OrderInProgress:
				if _, err := s.StartOrder(ctx, acc.OrderID, domain.DefaultGroupID, "dev"); err != nil {
					t.Fatal(err)
				}
			case domain.OrderDeleted:
				if _, err := s.SetOrderState(ctx, acc.OrderID, domain.OrderDeleted, "test", "wrong patient"); err != nil {
					t.Fatal(err)
				}
			}
			ids := queue(t, s, 1, acc.OrderID, "a", "b")
			var done *domain.Order
			for _, st := range tc.steps {
				conn, act, _ := strings.Cut(st, ":")
				id := ids[conn][0]
				var c Completion
				switch act {
				case "c":
					c, err = s.CancelDelivery(ctx, id, "test", "sent on paper")
				default:
					var claim domain.Delivery
					claim, err = s.ClaimDelivery(ctx, id, sendable)
					if err != nil {
						t.Fatal(err)
					}
					o := Outcome{State: domain.DeliveryDelivered}
					if act == "f" {
						o = Outcome{State: domain.DeliveryFailed, Error: "AR"}
					}
					c, err = s.CompleteDelivery(ctx, claim, o)
				}
				if err != nil {
					t.Fatal(err)
				}
				if c.OrderDone != nil {
					if done != nil {
						t.Fatal("order completed twice")
					}
					done = c.OrderDone
				}
			}
			o, err := s.Order(ctx, acc.OrderID)
			if err != nil {
				t.Fatal(err)
			}
			if o.State != tc.state {
				t.Fatalf("order state %s, want %s", o.State, tc.state)
			}
			if (done != nil) != (tc.state == domain.OrderDone) {
				t.Fatalf("OrderDone reported = %v, want %v", done != nil, tc.state == domain.OrderDone)
			}
		})
	}
}

func TestRecoverInflight(t *testing.T) {
	s, _ := clockStore(t)
	ctx := context.Background()
	ids := queue(t, s, 3, "", "ehr")["ehr"]
	if _, err := s.ClaimDelivery(ctx, ids[1], sendable); err != nil {
		t.Fatal(err)
	}
	n, err := s.RecoverInflight(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RecoverInflight = %d, %v; want 1", n, err)
	}
	d, _ := s.Delivery(ctx, ids[1])
	if d.State != domain.DeliveryAmbiguous || d.LastError != AmbiguousNote {
		t.Fatalf("delivery %+v: want ambiguous with the note", d)
	}
	atts, _ := s.Attempts(ctx, ids[1])
	if len(atts) != 1 || atts[0].Error != AmbiguousNote {
		t.Fatalf("attempts %+v: want the ambiguous attempt recorded", atts)
	}
	if n, _ := s.RecoverInflight(ctx); n != 0 {
		t.Fatalf("second recovery flagged %d", n)
	}
	for _, i := range []int{0, 2} {
		if d, _ := s.Delivery(ctx, ids[i]); d.State != domain.DeliveryQueued {
			t.Fatalf("delivery %d: %s, want queued untouched", ids[i], d.State)
		}
	}
}

func TestManualActions(t *testing.T) {
	s, now := clockStore(t)
	ctx := context.Background()
	ids := queue(t, s, 4, "", "a", "b")
	failed := func(id int64) {
		claim, err := s.ClaimDelivery(ctx, id, sendable)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CompleteDelivery(ctx, claim, Outcome{State: domain.DeliveryFailed, Error: "AR unknown patient"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range append(ids["a"][:3:3], ids["b"][0]) {
		failed(id)
	}
	// Resend one.
	d, err := s.ResendDelivery(ctx, ids["a"][0], "dashboard:ana", "patient fixed in EHR")
	if err != nil || d.State != domain.DeliveryQueued || !d.NextAt.Equal(*now) || d.Attempts != 1 {
		t.Fatalf("resend: %+v, %v", d, err)
	}
	if _, err := s.ResendDelivery(ctx, ids["a"][0], "", "x"); err == nil {
		t.Fatal("resend without actor accepted")
	}
	// In flight: busy for resend and cancel.
	if _, err := s.ClaimDelivery(ctx, ids["a"][3], sendable); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResendDelivery(ctx, ids["a"][3], "dashboard:ana", ""); !errors.Is(err, ErrDeliveryBusy) {
		t.Fatalf("resend in flight: %v", err)
	}
	if _, err := s.CancelDelivery(ctx, ids["a"][3], "dashboard:ana", "x"); !errors.Is(err, ErrDeliveryBusy) {
		t.Fatalf("cancel in flight: %v", err)
	}
	// Cancel one; needs a reason; cannot cancel twice.
	if _, err := s.CancelDelivery(ctx, ids["a"][1], "dashboard:ana", " "); err == nil {
		t.Fatal("cancel without reason accepted")
	}
	if c, err := s.CancelDelivery(ctx, ids["a"][1], "dashboard:ana", "duplicate measurement"); err != nil || c.Delivery.State != domain.DeliveryCancelled {
		t.Fatalf("cancel: %+v, %v", c, err)
	}
	if _, err := s.CancelDelivery(ctx, ids["a"][1], "dashboard:ana", "again"); !errors.Is(err, ErrDeliveryState) {
		t.Fatalf("second cancel: %v", err)
	}
	// Resend all failed of a: one left (a[2]); b's stays failed.
	if n, err := s.ResendDeliveries(ctx, "a", nil, "dashboard:ana", "EHR fixed"); err != nil || n != 1 {
		t.Fatalf("resend failed of a = %d, %v; want 1", n, err)
	}
	if d, _ := s.Delivery(ctx, ids["b"][0]); d.State != domain.DeliveryFailed {
		t.Fatalf("b's delivery %s, want still failed", d.State)
	}
	if n, err := s.ResendDeliveries(ctx, "", nil, "dashboard:ana", "all"); err != nil || n != 1 {
		t.Fatalf("resend all failed = %d, %v; want 1", n, err)
	}
	log, err := s.AuditLog(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"delivery.resend " + fmt.Sprint(ids["b"][0]) + " all",
		"delivery.resend " + fmt.Sprint(ids["a"][2]) + " EHR fixed",
		"delivery.cancel " + fmt.Sprint(ids["a"][1]) + " duplicate measurement",
		"delivery.resend " + fmt.Sprint(ids["a"][0]) + " patient fixed in EHR",
	}
	if len(log) != len(want) {
		t.Fatalf("audit log %+v, want %d entries", log, len(want))
	}
	for i, w := range want {
		if got := log[i].Action + " " + log[i].Target + " " + log[i].Reason; got != w || log[i].Actor != "dashboard:ana" || log[i].Detail == "" {
			t.Fatalf("audit entry %d: %+v, want %q by dashboard:ana with detail", i, log[i], w)
		}
	}
}

func TestOutboxStatus(t *testing.T) {
	s, now := clockStore(t)
	ctx := context.Background()
	start := *now
	ids := queue(t, s, 5, "", "a", "b")
	*now = now.Add(time.Minute)
	for _, id := range ids["a"][:3] {
		claim, err := s.ClaimDelivery(ctx, id, sendable)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CompleteDelivery(ctx, claim, Outcome{State: domain.DeliveryDelivered, At: *now}); err != nil {
			t.Fatal(err)
		}
	}
	fail(t, s, ids["a"][3], *now, time.Minute)
	*now = now.Add(time.Second)
	claim, _ := s.ClaimDelivery(ctx, ids["b"][0], sendable)
	if _, err := s.CompleteDelivery(ctx, claim, Outcome{State: domain.DeliveryFailed, Error: "AR bad patient", At: *now}); err != nil {
		t.Fatal(err)
	}
	st, err := s.OutboxStatus(ctx, now.Add(time.Minute), "c")
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 3 || st[0].Connection != "a" || st[1].Connection != "b" || st[2].Connection != "c" {
		t.Fatalf("status %+v, want a, b, c", st)
	}
	a, b, c := st[0], st[1], st[2]
	if a.Depth[domain.DeliveryDelivered] != 3 || a.Depth[domain.DeliveryRetrying] != 1 || a.Depth[domain.DeliveryQueued] != 1 || a.Undelivered != 2 {
		t.Fatalf("a: %+v", a)
	}
	if a.Delivered10m != 3 || a.PerMinute != 0.3 || a.LastError != "refused" {
		t.Fatalf("a: %+v", a)
	}
	if !a.OldestUndelivered.Equal(start) || a.OldestAge != 2*time.Minute+time.Second {
		t.Fatalf("a oldest %v age %v", a.OldestUndelivered, a.OldestAge)
	}
	if b.Depth[domain.DeliveryFailed] != 1 || b.Undelivered != 5 || b.LastError != "AR bad patient" || b.Delivered10m != 0 {
		t.Fatalf("b: %+v", b)
	}
	if c.Undelivered != 0 || len(c.Depth) != 0 || !c.OldestUndelivered.IsZero() {
		t.Fatalf("c: %+v", c)
	}
	// Ten minutes later the rate window is empty.
	st, _ = s.OutboxStatus(ctx, now.Add(11*time.Minute))
	if st[0].Delivered10m != 0 {
		t.Fatalf("delivered in window after 11 min: %d", st[0].Delivered10m)
	}
	// Listing: newest first, by state and connection, by result.
	list, err := s.Deliveries(ctx, DeliveryFilter{Connection: "a", States: []domain.DeliveryState{domain.DeliveryDelivered}})
	if err != nil || len(list) != 3 || list[0].ID != ids["a"][2] || list[2].ID != ids["a"][0] {
		t.Fatalf("delivered of a: %+v, %v", list, err)
	}
	list, _ = s.Deliveries(ctx, DeliveryFilter{Connection: "a", Limit: 2, BeforeID: ids["a"][2]})
	if len(list) != 2 || list[0].ID != ids["a"][1] {
		t.Fatalf("page: %+v", list)
	}
	counts, err := s.QueueCounts(ctx, "b", domain.DeliveryFailed, domain.DeliveryQueued)
	if err != nil || counts[domain.DeliveryFailed] != 1 || counts[domain.DeliveryQueued] != 4 {
		t.Fatalf("counts %v, %v", counts, err)
	}
}

func TestRetryNow(t *testing.T) {
	s, now := clockStore(t)
	ctx := context.Background()
	ids := queue(t, s, 2, "", "ehr")["ehr"]
	fail(t, s, ids[0], *now, time.Hour)
	fail(t, s, ids[1], *now, time.Hour)
	if n, err := s.RetryNow(ctx, "ehr"); err != nil || n != 2 {
		t.Fatalf("RetryNow = %d, %v", n, err)
	}
	next, _ := s.NextDelivery(ctx, "ehr", PickRule{Claimable: sendable, PassAfter: 1}, *now)
	if next.Due == nil || next.Due.ID != ids[0] {
		t.Fatalf("due %+v, want the oldest at once", next.Due)
	}
}
