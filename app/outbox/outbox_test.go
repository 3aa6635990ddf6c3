package outbox

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/internal/testfs"
)

// fast is a backoff for tests: 10 ms doubling to 50 ms, no jitter.
var fast = Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Jitter: -1}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(testfs.TempDir(t), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testLog(t testing.TB) logrus.FieldLogger {
	l := logrus.New()
	l.SetLevel(logrus.WarnLevel)
	l.SetOutput(testWriter{t})
	return l
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// fakeEHR is an in-process outbound connector; fn decides each answer.
type fakeEHR struct {
	mu        sync.Mutex
	fn        func(out domain.Outgoing) (string, error)
	delivered []string // result IDs in the order the EHR accepted them
	calls     map[string]int
}

func (f *fakeEHR) Deliver(ctx context.Context, out domain.Outgoing) (string, error) {
	f.mu.Lock()
	fn := f.fn
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[out.Result.ID]++
	f.mu.Unlock()
	ans, err := "AA", error(nil)
	if fn != nil {
		ans, err = fn(out)
	}
	if err == nil {
		f.mu.Lock()
		f.delivered = append(f.delivered, out.Result.ID)
		f.mu.Unlock()
	}
	return ans, err
}

func (f *fakeEHR) set(fn func(out domain.Outgoing) (string, error)) {
	f.mu.Lock()
	f.fn = fn
	f.mu.Unlock()
}

func (f *fakeEHR) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.delivered)
}

func (f *fakeEHR) callsOf(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

// healthLog keeps the last health per component.
type healthLog struct {
	mu   sync.Mutex
	last map[string]domain.Health
	all  []domain.Health
}

func (h *healthLog) Report(x domain.Health) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil {
		h.last = map[string]domain.Health{}
	}
	h.last[x.Component] = x
	h.all = append(h.all, x)
}

func (h *healthLog) of(conn string) domain.Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last["conn:"+conn+"/outbox"]
}

// waitFor polls cond with a generous deadline (the machine may be loaded).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// start runs ob until the test ends.
func start(t testing.TB, ob *Outbox) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ob.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return cancel
}

func save(t testing.TB, s *store.Store, orderID string, conns ...string) domain.Result {
	t.Helper()
	r, _, err := s.SaveResult(context.Background(), domain.Result{OrderID: orderID, Measurement: "ECG"}, conns)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func deliveryOf(t testing.TB, s *store.Store, resultID, conn string) domain.Delivery {
	t.Helper()
	ds, err := s.Deliveries(context.Background(), store.DeliveryFilter{ResultID: resultID, Connection: conn})
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries of %s to %s: %v, %v", resultID, conn, ds, err)
	}
	return ds[0]
}

func stateOf(s *store.Store, resultID, conn string) domain.DeliveryState {
	ds, err := s.Deliveries(context.Background(), store.DeliveryFilter{ResultID: resultID, Connection: conn})
	if err != nil || len(ds) != 1 {
		return ""
	}
	return ds[0].State
}

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	b := Backoff{}.withDefaults(Backoff{Initial: DefaultInitial, Max: DefaultMax, Jitter: DefaultJitter})
	tests := []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{1, 0, 5 * time.Second},
		{2, 0, 10 * time.Second},
		{3, 0, 20 * time.Second},
		{7, 0, 320 * time.Second},
		{8, 0, 10 * time.Minute},
		{100, 0, 10 * time.Minute},
		{1, 0.5, 4500 * time.Millisecond},
		{100, 0.99, 10*time.Minute - time.Duration(float64(10*time.Minute)*0.2*0.99)},
	}
	for _, tc := range tests {
		if got := b.Delay(tc.n, tc.r); got != tc.want {
			t.Errorf("Delay(%d, %v) = %v, want %v", tc.n, tc.r, got, tc.want)
		}
	}
	if got := (Backoff{Initial: time.Second, Max: time.Second, Jitter: -1}).withDefaults(b).Delay(3, 0.9); got != time.Second {
		t.Errorf("no jitter: %v", got)
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	ob := New(openStore(t), Options{}, nil)
	ehr := &fakeEHR{}
	tests := []struct {
		name    string
		conn    string
		out     domain.Outbound
		policy  Policy
		wantErr bool
	}{
		{"ok", "a", ehr, Policy{}, false},
		{"twice", "a", ehr, Policy{}, true},
		{"no name", "", ehr, Policy{}, true},
		{"no connector", "b", nil, Policy{}, true},
		{"bad policy", "c", ehr, Policy{Ambiguous: "maybe"}, true},
		{"resend", "d", ehr, Policy{Ambiguous: AmbiguousResend, PassAfter: 1}, false},
	}
	for _, tc := range tests {
		if err := ob.Register(tc.conn, tc.out, tc.policy); (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, want error %v", tc.name, err, tc.wantErr)
		}
	}
	if got := ob.Connections(); !slices.Equal(got, []string{"a", "d"}) {
		t.Fatalf("connections %v", got)
	}
	w := ob.worker("a")
	if w.policy.Ambiguous != AmbiguousHold || w.policy.PassAfter != DefaultPassAfter || w.policy.Backoff.Initial != DefaultInitial || w.policy.Label != "a" {
		t.Fatalf("defaults not applied: %+v", w.policy)
	}
	if !slices.Contains(ob.worker("d").claimable, domain.DeliveryAmbiguous) || slices.Contains(w.claimable, domain.DeliveryAmbiguous) {
		t.Fatal("ambiguous policy does not decide what is sent")
	}
}

