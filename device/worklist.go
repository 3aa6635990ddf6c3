package device

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/problem"
)

// notifier hands out one channel per group that is closed (and replaced)
// when the group's worklist changes, and counts the changes per group.
type notifier struct {
	mu    sync.Mutex
	chans map[string]chan struct{}
	gens  map[string]uint64
}

func newNotifier() *notifier {
	return &notifier{chans: make(map[string]chan struct{}), gens: make(map[string]uint64)}
}

// channel returns the channel closed by the next notify(group) and the
// group's current generation. Take it before reading the worklist, so that
// no change is missed in between.
func (n *notifier) channel(group string) (<-chan struct{}, uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ch, ok := n.chans[group]
	if !ok {
		ch = make(chan struct{})
		n.chans[group] = ch
	}
	return ch, n.gens[group]
}

func (n *notifier) notify(group string) {
	n.mu.Lock()
	ch, ok := n.chans[group]
	delete(n.chans, group)
	n.gens[group]++
	n.mu.Unlock()
	if ok {
		close(ch)
	}
}

// flight is one worklist read that requests of the same group and
// generation share: when a change wakes 200 long-pollers, the worklist is
// read and encoded once, not 200 times.
type flight struct {
	gen      uint64
	done     chan struct{}
	finished time.Time
	body     []byte
	etag     string
	err      error
}

type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

// readWorklist returns the encoded worklist of group as of generation gen
// or later: it joins a read of the same generation that is under way or
// finished less than WorklistCacheTTL ago, or starts one. The short reuse
// bounds how stale a pull-type connector's worklist (which changes without
// GroupChanged) can be; a change stored through the hub starts a new
// generation and is never served stale.
func (s *Server) readWorklist(ctx context.Context, group string, gen uint64) ([]byte, string, error) {
	s.flights.mu.Lock()
	if s.flights.m == nil {
		s.flights.m = make(map[string]*flight)
	}
	f := s.flights.m[group]
	if f != nil && f.gen == gen && s.reusable(f) {
		s.flights.mu.Unlock()
		select {
		case <-f.done:
			return f.body, f.etag, f.err
		case <-ctx.Done():
			return nil, "", ctx.Err()
		}
	}
	f = &flight{gen: gen, done: make(chan struct{})}
	s.flights.m[group] = f
	s.flights.mu.Unlock()

	// The read is shared: the first caller going away must not cancel it.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	var ans WorklistAnswer
	var err error
	if sw, ok := s.hub.(StaleWorklists); ok {
		ans, err = sw.WorklistAnswer(rctx, group)
	} else {
		ans.Orders, err = s.hub.Worklist(rctx, group)
	}
	cancel()
	if err == nil {
		f.body, f.etag, f.err = encodeWorklist(group, ans, s.opts.MaxWorklist)
	} else {
		f.err = err
	}
	s.flights.mu.Lock()
	f.finished = time.Now()
	if f.err != nil && s.flights.m[group] == f {
		delete(s.flights.m, group) // errors are not reused
	}
	s.flights.mu.Unlock()
	close(f.done)
	return f.body, f.etag, f.err
}

// reusable reports whether a flight may serve another request; flights.mu is held.
func (s *Server) reusable(f *flight) bool {
	if f.finished.IsZero() {
		return true // under way
	}
	return f.err == nil && s.opts.WorklistCacheTTL > 0 && time.Since(f.finished) < s.opts.WorklistCacheTTL
}

// WorklistAnswer is a group's worklist with how current it is.
type WorklistAnswer struct {
	Orders []domain.Order
	// Stale says that the EHR the hub asks for appointments could not be
	// asked: Orders are what the hub stored. StaleSince is when the EHR
	// last answered (zero: not since the hub started).
	Stale      bool
	StaleSince time.Time
}

// StaleWorklists is a Hub whose worklists may come from an EHR it asks
// (cloud EHRs): the endpoint then reads worklists through it and tells
// tablets when one is stale.
type StaleWorklists interface {
	WorklistAnswer(ctx context.Context, group string) (WorklistAnswer, error)
}

// encodeWorklist renders the worklist and its strong ETag (a hash of the
// exact bytes sent).
func encodeWorklist(group string, ans WorklistAnswer, max int) (body []byte, etag string, err error) {
	orders := ans.Orders
	wl := Worklist{Group: group}
	if max > 0 && len(orders) > max {
		wl.Omitted = len(orders) - max
		orders = orders[:max]
	}
	wl.Appointments = make([]AppointmentSummary, 0, len(orders))
	for _, o := range orders {
		wl.Appointments = append(wl.Appointments, SummaryOf(o))
	}
	if ans.Stale {
		wl.Stale, wl.StaleSince = true, ans.StaleSince.UTC()
	}
	body, err = json.Marshal(wl)
	if err != nil {
		return nil, "", fmt.Errorf("device: encode worklist: %w", err)
	}
	body = append(body, '\n')
	sum := sha256.Sum256(body)
	return body, `"` + hex.EncodeToString(sum[:16]) + `"`, nil
}

