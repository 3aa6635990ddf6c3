package hub

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/connectors/registry"
	"github.com/mesi/mconnect/internal/testfs"
)

// cloudSource is a pull source the test controls: the appointments the
// EHR has, or an error; each change is a new answer (version).
type cloudSource struct {
	mu      sync.Mutex
	orders  []domain.Order
	err     error
	version uint64
	calls   atomic.Int32
	poll    time.Duration
}

func (s *cloudSource) set(err error, orders ...domain.Order) {
	s.mu.Lock()
	s.orders, s.err = orders, err
	s.version++
	s.mu.Unlock()
}

func (s *cloudSource) Pull(ctx context.Context, group string) ([]domain.Order, error) {
	o, _, err := s.PullVersioned(ctx, group)
	return o, err
}

func (s *cloudSource) PullVersioned(ctx context.Context, group string) ([]domain.Order, uint64, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, 0, s.err
	}
	var out []domain.Order
	for _, o := range s.orders {
		if o.Group == "" && group == "default" || o.Group == group {
			out = append(out, o)
		}
	}
	return out, s.version, nil
}

func (s *cloudSource) PollInterval() time.Duration { return s.poll }

type cloudSection struct{}

func (cloudSection) ApplyDefaults()           {}
func (cloudSection) Validate(*config.Checker) {}

// newCloudHub runs a hub whose connection is src.
func newCloudHub(t *testing.T, src *cloudSource) *Hub {
	t.Helper()
	kind := connector.Kind{
		Section: "toycloud",
		New:     func(catalogue.Profile) config.Section { return &cloudSection{} },
		Example: func(catalogue.Profile, string) config.Section { return &cloudSection{} },
		Build: func(env connector.Env, _ config.Section) (connector.Parts, error) {
			return connector.Parts{Pull: src}, nil
		},
	}
	reg := registry.Default.With(kind, catalogue.Profile{ID: "toycloud", Name: "Toy Cloud", Format: catalogue.FormatJSON,
		Inbound: catalogue.InPull, Sections: []string{"toycloud"}})
	c, err := reg.Example("toycloud", testfs.TempDir(t))
	if err != nil {
		t.Fatal(err)
	}
	c.Device.Listen = freeAddr(t)
	c.Log.Level = "warn"
	c.Groups = []config.GroupConfig{{ID: "cardio", Name: "Cardiology"}}
	h, err := New(c, Options{LogStderr: discard{}, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; h.Close() })
	return h
}

func appt(id, patient string) domain.Order {
	return domain.Order{Connection: "toycloud", Action: domain.ActionNew, PlacerNumber: id, Measurement: "ECG",
		Patient: domain.Patient{ID: patient, Name: domain.PersonName{Given: "Ana", Family: "Novak"}}}
}

func worklist(t *testing.T, h *Hub, group string) (map[string]domain.Order, bool) {
	t.Helper()
	a, err := h.WorklistAnswer(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]domain.Order{}
	for _, o := range a.Orders {
		m[o.PlacerNumber] = o
	}
	return m, a.Stale
}

func TestPulledAppointmentsFollowTheEHR(t *testing.T) {
	src := &cloudSource{}
	h := newCloudHub(t, src)
	ctx := context.Background()
	src.set(nil, appt("A1", "P1"), appt("A2", "P2"), appt("A3", "P3"))
	wl, stale := worklist(t, h, "default")
	if len(wl) != 3 || stale {
		t.Fatalf("worklist %v stale %v", wl, stale)
	}
	first := wl["A1"]

	// Unchanged: nothing is written again.
	wl, _ = worklist(t, h, "default")
	if !wl["A1"].UpdatedAt.Equal(first.UpdatedAt) {
		t.Fatal("an unchanged appointment was written again")
	}

	// A tablet starts A2; staff delete A3 in the Dashboard.
	if _, err := h.store.StartOrder(ctx, wl["A2"].ID, "default", "dev_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.DeleteOrder(ctx, control.DeleteOrderRequest{ID: wl["A3"].ID, Reason: "patient left", Actor: "dashboard:ana"}); err != nil {
		t.Fatal(err)
	}

	// The EHR: A1 moved to another time, A2 no longer listed, A3 listed
	// again, A4 new, A5 cancelled before the hub saw it.
	moved := appt("A1", "P1")
	moved.ScheduledAt = time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	cancelled := appt("A5", "P5")
	cancelled.Action = domain.ActionCancel
	src.set(nil, moved, appt("A3", "P3"), appt("A4", "P4"), cancelled)
	wl, _ = worklist(t, h, "default")
	if len(wl) != 3 || wl["A1"].ID != first.ID || !wl["A1"].ScheduledAt.Equal(moved.ScheduledAt) {
		t.Fatalf("worklist %v; want A1 updated in place, A2 kept (started), A4 new", wl)
	}
	if _, ok := wl["A2"]; !ok {
		t.Fatal("A2, started on a tablet, was taken off because the EHR no longer lists it")
	}
	if _, ok := wl["A3"]; ok {
		t.Fatal("A3, deleted in the Dashboard, came back with a re-pull")
	}
	if _, ok := wl["A5"]; ok {
		t.Fatal("A5, cancelled upstream, is on the worklist")
	}

	// The EHR cancels A4 and no longer lists A1 at all.
	c4 := appt("A4", "P4")
	c4.Action = domain.ActionCancel
	src.set(nil, c4, appt("A3", "P3"))
	wl, _ = worklist(t, h, "default")
	if len(wl) != 1 || wl["A2"].ID == "" {
		t.Fatalf("worklist %v; want only the started A2", wl)
	}
	a1, _ := h.store.Order(ctx, first.ID)
	if a1.State != domain.OrderCancelled {
		t.Fatalf("A1 no longer listed: %s, want cancelled", a1.State)
	}
}

