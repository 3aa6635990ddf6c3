package outbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/sirupsen/logrus"
)

// worker sends one connection's deliveries, one at a time.
type worker struct {
	ob     *Outbox
	name   string
	out    domain.Outbound
	policy Policy
	// claimable are the states this connection sends.
	claimable []domain.DeliveryState
	wake      chan struct{}
	log       logrus.FieldLogger

	// Owned by the worker goroutine: is the EHR looking down?
	lastFailedID int64 // last delivery that failed without an answer
	silent       int   // distinct deliveries in a row that failed without an answer
	probeRounds  int   // failed probes since the connection went down
	sameProbe    int   // failed probes of the oldest delivery in a row
	storeRound   int   // store faults in a row

	mu          sync.Mutex // guards the fields below, read by health reports
	down        bool
	pauseUntil  time.Time
	writeFault  error
	readFault   error
	lastError   string
	lastMessage time.Time
	reported    domain.Health
	reportMu    sync.Mutex // serialises health reports
}

func newWorker(o *Outbox, name string, out domain.Outbound, p Policy) *worker {
	claimable := []domain.DeliveryState{domain.DeliveryQueued, domain.DeliveryRetrying}
	if p.Ambiguous == AmbiguousResend {
		claimable = append(claimable, domain.DeliveryAmbiguous)
	}
	return &worker{
		ob: o, name: name, out: out, policy: p, claimable: claimable,
		wake: make(chan struct{}, 1),
		log:  o.log.WithField("connection", name),
	}
}

func (w *worker) notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// sleep waits until t (when zero, or later than Options.Recheck, until
// the recheck), a Notify, or the end of ctx. It reports whether ctx is
// still alive.
func (w *worker) sleep(ctx context.Context, t time.Time) bool {
	d := w.ob.opts.Recheck
	if !t.IsZero() {
		if until := t.Sub(w.ob.q.Now()); until < d {
			d = until
		}
		if d <= 0 {
			return ctx.Err() == nil
		}
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	timer := tm.C
	select {
	case <-timer:
	case <-w.wake:
	case <-ctx.Done():
		return false
	}
	return true
}

// run works the queue until ctx ends; sends run under sendCtx.
func (w *worker) run(ctx, sendCtx context.Context) {
	w.report(ctx)
	for ctx.Err() == nil {
		w.mu.Lock()
		down, pause := w.down, w.pauseUntil
		w.mu.Unlock()
		if down && w.ob.q.Now().Before(pause) {
			w.sleep(ctx, pause)
			continue
		}
		rule := store.PickRule{Claimable: w.claimable, PassAfter: w.policy.PassAfter, Probe: down}
		if down && w.sameProbe >= w.policy.PassAfter {
			rule.Skip = w.lastFailedID // now and then, probe with the next-oldest
		}
		next, err := w.ob.q.NextDelivery(ctx, w.name, rule, w.ob.q.Now())
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.storeFault(err, false)
			w.sleep(ctx, w.ob.q.Now().Add(w.storeDelay()))
			continue
		}
		w.storeOK(false)
		if next.Due == nil {
			w.sleep(ctx, next.WakeAt)
			continue
		}
		w.send(ctx, sendCtx, *next.Due, down)
	}
}

func (w *worker) storeDelay() time.Duration {
	w.storeRound++
	return w.policy.Backoff.Delay(w.storeRound, w.ob.opts.Rand())
}