func TestDeliversInOrderAndCompletesOrder(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	ctx := context.Background()
	acc, err := s.ApplyOrder(ctx, domain.Order{Connection: "in", SourceMessageID: "m1", PlacerNumber: "A1", Patient: domain.Patient{ID: "P1"}})
	if err != nil {
		t.Fatal(err)
	}
	var done []domain.Order
	var mu sync.Mutex
	hl := &healthLog{}
	ob := New(s, Options{Backoff: fast, Health: hl, OnOrderDone: func(o domain.Order) {
		mu.Lock()
		done = append(done, o)
		mu.Unlock()
	}}, testLog(t))
	a, b := &fakeEHR{}, &fakeEHR{}
	var sawOrder bool
	a.set(func(out domain.Outgoing) (string, error) {
		if out.Order != nil && out.Order.ID == acc.OrderID && out.Delivery.State == domain.DeliveryInflight && out.Delivery.Attempts == 1 {
			sawOrder = true
		}
		return "AA", nil
	})
	for _, c := range []struct {
		n string
		e *fakeEHR
	}{{"a", a}, {"b", b}} {
		if err := ob.Register(c.n, c.e, Policy{}); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for i := 0; i < 5; i++ {
		want = append(want, save(t, s, "", "a", "b").ID)
	}
	withOrder := save(t, s, acc.OrderID, "a", "b")
	want = append(want, withOrder.ID)
	start(t, ob)
	for i := 0; i < 5; i++ {
		r := save(t, s, "", "a", "b")
		want = append(want, r.ID)
		ob.Notify("")
	}
	waitFor(t, "all delivered", func() bool { return len(a.got()) == len(want) && len(b.got()) == len(want) })
	if !slices.Equal(a.got(), want) || !slices.Equal(b.got(), want) {
		t.Fatalf("delivery order\n a %v\n b %v\nwant %v", a.got(), b.got(), want)
	}
	if !sawOrder {
		t.Fatal("the connector did not get the order with the claimed delivery")
	}
	waitFor(t, "order done callback", func() bool { mu.Lock(); defer mu.Unlock(); return len(done) == 1 })
	if done[0].ID != acc.OrderID || done[0].State != domain.OrderDone {
		t.Fatalf("OnOrderDone got %+v", done[0])
	}
	if o, _ := s.Order(ctx, acc.OrderID); o.State != domain.OrderDone {
		t.Fatalf("order state %s, want done", o.State)
	}
	_, atts, err := ob.History(ctx, deliveryOf(t, s, withOrder.ID, "a").ID)
	if err != nil || len(atts) != 1 || atts[0].Answer != "AA" || atts[0].Error != "" || atts[0].At.IsZero() {
		t.Fatalf("history %+v, %v", atts, err)
	}
	if h := hl.of("a"); h.Code != CodeOK || h.Severity != domain.SeverityOK {
		t.Fatalf("health %+v", h)
	}
	// The fake EHR saw the last send before the outbox recorded its answer:
	// wait until the store says so too.
	var st []store.QueueStatus
	waitFor(t, "status settled", func() bool {
		st, err = ob.Status(ctx)
		return err == nil && len(st) == 2 && st[0].Undelivered == 0 && st[1].Undelivered == 0
	})
	if st[0].Depth[domain.DeliveryDelivered] != len(want) || st[0].Delivered10m != len(want) {
		t.Fatalf("status %+v", st)
	}
}

func TestPermanentErrorFailsAtOnce(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	hl := &healthLog{}
	ob := New(s, Options{Backoff: fast, Health: hl}, testLog(t))
	ehr := &fakeEHR{}
	bad := save(t, s, "", "ehr")
	good := save(t, s, "", "ehr")
	ehr.set(func(out domain.Outgoing) (string, error) {
		if out.Result.ID == bad.ID {
			return "", domain.Permanent(errors.New("unknown patient"), "MSA|AR|1")
		}
		return "MSA|AA|2", nil
	})
	if err := ob.Register("ehr", ehr, Policy{PassAfter: 1000, Label: "Birpis"}); err != nil {
		t.Fatal(err)
	}
	start(t, ob)
	waitFor(t, "good delivered", func() bool { return stateOf(s, good.ID, "ehr") == domain.DeliveryDelivered })
	waitFor(t, "bad failed", func() bool { return stateOf(s, bad.ID, "ehr") == domain.DeliveryFailed })
	d, atts, err := ob.History(context.Background(), deliveryOf(t, s, bad.ID, "ehr").ID)
	if err != nil || d.Attempts != 1 || len(atts) != 1 || atts[0].Answer != "MSA|AR|1" || !strings.Contains(d.LastError, "unknown patient") {
		t.Fatalf("failed delivery %+v %+v %v", d, atts, err)
	}
	waitFor(t, "health needs attention", func() bool { return hl.of("ehr").Code == CodeNeedsAttention })
	h := hl.of("ehr")
	if h.Severity != domain.SeverityError || h.Args["failed"] != "1" || h.Args["connection"] != "Birpis" || !strings.Contains(h.Detail, "unknown patient") {
		t.Fatalf("health %+v", h)
	}
	if n := ehr.callsOf(bad.ID); n != 1 {
		t.Fatalf("permanent failure sent %d times", n)
	}
	// A person resends it after fixing the patient in the EHR.
	ehr.set(nil)
	if _, err := ob.Resend(context.Background(), d.ID, "dashboard:ana", "patient created in EHR"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "resent delivered", func() bool { return stateOf(s, bad.ID, "ehr") == domain.DeliveryDelivered })
	waitFor(t, "health ok", func() bool { return hl.of("ehr").Code == CodeOK })
}

// A result the EHR keeps refusing for now (an answer with an error) must
// not hold up the others for more than PassAfter attempts (Mirth #6164).
func TestPoisonDoesNotBlock(t *testing.T) {
	t.Parallel()
	for _, pass := range []int{1, 3} {
		t.Run(fmt.Sprint("PassAfter ", pass), func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			hl := &healthLog{}
			ob := New(s, Options{Backoff: fast, Health: hl}, testLog(t))
			ehr := &fakeEHR{}
			poison := save(t, s, "", "ehr")
			var want []string
			for i := 0; i < 10; i++ {
				want = append(want, save(t, s, "", "ehr").ID)
			}
			ehr.set(func(out domain.Outgoing) (string, error) {
				if out.Result.ID == poison.ID {
					return "", domain.Temporary(errors.New("application error"), "MSA|AE|x")
				}
				return "AA", nil
			})
			if err := ob.Register("ehr", ehr, Policy{PassAfter: pass}); err != nil {
				t.Fatal(err)
			}
			start(t, ob)
			waitFor(t, "the others delivered", func() bool { return len(ehr.got()) == len(want) })
			if !slices.Equal(ehr.got(), want) {
				t.Fatalf("order %v, want %v", ehr.got(), want)
			}
			d := deliveryOf(t, s, poison.ID, "ehr")
			if d.State != domain.DeliveryRetrying && d.State != domain.DeliveryInflight {
				t.Fatalf("poison is %s, want retrying", d.State)
			}
			waitFor(t, "poison retried on its own", func() bool { return ehr.callsOf(poison.ID) > pass+1 })
			waitFor(t, "health retrying", func() bool { return hl.of("ehr").Code == CodeRetrying })
			if ob.worker("ehr").isDown() {
				t.Fatal("an answering EHR was taken for down")
			}
			// A person cancels it: the queue is clean again.
			waitFor(t, "cancel", func() bool {
				_, err := ob.Cancel(context.Background(), d.ID, "dashboard:ana", "sent on paper")
				return err == nil
			})
			waitFor(t, "health ok", func() bool { return hl.of("ehr").Code == CodeOK })
		})
	}
}

