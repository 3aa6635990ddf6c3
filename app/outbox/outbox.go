package outbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/sirupsen/logrus"
)

// queue is what the outbox needs from the store; *store.Store has it.
// Tests put a faulty store in front of it.
type queue interface {
	Now() time.Time
	NextDelivery(ctx context.Context, conn string, rule store.PickRule, now time.Time) (store.Next, error)
	ClaimDelivery(ctx context.Context, id int64, from []domain.DeliveryState) (domain.Delivery, error)
	CompleteDelivery(ctx context.Context, claimed domain.Delivery, o store.Outcome) (store.Completion, error)
	Advance(ctx context.Context, conn string, finished []store.Finished, release []domain.Delivery, rule store.PickRule, want int) (store.Step, error)
	DeliveryProgress(ctx context.Context, id int64) (domain.Progress, error)
	RecordProgress(ctx context.Context, claimed domain.Delivery, p domain.Progress) error
	RecoverInflight(ctx context.Context) (int, error)
	RetryNow(ctx context.Context, conn string) (int, error)
	Result(ctx context.Context, id string) (domain.Result, error)
	Order(ctx context.Context, id string) (domain.Order, error)
	QueueCounts(ctx context.Context, conn string, states ...domain.DeliveryState) (map[domain.DeliveryState]int, error)
	Delivery(ctx context.Context, id int64) (domain.Delivery, error)
	Attempts(ctx context.Context, deliveryID int64) ([]domain.Attempt, error)
	Deliveries(ctx context.Context, f store.DeliveryFilter) ([]domain.Delivery, error)
	OutboxStatus(ctx context.Context, now time.Time, also ...string) ([]store.QueueStatus, error)
	ResendDelivery(ctx context.Context, id int64, actor, reason string) (domain.Delivery, error)
	ResendDeliveries(ctx context.Context, conn string, states []domain.DeliveryState, actor, reason string) (int, error)
	CancelDelivery(ctx context.Context, id int64, actor, reason string) (store.Completion, error)
}

// Backoff is the wait before a retry: Initial, doubling with every failed
// attempt up to Max, shortened by a random fraction up to Jitter so that
// retries of many deliveries do not fall on the same instant.
type Backoff struct {
	Initial time.Duration // default 5 s
	Max     time.Duration // default 10 min
	// Jitter is the largest fraction taken off a wait (default 0.2;
	// negative for none).
	Jitter float64
}

// Default backoff values.
const (
	DefaultInitial = 5 * time.Second
	DefaultMax     = 10 * time.Minute
	DefaultJitter  = 0.2
)

