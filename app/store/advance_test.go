package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// TestAdvanceClaimsOnlyWhatWouldBeSentNext: the deliveries Advance claims
// together are exactly those NextDelivery would pick one after the other
// (FIFO kept, a waiting head never jumped), and nothing when probing.
func TestAdvanceClaimsOnlyWhatWouldBeSentNext(t *testing.T) {
	ctx := context.Background()
	type failure struct {
		item int
		wait time.Duration
		n    int
	}
	tests := []struct {
		name     string
		items    int
		failures []failure
		rule     PickRule
		want     int
		claimed  []int // indexes claimed, in order
	}{
		{"a run of queued", 5, nil, PickRule{Claimable: sendable, PassAfter: 3}, 3, []int{0, 1, 2}},
		{"want one is the next only", 5, nil, PickRule{Claimable: sendable, PassAfter: 3}, 1, []int{0}},
		{"stops before a retrying one", 5, []failure{{2, time.Minute, 1}}, PickRule{Claimable: sendable, PassAfter: 3}, 10, []int{0, 1}},
		{"stops before a passed one that is due", 5, []failure{{2, 0, 3}}, PickRule{Claimable: sendable, PassAfter: 3}, 10, []int{0, 1}},
		{"a waiting head claims nothing", 3, []failure{{0, time.Minute, 1}}, PickRule{Claimable: sendable, PassAfter: 3}, 10, nil},
		{"a passed one due goes alone while the head waits", 4, []failure{{0, time.Minute, 1}, {1, 0, 3}}, PickRule{Claimable: sendable, PassAfter: 3}, 10, []int{1}},
		{"probe claims nothing", 3, nil, PickRule{Claimable: sendable, PassAfter: 3, Probe: true}, 10, nil},
		{"nothing asked", 3, nil, PickRule{Claimable: sendable, PassAfter: 3}, 0, nil},
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
			st, err := s.Advance(ctx, "ehr", nil, nil, tc.rule, tc.want)
			if err != nil {
				t.Fatal(err)
			}
			var got, want []int64
			for _, c := range st.Claimed {
				got = append(got, c.Delivery.ID)
				if c.Delivery.State != domain.DeliveryInflight || c.Result == nil || c.Result.ID != c.Delivery.ResultID {
					t.Errorf("claimed %+v with result %+v", c.Delivery, c.Result)
				}
			}
			for _, i := range tc.claimed {
				want = append(want, ids[i])
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("claimed %v, want %v", got, want)
			}
			// The other connection's queue is untouched.
			if c, err := s.QueueCounts(ctx, "other", domain.DeliveryInflight); err != nil || c[domain.DeliveryInflight] != 0 {
				t.Fatalf("other connection: %v, %v", c, err)
			}
		})
	}
}

// TestAdvanceRecordsAndPutsBack: outcomes are recorded as CompleteDelivery
// records them (attempt, state, order done, stale answers left alone), and
// released claims go back to queued with their attempt uncounted, in one
// transaction with the next claim.
func TestAdvanceRecordsAndPutsBack(t *testing.T) {
	ctx := context.Background()
	s, now := clockStore(t)
	acc, err := s.ApplyOrder(ctx, order("ehr-in", "m1", "A1", domain.ActionNew))
	if err != nil {
		t.Fatal(err)
	}
	ids := queue(t, s, 1, acc.OrderID, "ehr")["ehr"]
	ids = append(ids, queue(t, s, 4, "", "ehr")["ehr"]...)
	rule := PickRule{Claimable: sendable, PassAfter: 3}
	st, err := s.Advance(ctx, "ehr", nil, nil, rule, 3)
	if err != nil || len(st.Claimed) != 3 {
		t.Fatalf("first step: %+v, %v", st, err)
	}
	if st.Claimed[0].Order == nil || st.Claimed[0].Order.ID != acc.OrderID {
		t.Fatalf("the first claim's order: %+v", st.Claimed[0].Order)
	}
	// The first is delivered, the second failed for now (its send held the
	// queue up), the third was never sent; a late answer for an old claim
	// of the first comes too.
	c0, c1, c2 := st.Claimed[0].Delivery, st.Claimed[1].Delivery, st.Claimed[2].Delivery
	stale := c0
	stale.Attempts = 0
	finished := []Finished{
		{Claim: c0, Outcome: Outcome{State: domain.DeliveryDelivered, Answer: "AA"}},
		{Claim: c1, Outcome: Outcome{State: domain.DeliveryRetrying, NextAt: now.Add(time.Minute), Error: "timeout"}},
		{Claim: stale, Outcome: Outcome{State: domain.DeliveryFailed, Error: "late"}},
	}
	st, err = s.Advance(ctx, "ehr", finished, []domain.Delivery{c2}, rule, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Completions) != 3 || st.Completions[0].OrderDone == nil || !st.Completions[2].Stale || st.Completions[1].Stale {
		t.Fatalf("completions %+v", st.Completions)
	}
	if len(st.Claimed) != 0 {
		t.Fatalf("claimed %+v behind a delivery waiting for its retry", st.Claimed)
	}
	for i, want := range []struct {
		state    domain.DeliveryState
		attempts int
		history  int
	}{{domain.DeliveryDelivered, 1, 2}, {domain.DeliveryRetrying, 1, 1}, {domain.DeliveryQueued, 0, 0}} {
		d, err := s.Delivery(ctx, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		h, err := s.Attempts(ctx, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if d.State != want.state || d.Attempts != want.attempts || len(h) != want.history {
			t.Errorf("delivery %d: %s after %d attempts with %d recorded; want %s, %d, %d", i, d.State, d.Attempts, len(h), want.state, want.attempts, want.history)
		}
	}
	if _, err := s.Advance(ctx, "ehr", []Finished{{Claim: c0, Outcome: Outcome{State: domain.DeliveryQueued}}}, nil, rule, 0); err == nil {
		t.Fatal("an attempt ending in queued was accepted")
	}
}
