// Package pull is what the connectors of cloud EHRs share, whose
// appointments the hub asks for when a tablet reads its worklist (Best
// Practice through HALO Connect; Vena and Webdoc through Leyr).
//
// A Source wraps one connector's upstream call (a Fetch): requests that
// arrive while a call is under way share it (single flight); an answer
// serves every request for MinInterval; each call has its own Timeout,
// whoever asked; a failure is reported (health names the cause) and the
// hub serves what it stored before, marked stale. Failures that say the
// EHR is down (5xx, timeouts, unreadable answers) open a circuit after a
// few in a row: the EHR is not asked again for a pause that doubles while
// it stays down, and every request in between is answered at once.
// Refused credentials and refused requests are held off longer: a wrong
// key is not retried in a loop. A 429 waits for its Retry-After.
//
// The package also has the config keys every pull connection shares
// (Settings), the routing maps (Routing), the classified error (Error)
// and lenient date parsers for EHR data.
package pull

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
)

// Fetch is one upstream call: every appointment of the window, mapped.
// It must return a classified *Error (or an error Classify understands)
// and honour ctx.
type Fetch func(ctx context.Context, w Window) (Batch, error)

// Options tune a Source; zero values take the defaults.
type Options struct {
	// Connection names the health components ("conn:<connection>/pull"
	// and ".../pull-rows").
	Connection string
	// EHR names the upstream for people ("HALO Connect", "Leyr").
	EHR string
	// Before and After span the window around now (defaults 2h, 12h).
	Before, After time.Duration
	// MinInterval (15s), PollInterval (30s), Timeout (8s): see Settings.
	MinInterval, PollInterval, Timeout time.Duration
	// FailuresToOpen failures in a row open the circuit (default 3);
	// it stays open OpenFor (30s), doubling while the EHR stays down, up
	// to MaxOpenFor (5m).
	FailuresToOpen      int
	OpenFor, MaxOpenFor time.Duration
	// HoldFor is how long refused credentials or a refused request keep
	// the EHR from being asked (default 5m, doubling up to MaxHoldFor 1h).
	HoldFor, MaxHoldFor time.Duration
	// DefaultGroup is the group of orders that name none (default "default").
	DefaultGroup string
	// Now replaces the clock (tests).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Before < 0 {
		o.Before = 0
	}
	if o.Before == 0 && o.After == 0 {
		o.Before = 2 * time.Hour
	}
	def(&o.After, 12*time.Hour)
	def(&o.MinInterval, 15*time.Second)
	def(&o.PollInterval, 30*time.Second)
	def(&o.Timeout, 8*time.Second)
	if o.FailuresToOpen <= 0 {
		o.FailuresToOpen = 3
	}
	def(&o.OpenFor, 30*time.Second)
	def(&o.MaxOpenFor, 5*time.Minute)
	def(&o.HoldFor, 5*time.Minute)
	def(&o.MaxHoldFor, time.Hour)
	if o.DefaultGroup == "" {
		o.DefaultGroup = "default"
	}
	if o.EHR == "" {
		o.EHR = "the EHR"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Source is a connector.PullSource around a Fetch. Safe for concurrent use.
type Source struct {
	fetch Fetch
	opts  Options
	log   logrus.FieldLogger
	rep   *domain.Reporter // conn:<name>/pull
	rows  *domain.Reporter // conn:<name>/pull-rows

	mu   sync.Mutex
	cur  *call   // the upstream call under way
	last *answer // the last good answer
	seq  uint64
	// The circuit: failures in a row, how often it opened, until when
	// nobody asks, and why.
	failures   int
	opened     int
	held       int
	blocked    time.Time
	blockCause *Error
	rowsWarned bool
}

type call struct {
	done chan struct{}
	a    *answer
	err  error
}

type answer struct {
	seq    uint64
	at     time.Time
	orders []domain.Order
	groups map[string][]domain.Order
}

// New returns a Source calling fetch. health receives the components'
// reports (nil: none), log the failures (nil: none).
func New(fetch Fetch, opts Options, health domain.HealthReporter, log logrus.FieldLogger) *Source {
	opts = opts.withDefaults()
	if log == nil {
		l := logrus.New()
		l.Out = nopWriter{}
		log = l
	}
	comp := "conn:" + opts.Connection + "/pull"
	s := &Source{
		fetch: fetch, opts: opts, log: log.WithField("component", comp),
		rep:  domain.NewReporter(health, comp),
		rows: domain.NewReporter(health, comp+"-rows"),
	}
	s.rep.Set(domain.SeverityOK, CodeIdle, map[string]string{"ehr": opts.EHR}, "")
	return s
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// Component returns the health component the source reports as.
func (s *Source) Component() string { return s.rep.Component() }

// PollInterval is how often the hub should ask again while tablets wait.
func (s *Source) PollInterval() time.Duration { return s.opts.PollInterval }

// Pull returns the orders of group from an answer of the EHR at most
// MinInterval old, asking the EHR when there is none; an error when it
// could not be asked (the hub then serves what it stored).
func (s *Source) Pull(ctx context.Context, group string) ([]domain.Order, error) {
	orders, _, err := s.PullVersioned(ctx, group)
	return orders, err
}

// PullVersioned is Pull with the answer's version: the same version means
// the same upstream answer, which the hub need not store again.
func (s *Source) PullVersioned(ctx context.Context, group string) ([]domain.Order, uint64, error) {
	a, err := s.answer(ctx)
	if err != nil {
		return nil, 0, err
	}
	if group == "" {
		group = s.opts.DefaultGroup
	}
	return a.groups[group], a.seq, nil
}

func (s *Source) answer(ctx context.Context) (*answer, error) {
	s.mu.Lock()
	now := s.opts.Now()
	if s.last != nil && now.Sub(s.last.at) < s.opts.MinInterval {
		a := s.last
		s.mu.Unlock()
		return a, nil
	}
	if now.Before(s.blocked) {
		err := s.blockedErr()
		s.mu.Unlock()
		return nil, err
	}
	c := s.cur
	if c == nil {
		c = &call{done: make(chan struct{})}
		s.cur = c
		go s.run(c)
	}
	s.mu.Unlock()
	select {
	case <-c.done:
		return c.a, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// blockedErr is the answer while the circuit is open; s.mu is held.
func (s *Source) blockedErr() error {
	c := s.blockCause
	return &Error{Kind: c.Kind, Code: c.Code, Args: c.Args,
		Err: fmt.Errorf("%s is not asked again before %s: %w", s.opts.EHR, s.blocked.Format(time.TimeOnly), c.Err)}
}

// run makes one upstream call, under its own timeout: the requests that
// wait for it may go away, the call goes on for the next ones.
func (s *Source) run(c *call) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	now := s.opts.Now()
	w := Window{From: now.Add(-s.opts.Before), To: now.Add(s.opts.After)}
	start := time.Now()
	b, err := s.safeFetch(ctx, w)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	took := time.Since(start)
	if err != nil {
		e := Classify(err)
		if errors.Is(err, context.DeadlineExceeded) {
			e = Fail(KindTimeout, CodeTimeout, map[string]string{"timeout": s.opts.Timeout.String()},
				fmt.Errorf("%s did not answer within %s: %w", s.opts.EHR, s.opts.Timeout, err))
		}
		s.failed(e)
		c.err = e
		close(c.done)
		return
	}
	groups := s.split(b.Orders)
	s.mu.Lock()
	s.seq++
	a := &answer{seq: s.seq, at: s.opts.Now(), orders: b.Orders, groups: groups}
	s.last, s.cur = a, nil
	s.failures, s.opened, s.held, s.blocked, s.blockCause = 0, 0, 0, time.Time{}, nil
	s.mu.Unlock()
	s.rep.Moved(CodeOK, map[string]string{"ehr": s.opts.EHR, "count": strconv.Itoa(len(b.Orders))})
	s.reportNotes(b.Notes)
	s.log.WithFields(logrus.Fields{"appointments": len(b.Orders), "notes": len(b.Notes), "took": took.Round(time.Millisecond)}).Debug("appointments read")
	c.a = a
	close(c.done)
}

func (s *Source) safeFetch(ctx context.Context, w Window) (b Batch, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Fail(KindBadAnswer, CodeBadAnswer, nil, fmt.Errorf("reading the answer of %s failed (internal error: %v)", s.opts.EHR, r))
		}
	}()
	return s.fetch(ctx, w)
}

// failed counts a failure, opens or holds the circuit, and reports.
func (s *Source) failed(e *Error) {
	s.mu.Lock()
	s.cur = nil
	now := s.opts.Now()
	var until time.Time
	switch e.Kind {
	case KindAuth, KindRefused:
		s.held++
		until = now.Add(doubled(s.opts.HoldFor, s.opts.MaxHoldFor, s.held))
	case KindRateLimited:
		wait := e.RetryAfter
		if wait <= 0 {
			wait = s.opts.MinInterval
		}
		until = now.Add(min(wait, s.opts.MaxHoldFor))
	default:
		s.failures++
		if s.failures >= s.opts.FailuresToOpen {
			s.opened++
			until = now.Add(doubled(s.opts.OpenFor, s.opts.MaxOpenFor, s.opened))
		} else {
			// Not open yet: still not asked again at once, so that a burst
			// of requests cannot turn into a burst of failing calls.
			until = now.Add(s.opts.MinInterval)
		}
	}
	if !until.IsZero() {
		s.blocked, s.blockCause = until, e
	}
	since := ""
	if s.last != nil {
		since = s.last.at.Format(time.RFC3339)
	}
	s.mu.Unlock()
	args := map[string]string{"ehr": s.opts.EHR}
	for k, v := range e.Args {
		args[k] = v
	}
	if since != "" {
		args["since"] = since
	}
	if !until.IsZero() {
		args["next"] = until.Format(time.TimeOnly)
	}
	sev := domain.SeverityWarning
	if e.Kind == KindAuth || e.Kind == KindRefused {
		sev = domain.SeverityError // a person must correct something
	}
	s.rep.Failed(sev, e.Code, args, e)
	l := s.log.WithError(e).WithField("code", e.Code)
	if !until.IsZero() {
		l = l.WithField("next", until.Format(time.RFC3339))
	}
	l.Warn("appointments could not be read; tablets get the worklist as stored, marked stale")
}

// doubled is base doubled n-1 times, capped at max.
func doubled(base, max time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// maxNotes bounds the notes listed in the rows' health detail.
const maxNotes = 20

func (s *Source) reportNotes(notes []Note) {
	if len(notes) == 0 {
		s.mu.Lock()
		warned := s.rowsWarned
		s.rowsWarned = false
		s.mu.Unlock()
		if warned {
			s.rows.Set(domain.SeverityOK, CodeRowsOK, map[string]string{"ehr": s.opts.EHR}, "")
		}
		return
	}
	s.mu.Lock()
	s.rowsWarned = true
	s.mu.Unlock()
	lines := make([]string, 0, min(len(notes), maxNotes)+1)
	for i, n := range notes {
		if i == maxNotes {
			lines = append(lines, fmt.Sprintf("… and %d more", len(notes)-maxNotes))
			break
		}
		lines = append(lines, n.String())
	}
	s.rows.Set(domain.SeverityWarning, CodeRowsSkipped,
		map[string]string{"ehr": s.opts.EHR, "count": strconv.Itoa(len(notes)), "first": notes[0].String()},
		strings.Join(lines, "\n"))
	s.log.WithField("rows", len(notes)).WithField("first", notes[0].String()).Warn("rows of the answer could not be read as appointments")
}

// split groups orders by tablet group, allocating each group's slice once
// (orders are large; 10,000 of them should not be copied while growing).
func (s *Source) split(orders []domain.Order) map[string][]domain.Order {
	group := func(o *domain.Order) string {
		if o.Group == "" {
			return s.opts.DefaultGroup
		}
		return o.Group
	}
	counts := map[string]int{}
	for i := range orders {
		counts[group(&orders[i])]++
	}
	out := make(map[string][]domain.Order, len(counts))
	if len(counts) == 1 {
		for g := range counts {
			out[g] = orders
		}
		return out
	}
	for g, n := range counts {
		out[g] = make([]domain.Order, 0, n)
	}
	for i := range orders {
		g := group(&orders[i])
		out[g] = append(out[g], orders[i])
	}
	return out
}
