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

// A store that cannot be written (here SQLite's own read-only switch, the
// same error a read-only file gives): the tablet gets an error (nothing
// acknowledged), the worker keeps running and shows the fault, sends
// nothing it could not claim, and delivers once the store works again.
func TestReadOnlyStore(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	ctx := context.Background()
	queued := save(t, s, "", "ehr")
	// One connection, so the switch applies to everything the store does.
	s.DB().SetMaxOpenConns(1)
	readOnly := func(on bool) {
		v := "OFF"
		if on {
			v = "ON"
		}
		if _, err := s.DB().ExecContext(ctx, "PRAGMA query_only="+v); err != nil {
			t.Fatal(err)
		}
	}
	readOnly(true)
	if _, _, err := s.SaveResult(ctx, domain.Result{Measurement: "ECG"}, []string{"ehr"}); err == nil {
		t.Fatal("SaveResult succeeded on a read-only store: the tablet would get a 201 for nothing")
	}
	hl := &healthLog{}
	ehr := &fakeEHR{}
	ob := New(s, Options{Backoff: fast, Health: hl}, testLog(t))
	_ = ob.Register("ehr", ehr, Policy{})
	start(t, ob)
	waitFor(t, "the fault shown", func() bool { return hl.of("ehr").Code == CodeStoreUnwritable })
	if h := hl.of("ehr"); h.Severity != domain.SeverityError || h.Detail == "" {
		t.Fatalf("health %+v", h)
	}
	time.Sleep(100 * time.Millisecond) // several retry rounds pass
	if n := ehr.callsOf(queued.ID); n != 0 {
		t.Fatalf("sent %d times without a claim on disk", n)
	}
	readOnly(false)
	waitFor(t, "delivered after the store recovered", func() bool { return stateOf(s, queued.ID, "ehr") == domain.DeliveryDelivered })
	waitFor(t, "health ok", func() bool { return hl.of("ehr").Code == CodeOK })
	if got := ehr.got(); len(got) != 1 {
		t.Fatalf("EHR got %v, want the one stored result", got)
	}
	r, _, err := s.SaveResult(ctx, domain.Result{Measurement: "ECG"}, []string{"ehr"})
	if err != nil {
		t.Fatal(err)
	}
	ob.Notify("ehr")
	waitFor(t, "new result delivered", func() bool { return stateOf(s, r.ID, "ehr") == domain.DeliveryDelivered })
}

// faultyStore fails chosen store operations (disk full, I/O error).
type faultyStore struct {
	*store.Store
	mu            sync.Mutex
	reads         error
	claims        error
	completes     error
	completeCalls int
}

func (f *faultyStore) set(fn func(f *faultyStore)) {
	f.mu.Lock()
	fn(f)
	f.mu.Unlock()
}

func (f *faultyStore) get(p *error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *p
}

func (f *faultyStore) NextDelivery(ctx context.Context, conn string, rule store.PickRule, now time.Time) (store.Next, error) {
	if err := f.get(&f.reads); err != nil {
		return store.Next{}, err
	}
	return f.Store.NextDelivery(ctx, conn, rule, now)
}

func (f *faultyStore) QueueCounts(ctx context.Context, conn string, states ...domain.DeliveryState) (map[domain.DeliveryState]int, error) {
	if err := f.get(&f.reads); err != nil {
		return nil, err
	}
	return f.Store.QueueCounts(ctx, conn, states...)
}

func (f *faultyStore) ClaimDelivery(ctx context.Context, id int64, from []domain.DeliveryState) (domain.Delivery, error) {
	if err := f.get(&f.claims); err != nil {
		return domain.Delivery{}, err
	}
	return f.Store.ClaimDelivery(ctx, id, from)
}

func (f *faultyStore) CompleteDelivery(ctx context.Context, claimed domain.Delivery, o store.Outcome) (store.Completion, error) {
	f.mu.Lock()
	f.completeCalls++
	err := f.completes
	f.mu.Unlock()
	if err != nil {
		return store.Completion{}, err
	}
	return f.Store.CompleteDelivery(ctx, claimed, o)
}

func (f *faultyStore) Advance(ctx context.Context, conn string, finished []store.Finished, release []domain.Delivery, rule store.PickRule, want int) (store.Step, error) {
	f.mu.Lock()
	var err error
	if len(finished) > 0 {
		f.completeCalls++
		err = f.completes
	}
	if err == nil && want > 0 {
		err = f.claims
	}
	f.mu.Unlock()
	if err != nil {
		return store.Step{}, err
	}
	return f.Store.Advance(ctx, conn, finished, release, rule, want)
}

var errDiskFull = errors.New("database or disk is full (13)")

// The EHR confirmed a send but the store cannot record it: the delivery
// is not marked delivered, the answer is not lost, the send is not
// repeated; once the disk has room the confirmation is written.
func TestCannotRecordConfirmation(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	f := &faultyStore{Store: s, completes: errDiskFull}
	hl := &healthLog{}
	ehr := &fakeEHR{}
	ob := newOutbox(f, Options{Backoff: fast, Health: hl}, testLog(t))
	_ = ob.Register("ehr", ehr, Policy{Ambiguous: AmbiguousResend})
	r := save(t, s, "", "ehr")
	start(t, ob)
	waitFor(t, "the fault shown", func() bool { return hl.of("ehr").Code == CodeStoreUnwritable })
	waitFor(t, "several write tries", func() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.completeCalls >= 3 })
	if st := stateOf(s, r.ID, "ehr"); st != domain.DeliveryInflight {
		t.Fatalf("state %s while the confirmation cannot be written; want inflight", st)
	}
	if n := ehr.callsOf(r.ID); n != 1 {
		t.Fatalf("sent %d times; want once", n)
	}
	f.set(func(f *faultyStore) { f.completes = nil })
	waitFor(t, "confirmation written", func() bool { return stateOf(s, r.ID, "ehr") == domain.DeliveryDelivered })
	waitFor(t, "health ok", func() bool { return hl.of("ehr").Code == CodeOK })
	if n := ehr.callsOf(r.ID); n != 1 {
		t.Fatalf("sent %d times; want once", n)
	}
}

func TestStoreReadAndClaimFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault func(f *faultyStore, err error)
		code  string
	}{
		{"read", func(f *faultyStore, err error) { f.reads = err }, CodeStoreUnreadable},
		{"claim", func(f *faultyStore, err error) { f.claims = err }, CodeStoreUnwritable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			f := &faultyStore{Store: s}
			f.set(func(f *faultyStore) { tc.fault(f, errors.New("disk I/O error (10)")) })
			hl := &healthLog{}
			ehr := &fakeEHR{}
			ob := newOutbox(f, Options{Backoff: fast, Health: hl}, testLog(t))
			_ = ob.Register("ehr", ehr, Policy{})
			r := save(t, s, "", "ehr")
			start(t, ob)
			waitFor(t, "the fault shown", func() bool { return hl.of("ehr").Code == tc.code })
			if n := ehr.callsOf(r.ID); n != 0 {
				t.Fatalf("sent %d times during the fault", n)
			}
			f.set(func(f *faultyStore) { tc.fault(f, nil) })
			waitFor(t, "delivered", func() bool { return stateOf(s, r.ID, "ehr") == domain.DeliveryDelivered })
			waitFor(t, "health ok", func() bool { return hl.of("ehr").Code == CodeOK })
		})
	}
}
