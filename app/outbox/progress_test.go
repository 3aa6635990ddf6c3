package outbox

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
)

// stepEHR writes a result in two steps, like a connector that submits a
// query and then reads its outcome: the first attempt records the step and
// fails; the retry must see the step and must not submit again.
type stepEHR struct {
	mu        sync.Mutex
	submitted int
	seen      []domain.Progress
	block     chan struct{} // when set, the attempt waits here after recording
}

func (e *stepEHR) Deliver(ctx context.Context, out domain.Outgoing) (string, error) {
	e.mu.Lock()
	e.seen = append(e.seen, out.Progress)
	block := e.block
	e.mu.Unlock()
	if out.Progress.Step == "" {
		e.mu.Lock()
		e.submitted++
		e.mu.Unlock()
		if err := out.Record(ctx, domain.Progress{Step: "query:q-1", Resumable: true}); err != nil {
			return "", err
		}
		if block != nil {
			select {
			case <-block:
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		return "", domain.Temporary(errors.New("still executing"), "query q-1 executing")
	}
	return "query " + out.Progress.Step + " successful", nil
}

func (e *stepEHR) state() (int, []domain.Progress) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.submitted, append([]domain.Progress(nil), e.seen...)
}

func TestProgressReachesTheNextAttempt(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	r := save(t, s, "", "halo")
	ehr := &stepEHR{}
	ob := New(s, Options{Backoff: fast}, testLog(t))
	if err := ob.Register("halo", ehr, Policy{}); err != nil {
		t.Fatal(err)
	}
	start(t, ob)
	waitFor(t, "delivered", func() bool { return stateOf(s, r.ID, "halo") == domain.DeliveryDelivered })
	n, seen := ehr.state()
	if n != 1 || len(seen) != 2 || seen[0].Step != "" || seen[1].Step != "query:q-1" {
		t.Fatalf("submitted %d times, progress seen %+v; want one submission, the retry resuming from the step", n, seen)
	}
	d := deliveryOf(t, s, r.ID, "halo")
	if p, _ := s.DeliveryProgress(context.Background(), d.ID); p != (domain.Progress{}) {
		t.Fatalf("progress %+v left after delivery", p)
	}
}

// A stop that cuts off an attempt after a resumable step leaves the
// delivery retrying (not ambiguous, not held for a person), and the next
// run resumes it without submitting again.
func TestStopAfterResumableStepResumes(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	r := save(t, s, "", "halo")
	ehr := &stepEHR{block: make(chan struct{})}
	ob := New(s, Options{Backoff: fast, Grace: 50 * time.Millisecond}, testLog(t))
	_ = ob.Register("halo", ehr, Policy{Ambiguous: AmbiguousHold})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ob.Run(ctx) }()
	waitFor(t, "step recorded", func() bool {
		d := deliveryOf(t, s, r.ID, "halo")
		p, _ := s.DeliveryProgress(context.Background(), d.ID)
		return p.Step != ""
	})
	cancel()
	<-done
	d := deliveryOf(t, s, r.ID, "halo")
	if d.State != domain.DeliveryRetrying {
		t.Fatalf("after the stop: %s (%s), want retrying", d.State, d.LastError)
	}
	ehr.mu.Lock()
	ehr.block = nil
	ehr.mu.Unlock()
	ob2 := New(s, Options{Backoff: fast}, testLog(t))
	_ = ob2.Register("halo", ehr, Policy{Ambiguous: AmbiguousHold})
	start(t, ob2)
	waitFor(t, "delivered after the restart", func() bool { return stateOf(s, r.ID, "halo") == domain.DeliveryDelivered })
	if n, _ := ehr.state(); n != 1 {
		t.Fatalf("submitted %d times, want once", n)
	}
	atts, _ := s.Attempts(context.Background(), d.ID)
	if len(atts) != 2 || atts[1].Answer != "query query:q-1 successful" {
		t.Fatalf("attempts %+v", atts)
	}
}

// progressFault fails RecordProgress: the connector is told, and nothing
// counts as recorded.
type progressFault struct {
	*store.Store
}

func (progressFault) RecordProgress(context.Context, domain.Delivery, domain.Progress) error {
	return errors.New("disk I/O error")
}

func TestRecordFailureReachesTheConnector(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	r := save(t, s, "", "halo")
	var got error
	var mu sync.Mutex
	ehr := &fakeEHR{fn: func(out domain.Outgoing) (string, error) {
		err := out.Record(context.Background(), domain.Progress{Step: "x", Resumable: true})
		mu.Lock()
		got = err
		mu.Unlock()
		return "", domain.Permanent(errors.New("cannot record"), "")
	}}
	ob := newOutbox(progressFault{s}, Options{Backoff: fast}, testLog(t))
	_ = ob.Register("halo", ehr, Policy{})
	start(t, ob)
	waitFor(t, "failed", func() bool { return stateOf(s, r.ID, "halo") == domain.DeliveryFailed })
	mu.Lock()
	defer mu.Unlock()
	if got == nil {
		t.Fatal("Record reported success on a store that cannot write")
	}
}
