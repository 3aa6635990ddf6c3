package store

import (
	"context"
	"errors"
	"testing"

	"github.com/mesi/mconnect/app/domain"
)

// Progress is written only under the claim that holds the delivery, kept
// across a retry, and forgotten once the delivery succeeded (a resend of a
// delivered result writes anew).
func TestProgressFollowsTheClaim(t *testing.T) {
	s, now := clockStore(t)
	ctx := context.Background()
	id := queue(t, s, 1, "", "halo")["halo"][0]
	claim, err := s.ClaimDelivery(ctx, id, sendable)
	if err != nil {
		t.Fatal(err)
	}
	step := domain.Progress{Step: "halo-query:q-1", Resumable: true}
	if err := s.RecordProgress(ctx, claim, step); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.DeliveryProgress(ctx, id); got != step {
		t.Fatalf("progress %+v, want %+v", got, step)
	}
	if _, err := s.CompleteDelivery(ctx, claim, Outcome{State: domain.DeliveryRetrying, NextAt: *now, Error: "still executing"}); err != nil {
		t.Fatal(err)
	}
	// The old claim is over: its late write changes nothing.
	if err := s.RecordProgress(ctx, claim, domain.Progress{Step: "late"}); !errors.Is(err, ErrDeliveryState) {
		t.Fatalf("late record: %v, want ErrDeliveryState", err)
	}
	if got, _ := s.DeliveryProgress(ctx, id); got != step {
		t.Fatalf("progress after retry %+v, want %+v kept", got, step)
	}
	claim, err = s.ClaimDelivery(ctx, id, sendable)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompleteDelivery(ctx, claim, Outcome{State: domain.DeliveryDelivered, Answer: "successful"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.DeliveryProgress(ctx, id); got != (domain.Progress{}) {
		t.Fatalf("progress after delivery %+v, want none", got)
	}
	if _, err := s.DeliveryProgress(ctx, 9999); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("missing delivery: %v", err)
	}
}

// A delivery in flight at a stop resumes by itself when its connector
// recorded a resumable step; otherwise (nothing recorded, or a step that is
// not resumable) it is held as ambiguous.
func TestRecoverInflightResumesResumableProgress(t *testing.T) {
	s, _ := clockStore(t)
	ctx := context.Background()
	ids := queue(t, s, 3, "", "ehr")["ehr"]
	steps := []domain.Progress{{Step: "halo-query:q-1", Resumable: true}, {Step: "leyr-note:n-1"}, {}}
	for i, id := range ids {
		c, err := s.ClaimDelivery(ctx, id, sendable)
		if err != nil {
			t.Fatal(err)
		}
		if steps[i].Step != "" {
			if err := s.RecordProgress(ctx, c, steps[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	n, err := s.RecoverInflight(ctx)
	if err != nil || n != 3 {
		t.Fatalf("RecoverInflight = %d, %v; want 3", n, err)
	}
	want := []struct {
		state domain.DeliveryState
		note  string
	}{{domain.DeliveryRetrying, ResumedNote}, {domain.DeliveryAmbiguous, AmbiguousNote}, {domain.DeliveryAmbiguous, AmbiguousNote}}
	for i, id := range ids {
		d, _ := s.Delivery(ctx, id)
		if d.State != want[i].state || d.LastError != want[i].note {
			t.Errorf("delivery %d (%+v): %s %q, want %s %q", id, steps[i], d.State, d.LastError, want[i].state, want[i].note)
		}
		atts, _ := s.Attempts(ctx, id)
		if len(atts) != 1 || atts[0].Error != want[i].note || atts[0].Answer != steps[i].Step {
			t.Errorf("delivery %d attempts %+v: want the note with the step %q", id, atts, steps[i].Step)
		}
		if got, _ := s.DeliveryProgress(ctx, id); got != steps[i] {
			t.Errorf("delivery %d progress %+v, want %+v kept for the next attempt", id, got, steps[i])
		}
	}
}