func (w *worker) isDown() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.down
}

// The EHR is down for a while: the queue grows without a flood of sends,
// then drains in order when it is back (Mirth #1124, #1314).
func TestEHRDownThenDrainsInOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		passAfter int
		swaps     int // out-of-order pairs allowed at the front
	}{
		{"strict", 1 << 20, 0},
		{"default", 0, 1},
		{"never block", 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			hl := &healthLog{}
			ob := New(s, Options{Backoff: fast, Health: hl}, testLog(t))
			ehr := &fakeEHR{}
			down := func(out domain.Outgoing) (string, error) {
				return "", domain.Temporary(errors.New("dial tcp 127.0.0.1:2575: connection refused"), "")
			}
			ehr.set(down)
			if err := ob.Register("ehr", ehr, Policy{PassAfter: tc.passAfter}); err != nil {
				t.Fatal(err)
			}
			start(t, ob)
			var want []string
			for i := 0; i < 30; i++ {
				want = append(want, save(t, s, "", "ehr").ID)
				ob.Notify("ehr")
			}
			waitFor(t, "the EHR seen as down", func() bool {
				c := hl.of("ehr").Code
				return c == CodeEHRUnreachable || (tc.passAfter > 1000 && c == CodeRetrying)
			})
			time.Sleep(200 * time.Millisecond) // let the outage last a little
			tried := 0
			for _, id := range want {
				if ehr.callsOf(id) > 0 {
					tried++
				}
			}
			if tried > 2 {
				t.Fatalf("%d different results were tried while the EHR was down; want at most 2 (no flood)", tried)
			}
			ehr.set(nil)
			waitFor(t, "backlog drained", func() bool { return len(ehr.got()) == len(want) })
			got := ehr.got()
			if tc.swaps == 0 && !slices.Equal(got, want) {
				t.Fatalf("order %v, want %v", got, want)
			}
			if len(got) > 2 && (!slices.Equal(got[2:], want[2:]) || !slices.Contains(got[:2], want[0]) || !slices.Contains(got[:2], want[1])) {
				t.Fatalf("order %v, want %v (the first two may swap)", got, want)
			}
			waitFor(t, "health ok", func() bool { return hl.of("ehr").Code == CodeOK })
		})
	}
}

