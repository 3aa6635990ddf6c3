package pull

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// health keeps every report by component.
type health struct {
	mu   sync.Mutex
	last map[string]domain.Health
}

func (h *health) Report(x domain.Health) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil {
		h.last = map[string]domain.Health{}
	}
	h.last[x.Component] = x
}

func (h *health) of(c string) domain.Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last[c]
}

// upstream is a Fetch whose answers the test sets.
type upstream struct {
	calls atomic.Int32
	mu    sync.Mutex
	fn    func(ctx context.Context, w Window) (Batch, error)
}

func (u *upstream) fetch(ctx context.Context, w Window) (Batch, error) {
	u.calls.Add(1)
	u.mu.Lock()
	fn := u.fn
	u.mu.Unlock()
	return fn(ctx, w)
}

func (u *upstream) set(fn func(ctx context.Context, w Window) (Batch, error)) {
	u.mu.Lock()
	u.fn = fn
	u.mu.Unlock()
}

func orders(groups ...string) Batch {
	var b Batch
	for i, g := range groups {
		b.Orders = append(b.Orders, domain.Order{PlacerNumber: fmt.Sprint("A", i), Group: g, Patient: domain.Patient{ID: "P"}})
	}
	return b
}

func source(t *testing.T, u *upstream, c *clock, h *health) *Source {
	t.Helper()
	return New(u.fetch, Options{Connection: "bp", EHR: "HALO Connect", MinInterval: 15 * time.Second,
		Timeout: 200 * time.Millisecond, OpenFor: 30 * time.Second, HoldFor: 5 * time.Minute, Now: c.now}, h, nil)
}

// Twenty tablets at once share one upstream call; the answer then serves
// every request for MinInterval, split by group.
func TestSingleFlightAndCache(t *testing.T) {
	u, c, h := &upstream{}, newClock(), &health{}
	release := make(chan struct{})
	u.set(func(ctx context.Context, w Window) (Batch, error) {
		<-release
		return orders("", "cardio", "default"), nil
	})
	s := source(t, u, c, h)
	if hh := h.of("conn:bp/pull"); hh.Code != CodeIdle || hh.Arg("ehr") != "HALO Connect" {
		t.Fatalf("health before any request %+v", hh)
	}
	var wg sync.WaitGroup
	got := make([]int, 20)
	errs := make([]error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := s.Pull(context.Background(), "default")
			got[i], errs[i] = len(o), err
		}()
	}
	for u.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i := range 20 {
		if errs[i] != nil || got[i] != 2 {
			t.Fatalf("tablet %d: %d orders, %v; want the 2 of the default group", i, got[i], errs[i])
		}
	}
	if n := u.calls.Load(); n != 1 {
		t.Fatalf("%d upstream calls for 20 concurrent requests, want 1", n)
	}
	_, v1, _ := s.PullVersioned(context.Background(), "cardio")
	c.add(14 * time.Second)
	cardio, v2, err := s.PullVersioned(context.Background(), "cardio")
	if err != nil || len(cardio) != 1 || v1 != v2 || u.calls.Load() != 1 {
		t.Fatalf("within minInterval: %d orders, version %d→%d, %d calls, %v", len(cardio), v1, v2, u.calls.Load(), err)
	}
	c.add(2 * time.Second)
	if _, v3, _ := s.PullVersioned(context.Background(), "cardio"); u.calls.Load() != 2 || v3 == v2 {
		t.Fatalf("after minInterval: %d calls, version %d; want a new call and version", u.calls.Load(), v3)
	}
	if hh := h.of("conn:bp/pull"); hh.Code != CodeOK || hh.Arg("count") != "3" {
		t.Fatalf("health %+v", hh)
	}
}