func (b Backoff) withDefaults(d Backoff) Backoff {
	if b.Initial <= 0 {
		b.Initial = d.Initial
	}
	if b.Max <= 0 {
		b.Max = d.Max
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Jitter == 0 {
		b.Jitter = d.Jitter
	}
	if b.Jitter > 1 {
		b.Jitter = 1
	}
	return b
}

// Delay is the wait after the n-th failed attempt (n >= 1); r in [0,1)
// picks the jitter.
func (b Backoff) Delay(n int, r float64) time.Duration {
	d := b.Initial
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if b.Jitter > 0 {
		d -= time.Duration(float64(d) * b.Jitter * r)
	}
	return d
}

// AmbiguousPolicy says what happens to a send that was in flight when the
// hub stopped.
type AmbiguousPolicy string

// Ambiguous policies.
const (
	// AmbiguousHold leaves the delivery for a person to resend or cancel
	// (the default: never a silent duplicate).
	AmbiguousHold AmbiguousPolicy = "hold"
	// AmbiguousResend sends it again, for receivers that de-duplicate (HL7
	// by MSH-10, JSON by idempotency key) or where a duplicate is better
	// than waiting for a person.
	AmbiguousResend AmbiguousPolicy = "resend"
)

// Policy is how one connection's queue behaves.
type Policy struct {
	// Ambiguous is what to do with a send interrupted by a stop (default hold).
	Ambiguous AmbiguousPolicy
	// PassAfter is how many failed attempts a delivery may have before the
	// deliveries behind it go on without it (default 3; 1 never holds up
	// the queue; large values give strict FIFO). See the package doc.
	PassAfter int
	// Backoff overrides Options.Backoff for this connection (zero fields
	// take those of Options).
	Backoff Backoff
	// Label names the connection for people ("Birpis (HL7)"); default the
	// connection's name.
	Label string
}

// Defaults of Options.ClaimAhead and Options.AheadBudget.
const (
	DefaultClaimAhead  = 16
	DefaultAheadBudget = 10 * time.Millisecond
)

// DefaultPassAfter is Policy.PassAfter's default.
const DefaultPassAfter = 3

// Options tune the outbox; the zero value is right for the hub.
type Options struct {
	// Backoff between retries (default 5 s doubling to 10 min, jitter 0.2).
	Backoff Backoff
	// MaxSends bounds the sends in flight across all connections (default 4).
	MaxSends int
	// SendTimeout bounds one attempt (default 2 min); the connector's own
	// timeouts should be shorter.
	SendTimeout time.Duration
	// Grace is how long Run waits, after its context ends, for sends in
	// flight to finish (default 10 s). Sends still running then are
	// cancelled; those that end are recorded as ambiguous, the others are
	// found in flight at the next start.
	Grace time.Duration
	// Recheck is the longest a worker sleeps without looking at its queue
	// (default 30 s), so that changes made outside this process (a resend
	// with `mconnect delivery resend` while the hub runs) are picked up.
	Recheck time.Duration
	// Health receives each connection's health (component
	// "conn:<name>/outbox") when it changes.
	Health domain.HealthReporter
	// OnOrderDone is called after an order became done because every
	// delivery of its result succeeded (tablets' worklists refresh). It
	// runs on a worker goroutine and must not block.
	OnOrderDone func(domain.Order)
	// Rand returns numbers in [0,1) for the jitter (default math/rand/v2).
	Rand func() float64
	// ClaimAhead is the most deliveries of a connection claimed in one
	// transaction with the outcomes of the sends before them (default 16;
	// 1 claims only the next one). AheadBudget bounds them by time: only
	// as many as the EHR answers in that long at the pace of the last
	// sends (default 10 ms), so that after a crash no more than that is
	// flagged ambiguous.
	ClaimAhead  int
	AheadBudget time.Duration
}

func (o Options) withDefaults() Options {
	o.Backoff = o.Backoff.withDefaults(Backoff{Initial: DefaultInitial, Max: DefaultMax, Jitter: DefaultJitter})
	if o.MaxSends <= 0 {
		o.MaxSends = 4
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 2 * time.Minute
	}
	if o.Grace <= 0 {
		o.Grace = 10 * time.Second
	}
	if o.Recheck <= 0 {
		o.Recheck = 30 * time.Second
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.ClaimAhead <= 0 {
		o.ClaimAhead = DefaultClaimAhead
	}
	if o.AheadBudget <= 0 {
		o.AheadBudget = DefaultAheadBudget
	}
	return o
}

// ErrRunning is returned by Register once Run has started.
var ErrRunning = errors.New("outbox: already running; register connections before Run")

// Outbox delivers queued results to the registered outbound connections.
// Its methods are safe for concurrent use.
type Outbox struct {
	q    queue
	opts Options
	log  logrus.FieldLogger

	sends chan struct{} // one token per send in flight, across connections

	mu      sync.Mutex
	workers map[string]*worker
	running bool
}

// New returns an outbox working on st's queue.
func New(st *store.Store, opts Options, log logrus.FieldLogger) *Outbox {
	return newOutbox(st, opts, log)
}

func newOutbox(q queue, opts Options, log logrus.FieldLogger) *Outbox {
	if log == nil {
		l := logrus.New()
		l.Out = nopWriter{}
		log = l
	}
	opts = opts.withDefaults()
	return &Outbox{
		q:       q,
		opts:    opts,
		log:     log.WithField("component", "outbox"),
		sends:   make(chan struct{}, opts.MaxSends),
		workers: map[string]*worker{},
	}
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// Register adds an outbound connection: deliveries queued for connection
// (store.SaveResult's connection names) go to out under policy. Register
// all connections before Run.
func (o *Outbox) Register(connection string, out domain.Outbound, policy Policy) error {
	if connection == "" || out == nil {
		return fmt.Errorf("outbox: register %q: a connection needs a name and an outbound connector", connection)
	}
	switch policy.Ambiguous {
	case "":
		policy.Ambiguous = AmbiguousHold
	case AmbiguousHold, AmbiguousResend:
	default:
		return fmt.Errorf("outbox: register %q: unknown ambiguous policy %q (want hold or resend)", connection, policy.Ambiguous)
	}
	if policy.PassAfter <= 0 {
		policy.PassAfter = DefaultPassAfter
	}
	policy.Backoff = policy.Backoff.withDefaults(o.opts.Backoff)
	if policy.Label == "" {
		policy.Label = connection
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.running {
		return ErrRunning
	}
	if _, dup := o.workers[connection]; dup {
		return fmt.Errorf("outbox: connection %q registered twice", connection)
	}
	o.workers[connection] = newWorker(o, connection, out, policy)
	return nil
}

// Connections returns the registered connection names, sorted.
func (o *Outbox) Connections() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	names := make([]string, 0, len(o.workers))
	for n := range o.workers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (o *Outbox) worker(name string) *worker {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.workers[name]
}

// Notify wakes connection's worker at once (a result was just stored for
// it); "" wakes every worker. It never blocks.
func (o *Outbox) Notify(connection string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for name, w := range o.workers {
		if connection == "" || name == connection {
			w.notify()
		}
	}
}

// Run recovers the deliveries a previous run left in flight (they become
// ambiguous), then runs one worker per registered connection until ctx
// ends. It then stops picking deliveries, gives sends in flight
// Options.Grace to finish, and returns nil. While the store cannot be
// written at start, it keeps trying (and reports the fault) rather than
// returning.
func (o *Outbox) Run(ctx context.Context) error {
	o.mu.Lock()
	if o.running {
		o.mu.Unlock()
		return errors.New("outbox: Run called twice")
	}
	o.running = true
	workers := make([]*worker, 0, len(o.workers))
	for _, w := range o.workers {
		workers = append(workers, w)
	}
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		o.running = false
		o.mu.Unlock()
	}()

	for attempt := 1; ; attempt++ {
		n, err := o.q.RecoverInflight(ctx)
		if err == nil {
			if n > 0 {
				o.log.WithField("deliveries", n).Warn("deliveries were in flight when the hub stopped; they are flagged ambiguous (or resumed where their connector recorded a resumable step)")
			}
			for _, w := range workers {
				w.storeOK(true)
			}
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		o.log.WithError(err).Error("cannot recover the delivery queue; trying again")
		for _, w := range workers {
			w.storeFault(err, true)
		}
		if !sleepCtx(ctx, o.opts.Backoff.Delay(attempt, o.opts.Rand())) {
			return nil
		}
	}

	// Sends run under their own context so that a stop lets them finish
	// within the grace period instead of cutting them off mid-message.
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx, sendCtx)
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	<-ctx.Done()
	grace := time.NewTimer(o.opts.Grace)
	defer grace.Stop()
	select {
	case <-done:
		return nil
	case <-grace.C:
	}
	o.log.Warn("sends still in flight after the grace period; cancelling them")
	cancelSends()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		o.log.Error("a connector did not stop its send; its delivery will be flagged ambiguous at the next start")
	}
	return nil
}

// sleepCtx waits d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