// send loads, claims, delivers and records one delivery, then goes on
// with the deliveries claimed together with its outcome (chain).
func (w *worker) send(ctx, sendCtx context.Context, d domain.Delivery, probe bool) {
	q := w.ob.q
	// Read everything before the claim, so that nothing is marked in flight
	// that cannot be sent.
	first := store.Claimed{}
	res, err := q.Result(ctx, d.ResultID)
	switch {
	case errors.Is(err, domain.ErrNotFound):
	case err != nil:
		w.storeFault(err, false)
		w.sleep(ctx, q.Now().Add(w.storeDelay()))
		return
	default:
		first.Result = &res
	}
	if first.Result != nil {
		prog, err := q.DeliveryProgress(ctx, d.ID)
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			w.storeFault(err, false)
			w.sleep(ctx, q.Now().Add(w.storeDelay()))
			return
		}
		first.Progress = prog
	}
	if first.Result != nil && res.OrderID != "" {
		ord, err := q.Order(ctx, res.OrderID)
		switch {
		case errors.Is(err, domain.ErrNotFound):
			first.OrderMissing = true
		case err != nil:
			w.storeFault(err, false)
			w.sleep(ctx, q.Now().Add(w.storeDelay()))
			return
		default:
			first.Order = &ord
		}
	}

	select {
	case w.ob.sends <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-w.ob.sends }()

	claim, err := q.ClaimDelivery(ctx, d.ID, w.claimable)
	if errors.Is(err, store.ErrDeliveryState) || errors.Is(err, domain.ErrNotFound) {
		return // a person resent or cancelled it meanwhile: pick again
	}
	if err != nil {
		if ctx.Err() == nil {
			w.storeFault(err, true)
			w.sleep(ctx, q.Now().Add(w.storeDelay()))
		}
		return
	}
	w.storeOK(true)
	first.Delivery = claim
	w.chain(ctx, sendCtx, []store.Claimed{first}, probe)
}

// chain sends claimed deliveries in order and records their outcomes in
// one transaction (store.Advance), which also claims what comes next
// while the EHR answers: one commit per step instead of two per delivery.
// It stops at the first outcome that holds the queue up (a retry, an
// interrupted send); the deliveries claimed behind it are put back
// unsent, in the same transaction as the outcomes.
func (w *worker) chain(ctx, sendCtx context.Context, claims []store.Claimed, probe bool) {
	for len(claims) > 0 {
		finished := make([]store.Finished, 0, len(claims))
		var release []domain.Delivery
		held := false
		var took time.Duration
		for _, c := range claims {
			if held || ctx.Err() != nil {
				release = append(release, c.Delivery)
				continue
			}
			o := w.attempt(sendCtx, c)
			finished = append(finished, store.Finished{Claim: c.Delivery, Outcome: o})
			took += o.Duration
			held = o.State != domain.DeliveryDelivered && o.State != domain.DeliveryFailed
		}
		want := 0
		if !held && !probe && ctx.Err() == nil && len(finished) > 0 {
			want = w.ahead(took / time.Duration(len(finished)))
		}
		step, ok := w.advance(sendCtx, finished, release, want)
		if !ok {
			return
		}
		for i, f := range finished {
			w.after(ctx, f.Claim, f.Outcome, step.Completions[i], probe)
		}
		claims, probe = step.Claimed, false
	}
}

// ahead is how many deliveries to claim with the outcomes just recorded,
// given the time one send took: as many as fit in Options.AheadBudget (at
// least one, at most Options.ClaimAhead), so that a crash leaves no more
// than that budget of answers unrecorded. None while every send slot is
// taken: another connection may be waiting for one.
func (w *worker) ahead(per time.Duration) int {
	if len(w.ob.sends) >= cap(w.ob.sends) {
		return 0
	}
	n := w.ob.opts.ClaimAhead
	if per > 0 {
		n = min(n, int(w.ob.opts.AheadBudget/per))
	}
	return max(n, 1)
}