// A slow EHR: the call is cut off at the per-call timeout, whatever the
// requests' own deadlines; the request is told at once after that.
func TestTimeout(t *testing.T) {
	u, c, h := &upstream{}, newClock(), &health{}
	u.set(func(ctx context.Context, w Window) (Batch, error) {
		<-ctx.Done()
		return Batch{}, ctx.Err()
	})
	s := source(t, u, c, h)
	start := time.Now()
	_, err := s.Pull(context.Background(), "default")
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindTimeout || e.Code != CodeTimeout {
		t.Fatalf("err %v, want a timeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %v with a 200ms timeout", took)
	}
	if hh := h.of("conn:bp/pull"); hh.Code != CodeTimeout || hh.Severity != domain.SeverityWarning || hh.Arg("timeout") != "200ms" {
		t.Fatalf("health %+v", hh)
	}
	// Asked again at once, it answers from the pause without calling.
	if _, err := s.Pull(context.Background(), "default"); err == nil || u.calls.Load() != 1 {
		t.Fatalf("second request: %v after %d calls; want an error without a call", err, u.calls.Load())
	}
}

// A 500 storm: after three failures the circuit opens; requests are
// answered at once without calling; after the pause one call probes; the
// pause doubles while the EHR stays down and resets when it answers.
func TestCircuitBreaker(t *testing.T) {
	u, c, h := &upstream{}, newClock(), &health{}
	down := true
	var mu sync.Mutex
	u.set(func(ctx context.Context, w Window) (Batch, error) {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return Batch{}, HTTPStatus(500, nil, "", errors.New("HALO answered 500 Internal Server Error"))
		}
		return orders(""), nil
	})
	s := source(t, u, c, h)
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		if _, err := s.Pull(ctx, ""); err == nil {
			t.Fatalf("call %d succeeded", i)
		}
		c.add(16 * time.Second) // past the short pause after each failure
	}
	if n := u.calls.Load(); n != 3 {
		t.Fatalf("%d calls, want 3", n)
	}
	// Open now (opened at the third failure for 30s; 16s have passed).
	for range 100 {
		if _, err := s.Pull(ctx, ""); err == nil {
			t.Fatal("served while the circuit is open")
		}
	}
	if n := u.calls.Load(); n != 3 {
		t.Fatalf("%d calls while open, want none more", n)
	}
	if hh := h.of("conn:bp/pull"); hh.Code != CodeServerError || hh.Arg("status") != "500" || hh.Arg("next") == "" {
		t.Fatalf("health %+v", hh)
	}
	c.add(15 * time.Second) // the 30s pause is over: one probe, which fails and doubles the pause
	s.Pull(ctx, "")
	if n := u.calls.Load(); n != 4 {
		t.Fatalf("%d calls after the pause, want one probe", n)
	}
	c.add(31 * time.Second)
	if _, err := s.Pull(ctx, ""); err == nil || u.calls.Load() != 4 {
		t.Fatalf("probed again after 31s (%d calls, %v); the pause should have doubled to 60s", u.calls.Load(), err)
	}
	c.add(30 * time.Second)
	mu.Lock()
	down = false
	mu.Unlock()
	if o, err := s.Pull(ctx, ""); err != nil || len(o) != 1 {
		t.Fatalf("after recovery: %v, %v", o, err)
	}
	if hh := h.of("conn:bp/pull"); hh.Code != CodeOK || hh.LastError == "" {
		t.Fatalf("health after recovery %+v; want ok with the last error kept", hh)
	}
}

// Refused credentials: the EHR is not asked again for the hold-off, and
// health names the credential, as an error (a person must act).
func TestRefusedCredentialsAreNotRetriedInALoop(t *testing.T) {
	u, c, h := &upstream{}, newClock(), &health{}
	u.set(func(ctx context.Context, w Window) (Batch, error) {
		return Batch{}, HTTPStatus(http.StatusUnauthorized, nil, "HALO API key (halo.apiKey)",
			errors.New("HALO answered 401 Unauthorized: Subscription Key Invalid"))
	})
	s := source(t, u, c, h)
	for range 50 {
		s.Pull(context.Background(), "")
		c.add(5 * time.Second) // 250s in all, within the 5-minute hold
	}
	if n := u.calls.Load(); n != 1 {
		t.Fatalf("%d calls with a refused key, want 1", n)
	}
	hh := h.of("conn:bp/pull")
	if hh.Code != CodeAuthRefused || hh.Severity != domain.SeverityError || hh.Arg("credential") != "HALO API key (halo.apiKey)" {
		t.Fatalf("health %+v", hh)
	}
	c.add(time.Minute)
	s.Pull(context.Background(), "")
	if n := u.calls.Load(); n != 2 {
		t.Fatalf("%d calls after the hold, want one more", n)
	}
}