// An appointment whose measurement is done stays off the worklist.
func TestDoneAppointmentIsNotResurrected(t *testing.T) {
	src := &cloudSource{}
	h := newCloudHub(t, src)
	src.set(nil, appt("A1", "P1"))
	wl, _ := worklist(t, h, "default")
	if _, err := h.store.SetOrderState(context.Background(), wl["A1"].ID, domain.OrderDone, "", ""); err != nil {
		t.Fatal(err)
	}
	changed := appt("A1", "P1")
	changed.OrderStatus = "Completed"
	src.set(nil, changed)
	if wl, _ := worklist(t, h, "default"); len(wl) != 0 {
		t.Fatalf("worklist %v after the measurement was done", wl)
	}
}

// The EHR down: the stored worklist at once, stale, since the last answer;
// back: fresh again.
func TestStaleWhileTheEHRIsDown(t *testing.T) {
	src := &cloudSource{}
	h := newCloudHub(t, src)
	src.set(nil, appt("A1", "P1"))
	a, _ := h.WorklistAnswer(context.Background(), "default")
	if a.Stale || len(a.Orders) != 1 {
		t.Fatalf("%+v", a)
	}
	before := time.Now()
	src.set(errors.New("HALO site offline"))
	a, err := h.WorklistAnswer(context.Background(), "default")
	if err != nil || !a.Stale || len(a.Orders) != 1 || a.StaleSince.IsZero() || a.StaleSince.After(before) {
		t.Fatalf("answer %+v, %v; want the stored worklist, stale since the last answer", a, err)
	}
	src.set(nil, appt("A1", "P1"), appt("A2", "P2"))
	a, _ = h.WorklistAnswer(context.Background(), "default")
	if a.Stale || len(a.Orders) != 2 {
		t.Fatalf("after recovery %+v", a)
	}
}

// Twenty tablets at once: one upstream answer, stored once.
func TestConcurrentWorklistsStoreOnce(t *testing.T) {
	src := &cloudSource{}
	h := newCloudHub(t, src)
	src.set(nil, appt("A1", "P1"))
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wl, _ := h.Worklist(context.Background(), "default")
			if len(wl) == 1 {
				ids[i] = wl[0].ID
			}
		}()
	}
	wg.Wait()
	for i := range ids {
		if ids[i] == "" || ids[i] != ids[0] {
			t.Fatalf("tablet %d saw %q, tablet 0 %q", i, ids[i], ids[0])
		}
	}
	orders, _ := h.store.Orders(context.Background(), storeFilterAll())
	if len(orders) != 1 {
		t.Fatalf("%d orders stored", len(orders))
	}
}

// While a group's tablets wait, the hub asks again every pollInterval; a
// new appointment is stored and the group woken without a tablet asking.
func TestRepullWakesWaitingTablets(t *testing.T) {
	src := &cloudSource{poll: 50 * time.Millisecond}
	h := newCloudHub(t, src)
	events, err := h.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	src.set(nil)
	worklist(t, h, "cardio") // a cardio tablet asked: the group is active
	n := src.calls.Load()
	add := appt("A9", "P9")
	add.Group = "cardio"
	src.set(nil, add)
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Kind == control.EventOrders && ev.Group == "cardio" {
				wl, _ := h.store.Worklist(context.Background(), "cardio")
				if len(wl) != 1 || src.calls.Load() <= n {
					t.Fatalf("woken with worklist %v after %d calls", wl, src.calls.Load())
				}
				return
			}
		case <-deadline:
			t.Fatal("the new appointment never reached the waiting group")
		}
	}
}

func storeFilterAll() store.OrderFilter { return store.OrderFilter{} }