func TestAmbiguousPolicies(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	ctx := context.Background()
	var results []domain.Result
	for i := 0; i < 3; i++ {
		results = append(results, save(t, s, "", "resend", "hold"))
	}
	// A previous run claimed the first delivery of each and died.
	for _, c := range []string{"resend", "hold"} {
		if _, err := s.ClaimDelivery(ctx, deliveryOf(t, s, results[0].ID, c).ID, []domain.DeliveryState{domain.DeliveryQueued}); err != nil {
			t.Fatal(err)
		}
	}
	hl := &healthLog{}
	ob := New(s, Options{Backoff: fast, Health: hl}, testLog(t))
	r, h := &fakeEHR{}, &fakeEHR{}
	if err := ob.Register("resend", r, Policy{Ambiguous: AmbiguousResend}); err != nil {
		t.Fatal(err)
	}
	if err := ob.Register("hold", h, Policy{Ambiguous: AmbiguousHold}); err != nil {
		t.Fatal(err)
	}
	start(t, ob)
	waitFor(t, "resend delivered all", func() bool { return len(r.got()) == 3 })
	if !slices.Equal(r.got(), []string{results[0].ID, results[1].ID, results[2].ID}) {
		t.Fatalf("resend order %v", r.got())
	}
	waitFor(t, "hold delivered the others", func() bool { return len(h.got()) == 2 })
	if stateOf(s, results[0].ID, "hold") != domain.DeliveryAmbiguous {
		t.Fatal("held ambiguous delivery was sent")
	}
	for _, c := range []string{"resend", "hold"} {
		_, atts, _ := ob.History(ctx, deliveryOf(t, s, results[0].ID, c).ID)
		if len(atts) == 0 || atts[0].Error != store.AmbiguousNote {
			t.Fatalf("%s: history %+v, want the ambiguous attempt first", c, atts)
		}
	}
	waitFor(t, "hold needs attention", func() bool { return hl.of("hold").Code == CodeNeedsAttention })
	if hl.of("hold").Args["held"] != "1" {
		t.Fatalf("health %+v", hl.of("hold"))
	}
	n, err := ob.ResendAmbiguous(ctx, "hold", "dashboard:ana", "EHR checked: not there")
	if err != nil || n != 1 {
		t.Fatalf("ResendAmbiguous = %d, %v", n, err)
	}
	waitFor(t, "held one delivered", func() bool { return stateOf(s, results[0].ID, "hold") == domain.DeliveryDelivered })
	waitFor(t, "health ok", func() bool { return hl.of("hold").Code == CodeOK })
	log, _ := s.AuditLog(ctx, 10)
	if len(log) != 1 || log[0].Action != "delivery.resend" || log[0].Actor != "dashboard:ana" || log[0].Reason != "EHR checked: not there" {
		t.Fatalf("audit %+v", log)
	}
}