func TestRateLimitWaitsForRetryAfter(t *testing.T) {
	u, c, h := &upstream{}, newClock(), &health{}
	u.set(func(ctx context.Context, w Window) (Batch, error) {
		e := HTTPStatus(http.StatusTooManyRequests, http.Header{"Retry-After": {"120"}}, "", errors.New("429 Rate Limit Exceeded"))
		return Batch{}, e
	})
	s := source(t, u, c, h)
	s.Pull(context.Background(), "")
	c.add(119 * time.Second)
	s.Pull(context.Background(), "")
	if n := u.calls.Load(); n != 1 {
		t.Fatalf("%d calls within Retry-After", n)
	}
	c.add(2 * time.Second)
	s.Pull(context.Background(), "")
	if n := u.calls.Load(); n != 2 {
		t.Fatalf("%d calls after Retry-After", n)
	}
}

// Rows that could not be read are named in their own health component;
// it clears when an answer has none.
func TestRowNotes(t *testing.T) {
	u, c, h := &upstream{}, newClock(), &health{}
	notes := []Note{{Row: 3, ID: "A3", Problem: `AppointmentDate "2026-02-30" is not a date`, Skipped: true}, {Row: 7, Problem: "no appointment ID", Skipped: true}}
	u.set(func(ctx context.Context, w Window) (Batch, error) {
		b := orders("")
		b.Notes = notes
		return b, nil
	})
	s := source(t, u, c, h)
	if o, err := s.Pull(context.Background(), ""); err != nil || len(o) != 1 {
		t.Fatalf("pull: %v, %v; the good rows are served", o, err)
	}
	hh := h.of("conn:bp/pull-rows")
	want := `row 3 (appointment A3): AppointmentDate "2026-02-30" is not a date; skipped`
	if hh.Code != CodeRowsSkipped || hh.Severity != domain.SeverityWarning || hh.Arg("count") != "2" || hh.Arg("first") != want ||
		!strings.Contains(hh.Detail, "row 7: no appointment ID; skipped") {
		t.Fatalf("rows health %+v", hh)
	}
	u.set(func(ctx context.Context, w Window) (Batch, error) { return orders(""), nil })
	c.add(time.Minute)
	s.Pull(context.Background(), "")
	if hh := h.of("conn:bp/pull-rows"); hh.Code != CodeRowsOK || hh.Severity != domain.SeverityOK {
		t.Fatalf("rows health after a clean answer %+v", hh)
	}
}

// A request that goes away does not cancel the shared call.
func TestCallerCancelDoesNotCancelTheCall(t *testing.T) {
	u, c, h := &upstream{}, newClock(), &health{}
	release := make(chan struct{})
	u.set(func(ctx context.Context, w Window) (Batch, error) {
		select {
		case <-release:
			return orders(""), nil
		case <-ctx.Done():
			return Batch{}, ctx.Err()
		}
	})
	s := New(u.fetch, Options{Connection: "bp", Timeout: 10 * time.Second, Now: c.now}, h, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.Pull(ctx, "")
		done <- err
	}()
	for u.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: %v", err)
	}
	close(release)
	if o, err := s.Pull(context.Background(), ""); err != nil || len(o) != 1 || u.calls.Load() != 1 {
		t.Fatalf("next request: %v, %v, %d calls; want the shared call's answer", o, err, u.calls.Load())
	}
}

func TestWindowAndPanic(t *testing.T) {
	u, c, h := &upstream{}, newClock(), &health{}
	var got Window
	u.set(func(ctx context.Context, w Window) (Batch, error) {
		got = w
		panic("index out of range")
	})
	s := New(u.fetch, Options{Connection: "bp", Before: time.Hour, After: 3 * time.Hour, Now: c.now}, h, nil)
	_, err := s.Pull(context.Background(), "")
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindBadAnswer {
		t.Fatalf("panic in fetch: %v", err)
	}
	if want := (Window{From: c.now().Add(-time.Hour), To: c.now().Add(3 * time.Hour)}); got != want {
		t.Fatalf("window %+v, want %+v", got, want)
	}
}