// etagMatches implements If-None-Match with strong comparison: "*" or any
// listed tag equal to etag. Weak tags (W/"...") never match a strong one.
func etagMatches(ifNoneMatch, etag string) bool {
	if ifNoneMatch == "" {
		return false
	}
	for _, t := range strings.Split(ifNoneMatch, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// ParseWait reads the ?wait= value: a Go duration ("25s", "1m") or whole
// seconds ("25"). It is capped at max.
func ParseWait(v string, max time.Duration) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 || n > 86400 {
			return 0, fmt.Errorf("wait must be between 0 and %s", max)
		}
		d = time.Duration(n) * time.Second
	} else {
		d, err = time.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("wait must be a duration like 25s, not %q", v)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("wait must not be negative")
	}
	if d > max {
		d = max
	}
	return d, nil
}

func (s *Server) handleWorklist(w http.ResponseWriter, r *http.Request, dev domain.Device) {
	wait, err := ParseWait(r.URL.Query().Get("wait"), s.opts.LongPollMax)
	if err != nil {
		writeProblem(w, problem.New(http.StatusBadRequest, "invalid-parameter", "Invalid query parameter", err.Error()).WithField("wait"))
		return
	}
	inm := r.Header.Get("If-None-Match")
	shutdown := s.shutdownChan()
	var deadline <-chan time.Time
	if wait > 0 && inm != "" {
		if n := s.pollers.Add(1); n > int64(s.opts.MaxLongPollers) {
			s.pollers.Add(-1)
			p := problem.New(http.StatusServiceUnavailable, "too-many-waiters", "Too many waiting tablets",
				fmt.Sprintf("%d tablets are long-polling already; retry shortly or poll without wait", s.opts.MaxLongPollers))
			p.RetryAfter = 5
			writeProblem(w, p)
			return
		}
		defer s.pollers.Add(-1)
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		changed, gen := s.notify.channel(dev.Group)
		body, etag, err := s.readWorklist(r.Context(), dev.Group, gen)
		if err != nil {
			if r.Context().Err() != nil {
				return
			}
			s.log.WithError(err).WithField("group", dev.Group).Error("device: read worklist")
			p := problem.New(http.StatusServiceUnavailable, "worklist-unavailable", "Worklist unavailable",
				"the hub could not read the worklist right now; try again shortly")
			p.RetryAfter = 5
			writeProblem(w, p)
			return
		}
		match := etagMatches(inm, etag)
		if !match || deadline == nil {
			writeWorklist(w, r, body, etag, match)
			return
		}
		select {
		case <-changed:
			continue
		case <-deadline:
		case <-shutdown:
		case <-r.Context().Done():
			return
		}
		writeWorklist(w, r, body, etag, true)
		return
	}
}

func writeWorklist(w http.ResponseWriter, r *http.Request, body []byte, etag string, notModified bool) {
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	if notModified {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// ownOrder returns the order id if it belongs to group; otherwise a 404
// problem, the same for another group's order as for a missing one.
func (s *Server) ownOrder(r *http.Request, id, group string) (domain.Order, *problem.Problem) {
	notFound := problem.New(http.StatusNotFound, "appointment-not-found", "No such appointment",
		fmt.Sprintf("appointment %q is not on this tablet group's worklist", id)).WithField("id")
	if id == "" || len(id) > maxTextField {
		return domain.Order{}, notFound
	}
	o, err := s.st.Order(r.Context(), id)
	if errors.Is(err, domain.ErrNotFound) {
		return o, notFound
	}
	if err != nil {
		s.log.WithError(err).WithField("order", id).Error("device: read appointment")
		return o, storeProblem()
	}
	if o.Group != group {
		return domain.Order{}, notFound
	}
	return o, nil
}

func (s *Server) handleAppointment(w http.ResponseWriter, r *http.Request, dev domain.Device) {
	o, p := s.ownOrder(r, r.PathValue("id"), dev.Group)
	if p != nil {
		writeProblem(w, p)
		return
	}
	writeJSON(w, http.StatusOK, AppointmentOf(o))
}

func (s *Server) handleStart(w http.ResponseWriter, r *http.Request, dev domain.Device) {
	id := r.PathValue("id")
	if _, p := s.ownOrder(r, id, dev.Group); p != nil {
		writeProblem(w, p)
		return
	}
	o, err := s.st.StartOrder(r.Context(), id, dev.Group, dev.ID)
	if errors.Is(err, domain.ErrNotOnWorklist) {
		writeProblem(w, problem.New(http.StatusConflict, "appointment-closed", "Appointment not open",
			fmt.Sprintf("appointment %q is done, cancelled or deleted and cannot be started", id)).WithField("id"))
		return
	}
	if errors.Is(err, domain.ErrNotFound) {
		writeProblem(w, problem.New(http.StatusNotFound, "appointment-not-found", "No such appointment",
			fmt.Sprintf("appointment %q is not on this tablet group's worklist", id)).WithField("id"))
		return
	}
	if err != nil {
		s.log.WithError(err).WithField("order", id).Error("device: start appointment")
		writeProblem(w, storeProblem())
		return
	}
	s.log.WithFields(map[string]any{"order": id, "device": dev.ID}).Info("device: appointment started")
	s.GroupChanged(dev.Group)
	writeJSON(w, http.StatusOK, AppointmentOf(o))
}