func TestManualActionsThroughOutbox(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	ctx := context.Background()
	acc, err := s.ApplyOrder(ctx, domain.Order{Connection: "in", SourceMessageID: "m1", PlacerNumber: "A1", Patient: domain.Patient{ID: "P1"}})
	if err != nil {
		t.Fatal(err)
	}
	doneCh := make(chan domain.Order, 1)
	ob := New(s, Options{Backoff: fast, OnOrderDone: func(o domain.Order) { doneCh <- o }}, testLog(t))
	a, b := &fakeEHR{}, &fakeEHR{}
	b.set(func(domain.Outgoing) (string, error) {
		return "", domain.Permanent(errors.New("HTTP 422"), `{"error":"bad"}`)
	})
	_ = ob.Register("a", a, Policy{})
	_ = ob.Register("b", b, Policy{})
	r := save(t, s, acc.OrderID, "a", "b")
	others := []domain.Result{save(t, s, "", "b"), save(t, s, "", "b")}
	start(t, ob)
	waitFor(t, "b failed", func() bool {
		return stateOf(s, r.ID, "b") == domain.DeliveryFailed && stateOf(s, others[1].ID, "b") == domain.DeliveryFailed
	})
	waitFor(t, "a delivered", func() bool { return stateOf(s, r.ID, "a") == domain.DeliveryDelivered })
	if o, _ := s.Order(ctx, acc.OrderID); o.State == domain.OrderDone {
		t.Fatal("order done while a delivery failed")
	}
	if _, err := ob.Cancel(ctx, deliveryOf(t, s, r.ID, "b").ID, "dashboard:ana", ""); err == nil {
		t.Fatal("cancel without a reason accepted")
	}
	if _, err := ob.Cancel(ctx, deliveryOf(t, s, r.ID, "b").ID, "dashboard:ana", "EHR has it on paper"); err != nil {
		t.Fatal(err)
	}
	select {
	case o := <-doneCh:
		if o.ID != acc.OrderID || o.State != domain.OrderDone {
			t.Fatalf("order done %+v", o)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no order-done event after the last open delivery was cancelled")
	}
	b.set(nil)
	n, err := ob.ResendFailed(ctx, "", "dashboard:ana", "EHR fixed")
	if err != nil || n != 2 {
		t.Fatalf("ResendFailed = %d, %v", n, err)
	}
	waitFor(t, "resent delivered", func() bool {
		return stateOf(s, others[0].ID, "b") == domain.DeliveryDelivered && stateOf(s, others[1].ID, "b") == domain.DeliveryDelivered
	})
	list, err := ob.Deliveries(ctx, store.DeliveryFilter{Connection: "b", States: []domain.DeliveryState{domain.DeliveryDelivered}})
	if err != nil || len(list) != 2 || list[0].ID < list[1].ID {
		t.Fatalf("list %+v, %v", list, err)
	}
	log, _ := s.AuditLog(ctx, 10)
	if len(log) != 3 {
		t.Fatalf("audit %+v, want a cancel and two resends", log)
	}
}

// blockingEHR holds each send until released.
type blockingEHR struct {
	started chan domain.Outgoing
	release chan error
}

func (b *blockingEHR) Deliver(ctx context.Context, out domain.Outgoing) (string, error) {
	b.started <- out
	select {
	case err := <-b.release:
		return "AA", err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func TestActionsOnInflightAreRefused(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	ctx := context.Background()
	ob := New(s, Options{Backoff: fast}, testLog(t))
	ehr := &blockingEHR{started: make(chan domain.Outgoing, 1), release: make(chan error)}
	_ = ob.Register("ehr", ehr, Policy{})
	r := save(t, s, "", "ehr")
	start(t, ob)
	out := <-ehr.started
	if _, err := ob.Cancel(ctx, out.Delivery.ID, "dashboard:ana", "x"); !errors.Is(err, store.ErrDeliveryBusy) {
		t.Fatalf("cancel in flight: %v", err)
	}
	if _, err := ob.Resend(ctx, out.Delivery.ID, "dashboard:ana", "x"); !errors.Is(err, store.ErrDeliveryBusy) {
		t.Fatalf("resend in flight: %v", err)
	}
	ehr.release <- nil
	waitFor(t, "delivered", func() bool { return stateOf(s, r.ID, "ehr") == domain.DeliveryDelivered })
	if _, err := ob.Cancel(ctx, out.Delivery.ID, "dashboard:ana", "x"); !errors.Is(err, store.ErrDeliveryState) {
		t.Fatalf("cancel delivered: %v", err)
	}
}

func TestStopWithSendInFlight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		finish bool // the send finishes within the grace period
		want   domain.DeliveryState
	}{
		{"finishes within grace", true, domain.DeliveryDelivered},
		{"cut off after grace", false, domain.DeliveryAmbiguous},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			ob := New(s, Options{Backoff: fast, Grace: 300 * time.Millisecond}, testLog(t))
			ehr := &blockingEHR{started: make(chan domain.Outgoing, 1), release: make(chan error)}
			_ = ob.Register("ehr", ehr, Policy{})
			r := save(t, s, "", "ehr")
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- ob.Run(ctx) }()
			<-ehr.started
			cancel()
			if tc.finish {
				ehr.release <- nil
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Run did not return")
			}
			if st := stateOf(s, r.ID, "ehr"); st != tc.want {
				t.Fatalf("state %s, want %s", st, tc.want)
			}
		})
	}
}