// attempt delivers one claimed delivery and decides its outcome.
func (w *worker) attempt(sendCtx context.Context, c store.Claimed) store.Outcome {
	q := w.ob.q
	claim := c.Delivery
	out := domain.Outgoing{Delivery: claim, Progress: c.Progress, Order: c.Order}
	var loadErr error
	switch {
	case c.Result == nil:
		loadErr = domain.Permanent(fmt.Errorf("result %s is missing from the hub's database", claim.ResultID), "")
	case c.OrderMissing:
		loadErr = domain.Permanent(fmt.Errorf("order %s of result %s is missing from the hub's database", c.Result.OrderID, claim.ResultID), "")
	default:
		out.Result = *c.Result
	}
	rec := &progressRecorder{q: q, claim: claim, last: out.Progress}
	out.Record = rec.record

	at := q.Now()
	start := time.Now()
	var ans string
	sendErr := loadErr
	if loadErr == nil {
		ans, sendErr = w.deliver(sendCtx, out)
	}
	dur := time.Since(start)
	o := store.Outcome{At: at, Duration: dur, Answer: ans}
	switch {
	case sendErr == nil:
		o.State = domain.DeliveryDelivered
	case domain.IsPermanent(sendErr):
		o.State, o.Error, o.Answer = domain.DeliveryFailed, sendErr.Error(), domain.AnswerOf(sendErr)
	case sendCtx.Err() != nil && rec.resumable():
		// The hub is stopping and cut this send off after a step the
		// connector can resume from: take it up again at the next start.
		o.State, o.Error, o.Answer = domain.DeliveryRetrying, store.ResumedNote+": "+sendErr.Error(), domain.AnswerOf(sendErr)
		o.NextAt = q.Now()
	case sendCtx.Err() != nil:
		// The hub is stopping and cut this send off: the EHR may or may not
		// have it.
		o.State, o.Error, o.Answer = domain.DeliveryAmbiguous, "outcome unknown: the hub was stopping and interrupted this send: "+sendErr.Error(), domain.AnswerOf(sendErr)
		o.NextAt = q.Now()
	default:
		o.State, o.Error, o.Answer = domain.DeliveryRetrying, sendErr.Error(), domain.AnswerOf(sendErr)
		o.NextAt = q.Now().Add(w.policy.Backoff.Delay(claim.Attempts, w.ob.opts.Rand()))
	}
	return o
}

// deliver calls the connector with the attempt's timeout; a panic in the
// connector fails the delivery rather than the hub.
func (w *worker) deliver(ctx context.Context, out domain.Outgoing) (answer string, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.ob.opts.SendTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = domain.Permanent(fmt.Errorf("connector %s failed on this result (internal error: %v)", w.name, r), "")
		}
	}()
	return w.out.Deliver(ctx, out)
}

// advance writes the outcomes (and puts back release), claiming want more
// deliveries in the same transaction; it tries again while the store
// fails (then only recording, claiming nothing), until it is written or
// the hub stops (the deliveries then stay in flight on disk and are
// flagged ambiguous at the next start: an answer is not claimed as
// anything it was not).
func (w *worker) advance(sendCtx context.Context, finished []store.Finished, release []domain.Delivery, want int) (store.Step, bool) {
	ctx := sendCtx
	if sendCtx.Err() != nil {
		// One last try to record what happened.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
	}
	rule := store.PickRule{Claimable: w.claimable, PassAfter: w.policy.PassAfter}
	for round := 1; ; round++ {
		st, err := w.ob.q.Advance(ctx, w.name, finished, release, rule, want)
		if err == nil {
			w.storeOK(true)
			return st, true
		}
		w.storeFault(err, true)
		l := w.log.WithError(err)
		if len(finished) > 0 {
			l = l.WithField("delivery", finished[0].Claim.ID)
		}
		l.Error("cannot record the outcome of a send; keeping it and trying again")
		want = 0
		if ctx.Err() != nil || !sleepCtx(ctx, w.policy.Backoff.Delay(round, w.ob.opts.Rand())) {
			return st, false
		}
	}
}