func TestConnectorPanicFailsTheDelivery(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	ob := New(s, Options{Backoff: fast}, testLog(t))
	ehr := &fakeEHR{}
	bad := save(t, s, "", "ehr")
	good := save(t, s, "", "ehr")
	ehr.set(func(out domain.Outgoing) (string, error) {
		if out.Result.ID == bad.ID {
			panic("index out of range [3] with length 3") // a mapping bug
		}
		return "AA", nil
	})
	_ = ob.Register("ehr", ehr, Policy{})
	start(t, ob)
	waitFor(t, "good delivered", func() bool { return stateOf(s, good.ID, "ehr") == domain.DeliveryDelivered })
	d := deliveryOf(t, s, bad.ID, "ehr")
	if d.State != domain.DeliveryFailed || !strings.Contains(d.LastError, "internal error") {
		t.Fatalf("panicking delivery %+v", d)
	}
}

// TestPicksUpChangesMadeElsewhere: a resend written to the store by another
// process (the CLI while the hub runs) is delivered without a Notify.
func TestPicksUpChangesMadeElsewhere(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	ob := New(s, Options{Backoff: fast, Recheck: 100 * time.Millisecond}, testLog(t))
	ehr := &fakeEHR{}
	var reject atomic.Bool
	reject.Store(true)
	ehr.set(func(out domain.Outgoing) (string, error) {
		if reject.Load() {
			return "", domain.Permanent(errors.New("AR"), "MSA|AR")
		}
		return "AA", nil
	})
	if err := ob.Register("ehr", ehr, Policy{}); err != nil {
		t.Fatal(err)
	}
	r := save(t, s, "", "ehr")
	start(t, ob)
	waitFor(t, "failed", func() bool { return deliveryOf(t, s, r.ID, "ehr").State == domain.DeliveryFailed })
	reject.Store(false)
	if _, err := s.ResendDelivery(ctx, deliveryOf(t, s, r.ID, "ehr").ID, "cli:support", "EHR fixed"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivered after an outside resend", func() bool {
		return deliveryOf(t, s, r.ID, "ehr").State == domain.DeliveryDelivered
	})
}