// after updates what the worker knows about the EHR, logs, reports health
// and tells the hub about completed orders.
func (w *worker) after(ctx context.Context, claim domain.Delivery, o store.Outcome, c store.Completion, probe bool) {
	log := w.log.WithFields(logrus.Fields{"delivery": claim.ID, "result": claim.ResultID, "attempt": claim.Attempts})
	answered := o.State == domain.DeliveryDelivered || o.State == domain.DeliveryFailed || o.Answer != ""
	wasDown := false
	w.mu.Lock()
	if o.State == domain.DeliveryDelivered {
		w.lastMessage = o.At.Add(o.Duration)
	}
	if o.Error != "" {
		w.lastError = o.Error
	}
	switch {
	case answered:
		wasDown = w.down
		w.down, w.pauseUntil = false, time.Time{}
		w.silent, w.lastFailedID, w.probeRounds, w.sameProbe = 0, 0, 0, 0
	case o.State == domain.DeliveryRetrying:
		if claim.ID != w.lastFailedID {
			w.silent++
			if probe {
				w.sameProbe = 0
			}
		}
		if probe {
			w.sameProbe++
		}
		w.lastFailedID = claim.ID
		if w.silent >= 2 {
			if !w.down {
				log.Warn("the EHR does not answer; probing it at growing intervals")
			}
			w.down = true
			w.probeRounds++
			w.pauseUntil = w.ob.q.Now().Add(w.policy.Backoff.Delay(w.probeRounds, w.ob.opts.Rand()))
		}
	}
	w.mu.Unlock()
	if wasDown {
		// The EHR is back: what waited for it is due now, in order.
		if n, err := w.ob.q.RetryNow(ctx, w.name); err != nil {
			log.WithError(err).Warn("cannot make waiting deliveries due at once; they follow their own retry times")
		} else {
			log.WithField("waiting", n).Info("the EHR answers again; sending what waited")
		}
	}
	switch {
	case c.Stale:
		log.WithField("state", c.Delivery.State).Warn("an answer came for a delivery that had moved on; recorded, state left alone")
	case o.State == domain.DeliveryDelivered:
		log.Debug("delivered")
	case o.State == domain.DeliveryFailed:
		log.WithField("error", o.Error).Error("delivery failed for good; it needs a person (resend or cancel)")
	case o.State == domain.DeliveryAmbiguous:
		log.WithField("error", o.Error).Warn("send interrupted by a stop; delivery flagged ambiguous")
	default:
		log.WithFields(logrus.Fields{"error": o.Error, "next": o.NextAt}).Warn("delivery failed for now; will retry")
	}
	if c.OrderDone != nil && w.ob.opts.OnOrderDone != nil {
		w.ob.opts.OnOrderDone(*c.OrderDone)
	}
	w.mu.Lock()
	quiet := o.State == domain.DeliveryDelivered && !wasDown && w.reported.Severity == domain.SeverityOK && w.reported.Code != ""
	w.mu.Unlock()
	if !quiet {
		w.report(ctx)
	}
}

// storeFault records a store error (write or read) and reports it.
func (w *worker) storeFault(err error, write bool) {
	w.mu.Lock()
	changed := false
	if write {
		changed = w.writeFault == nil
		w.writeFault = err
	} else {
		changed = w.readFault == nil
		w.readFault = err
	}
	w.mu.Unlock()
	if changed {
		w.log.WithError(err).Error("the hub's database fails; results are kept and delivery resumes when it works again")
		w.report(context.Background())
	}
}

// storeOK clears a store fault after a read (or write) that worked.
func (w *worker) storeOK(write bool) {
	w.mu.Lock()
	changed := false
	if write && w.writeFault != nil {
		w.writeFault, changed = nil, true
	}
	if w.readFault != nil {
		w.readFault, changed = nil, true
	}
	if changed {
		w.storeRound = 0
	}
	w.mu.Unlock()
	if changed {
		w.log.Info("the hub's database works again")
		w.report(context.Background())
	}
}

// progressRecorder is Outgoing.Record for one claim: it writes the
// connector's progress under the claim and remembers the last one written.
type progressRecorder struct {
	q     queue
	claim domain.Delivery
	mu    sync.Mutex
	last  domain.Progress
}

func (r *progressRecorder) record(ctx context.Context, p domain.Progress) error {
	if err := r.q.RecordProgress(ctx, r.claim, p); err != nil {
		return err
	}
	r.mu.Lock()
	r.last = p
	r.mu.Unlock()
	return nil
}

// resumable reports whether the progress as it stands lets the send be
// taken up again.
func (r *progressRecorder) resumable() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last.Resumable && r.last.Step != ""
}
