package store

// The outbox's queue: SQL over the deliveries and attempts tables of
// migration 1. Every query that runs per send is an index range scan on
// deliveries_queue(connection, state, id) with LIMIT 1 or a bounded count,
// so the cost of a send does not grow with the number of queued or
// delivered rows, and nothing here loads a whole queue into memory.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// ErrDeliveryBusy is returned by manual actions on a delivery whose send is
// under way; the person can try again a moment later.
var ErrDeliveryBusy = errors.New("a send of this delivery is under way; try again in a moment")

// ErrDeliveryState is returned when a delivery is not (or no longer) in a
// state that allows the operation, e.g. a claim of a delivery that was
// cancelled meanwhile, or the cancellation of a delivered one.
var ErrDeliveryState = errors.New("delivery is not in a state that allows this")

// AmbiguousNote is the error text of the attempt recorded for a send that
// was in flight when the hub stopped: nobody knows whether the EHR got it.
const AmbiguousNote = "outcome unknown: the hub stopped while this send was in flight"

// undelivered are the states of deliveries still owed to an EHR.
var undelivered = []domain.DeliveryState{
	domain.DeliveryQueued, domain.DeliveryInflight, domain.DeliveryRetrying,
	domain.DeliveryFailed, domain.DeliveryAmbiguous,
}

// AllDeliveryStates lists every delivery state in the order the Dashboard shows them.
var AllDeliveryStates = []domain.DeliveryState{
	domain.DeliveryQueued, domain.DeliveryInflight, domain.DeliveryRetrying,
	domain.DeliveryAmbiguous, domain.DeliveryFailed, domain.DeliveryDelivered,
	domain.DeliveryCancelled,
}

const deliveryCols = `id, result_id, connection, state, attempts, next_at, last_error, created_at, updated_at`

func scanDelivery(sc interface{ Scan(...any) error }) (domain.Delivery, error) {
	var d domain.Delivery
	var state string
	var next, created, updated int64
	if err := sc.Scan(&d.ID, &d.ResultID, &d.Connection, &state, &d.Attempts, &next, &d.LastError, &created, &updated); err != nil {
		return d, err
	}
	d.State = domain.DeliveryState(state)
	d.NextAt, d.CreatedAt, d.UpdatedAt = fromTS(next), fromTS(created), fromTS(updated)
	return d, nil
}

type queryRower interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

func getDelivery(ctx context.Context, q queryRower, id int64) (domain.Delivery, error) {
	d, err := scanDelivery(q.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("store: delivery %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("store: read delivery %d: %w", id, err)
	}
	return d, nil
}

// Delivery returns one delivery by ID.
func (s *Store) Delivery(ctx context.Context, id int64) (domain.Delivery, error) {
	return getDelivery(ctx, s.db, id)
}

// PickRule tells NextDelivery which deliveries of a connection may be sent
// and how a failing one holds up those behind it.
type PickRule struct {
	// Claimable are the states that may be sent: queued and retrying, plus
	// ambiguous when the connection resends ambiguous sends.
	Claimable []domain.DeliveryState
	// PassAfter is the number of attempts after which a delivery that keeps
	// failing no longer holds up the deliveries behind it (at least 1).
	// Below that, the oldest claimable delivery blocks its connection until
	// it is due again.
	PassAfter int
	// Probe asks for the oldest claimable delivery, due or not, other
	// than Skip (unless it is the only one): the worker of a connection that
	// looks down tries it to learn whether the EHR is back. Taking the
	// oldest keeps the order across an outage; Skip lets the worker try
	// another one now and then, so that one bad delivery at the front
	// cannot hide that the EHR is back.
	Probe bool
	Skip  int64
}

// Next is NextDelivery's answer.
type Next struct {
	// Due is the delivery to send now; nil when nothing is due.
	Due *domain.Delivery
	// WakeAt is when the next delivery becomes due when Due is nil; zero
	// when the connection has nothing to send.
	WakeAt time.Time
}

// NextDelivery picks what connection conn should send next under rule, as
// of now. Deliveries go in ID order (the order their results were stored,
// across restarts). The oldest claimable delivery that has failed fewer
// than PassAfter times is the head: while it waits for its retry, nothing
// behind it is sent. A delivery that has failed PassAfter times is passed:
// it is retried when due, in ID order with the others, but no longer holds
// up the queue.
func (s *Store) NextDelivery(ctx context.Context, conn string, rule PickRule, now time.Time) (Next, error) {
	return pick(ctx, s.db, conn, rule, now)
}

// pick is NextDelivery over q (the database, or a transaction).
func pick(ctx context.Context, q queryRower, conn string, rule PickRule, now time.Time) (Next, error) {
	var next Next
	pass := rule.PassAfter
	if pass < 1 {
		pass = 1
	}
	if rule.Probe {
		return probe(ctx, q, conn, rule)
	}
	nowTS := ts(now)
	// Per state, because an IN list over the index's second column would
	// make SQLite sort every matching row for a LIMIT 1.
	var head *domain.Delivery   // oldest delivery not passed (queued ones are always due)
	var passed *domain.Delivery // oldest passed delivery that is due
	var wake int64              // earliest retry of a passed delivery
	consider := func(pp **domain.Delivery, where string, args ...any) error {
		d, err := scanDelivery(q.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE `+where+` ORDER BY id LIMIT 1`, args...))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: next delivery of %s: %w", conn, err)
		}
		if *pp == nil || d.ID < (*pp).ID {
			*pp = &d
		}
		return nil
	}
	for _, st := range rule.Claimable {
		if st == domain.DeliveryQueued {
			// Queued deliveries are due at once; whether passed or not
			// does not matter (only a delivery waiting for its retry
			// holds up others), and not filtering keeps this one index
			// seek however long the queue.
			if err := consider(&head, `connection=? AND state=?`, conn, string(st)); err != nil {
				return next, err
			}
			continue
		}
		if err := consider(&head, `connection=? AND state=? AND attempts<?`, conn, string(st), pass); err != nil {
			return next, err
		}
		if err := consider(&passed, `connection=? AND state=? AND attempts>=? AND next_at<=?`, conn, string(st), pass, nowTS); err != nil {
			return next, err
		}
		var w sql.NullInt64
		if err := q.QueryRowContext(ctx, `SELECT MIN(next_at) FROM deliveries WHERE connection=? AND state=? AND attempts>=?`,
			conn, string(st), pass).Scan(&w); err != nil {
			return next, fmt.Errorf("store: next delivery of %s: %w", conn, err)
		}
		if w.Valid && (wake == 0 || w.Int64 < wake) {
			wake = w.Int64
		}
	}
	if head != nil && ts(head.NextAt) <= nowTS {
		next.Due = head
	}
	if passed != nil && (next.Due == nil || passed.ID < next.Due.ID) {
		next.Due = passed
	}
	if next.Due == nil {
		if head != nil && (wake == 0 || ts(head.NextAt) < wake) {
			wake = ts(head.NextAt)
		}
		next.WakeAt = fromTS(wake)
	}
	return next, nil
}

func probe(ctx context.Context, q queryRower, conn string, rule PickRule) (Next, error) {
	var next Next
	for _, skip := range []int64{rule.Skip, 0} {
		for _, st := range rule.Claimable {
			d, err := scanDelivery(q.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries
				WHERE connection=? AND state=? AND id!=? ORDER BY id LIMIT 1`, conn, string(st), skip))
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return next, fmt.Errorf("store: probe delivery of %s: %w", conn, err)
			default:
				if next.Due == nil || d.ID < next.Due.ID {
					next.Due = &d
				}
			}
		}
		if next.Due != nil || skip == 0 {
			break
		}
	}
	return next, nil
}

func placeholders(states []domain.DeliveryState) (string, []any) {
	ph := make([]string, len(states))
	args := make([]any, len(states))
	for i, st := range states {
		ph[i] = "?"
		args[i] = string(st)
	}
	return strings.Join(ph, ","), args
}

// ClaimDelivery marks delivery id as in flight and counts the attempt,
// provided it is still in one of the states from; this write is on disk
// before the send starts, so a send the hub cannot finish is found at the
// next start (RecoverInflight). The returned delivery (its Attempts) is the
// claim that CompleteDelivery checks. ErrDeliveryState means it changed
// meanwhile (cancelled, resent, delivered) and must not be sent.
func (s *Store) ClaimDelivery(ctx context.Context, id int64, from []domain.DeliveryState) (domain.Delivery, error) {
	ph, args := placeholders(from)
	now := ts(s.now().UTC())
	var d domain.Delivery
	err := s.tx(ctx, func(t *sql.Tx) error {
		var err error
		d, err = scanDelivery(t.QueryRowContext(ctx, `UPDATE deliveries SET state='inflight', attempts=attempts+1, updated_at=?
			WHERE id=? AND state IN (`+ph+`) RETURNING `+deliveryCols, append([]any{now, id}, args...)...))
		if errors.Is(err, sql.ErrNoRows) {
			cur, e := getDelivery(ctx, t, id)
			if e != nil {
				return e
			}
			return fmt.Errorf("store: claim delivery %d (%s): %w", id, cur.State, ErrDeliveryState)
		}
		if err != nil {
			return fmt.Errorf("store: claim delivery %d: %w", id, err)
		}
		return nil
	})
	return d, err
}

// Outcome is how one attempt ended, for CompleteDelivery.
type Outcome struct {
	// State is delivered, retrying, failed or ambiguous.
	State domain.DeliveryState
	// NextAt is when a retrying delivery is due again.
	NextAt   time.Time
	At       time.Time // when the attempt started
	Duration time.Duration
	Error    string // empty for a success
	Answer   string // what the EHR answered
}

// Completion is what CompleteDelivery and CancelDelivery changed.
type Completion struct {
	// Delivery is the delivery as stored now.
	Delivery domain.Delivery
	// Stale is set when the delivery was no longer held by this claim (a
	// late or repeated answer): the attempt was recorded for the history,
	// the delivery's state was left alone.
	Stale bool
	// OrderDone is the order that this change completed: every delivery of
	// its result is delivered (or cancelled by a person, at least one
	// delivered), and the order was moved to done in the same transaction.
	OrderDone *domain.Order
}

// CompleteDelivery records one attempt of claimed (as returned by
// ClaimDelivery) and moves the delivery to o.State, in one transaction.
// Only the claim that is still current moves the delivery: a late or
// repeated completion records its attempt and reports Stale. When the
// delivery became delivered and that completes its result, the result's
// order (if any, and still on a worklist) becomes done in the same
// transaction.
func (s *Store) CompleteDelivery(ctx context.Context, claimed domain.Delivery, o Outcome) (Completion, error) {
	switch o.State {
	case domain.DeliveryDelivered, domain.DeliveryRetrying, domain.DeliveryFailed, domain.DeliveryAmbiguous:
	default:
		return Completion{}, fmt.Errorf("store: complete delivery %d: cannot end an attempt in state %q", claimed.ID, o.State)
	}
	now := s.now().UTC()
	if o.At.IsZero() {
		o.At = now
	}
	var c Completion
	err := s.tx(ctx, func(t *sql.Tx) error {
		var err error
		c, err = completeTx(ctx, s.prepared(t), claimed, o, now)
		return err
	})
	if err != nil {
		return Completion{}, fmt.Errorf("store: complete delivery %d: %w", claimed.ID, err)
	}
	return c, nil
}

// completeTx is CompleteDelivery's work inside transaction t.
func completeTx(ctx context.Context, t execer, claimed domain.Delivery, o Outcome, now time.Time) (Completion, error) {
	var c Completion
	err := func() error {
		if _, err := t.ExecContext(ctx, `INSERT INTO attempts(delivery_id, at, duration_ns, error, answer) VALUES (?,?,?,?,?)`,
			claimed.ID, ts(o.At), int64(o.Duration), o.Error, o.Answer); err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		lastErr := o.Error
		setErr := "last_error=?"
		if o.State == domain.DeliveryDelivered {
			// Keep the last failure for the history; forget the progress:
			// the write is complete, and a resend writes anew.
			setErr = "progress='', progress_resumable=0, last_error=last_error"
		}
		args := []any{string(o.State), ts(o.NextAt), ts(now)}
		if o.State != domain.DeliveryDelivered {
			args = append(args, lastErr)
		}
		args = append(args, claimed.ID, claimed.Attempts)
		d, err := scanDelivery(t.QueryRowContext(ctx, `UPDATE deliveries SET state=?, next_at=?, updated_at=?, `+setErr+`
			WHERE id=? AND state='inflight' AND attempts=? RETURNING `+deliveryCols, args...))
		if errors.Is(err, sql.ErrNoRows) {
			c.Stale = true
			c.Delivery, err = getDelivery(ctx, t, claimed.ID)
			return err
		}
		if err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
		c.Delivery = d
		if o.State == domain.DeliveryDelivered {
			c.OrderDone, err = completeOrder(ctx, t, d.ResultID, now)
		}
		return err
	}()
	return c, err
}

// completeOrder marks the result's order done when every delivery of the
// result is delivered or cancelled and at least one is delivered.
func completeOrder(ctx context.Context, t execer, resultID string, now time.Time) (*domain.Order, error) {
	var orderID string
	if err := t.QueryRowContext(ctx, `SELECT order_id FROM results WHERE id=?`, resultID).Scan(&orderID); err != nil {
		return nil, fmt.Errorf("read result %s: %w", resultID, err)
	}
	if orderID == "" {
		return nil, nil
	}
	var open, delivered int
	if err := t.QueryRowContext(ctx, `SELECT
			COALESCE(SUM(CASE WHEN state NOT IN ('delivered','cancelled') THEN 1 ELSE 0 END),0),
			COALESCE(SUM(CASE WHEN state='delivered' THEN 1 ELSE 0 END),0)
		FROM deliveries WHERE result_id=?`, resultID).Scan(&open, &delivered); err != nil {
		return nil, fmt.Errorf("count deliveries of result %s: %w", resultID, err)
	}
	if open > 0 || delivered == 0 {
		return nil, nil
	}
	o, err := getOrder(ctx, t, orderID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil // the result names an order the hub never had: nothing to complete
	}
	if err != nil {
		return nil, err
	}
	if !o.State.OnWorklist() {
		return nil, nil // cancelled by the EHR or deleted by staff: leave it so
	}
	o.State = domain.OrderDone
	o.UpdatedAt = now
	if err := putOrder(ctx, t, o, false); err != nil {
		return nil, err
	}
	return o, nil
}

// ResumedNote is the error text of the attempt recorded for a send that
// was in flight when the hub stopped, after a step its connector marked
// resumable (domain.Progress): it is taken up again, not held.
const ResumedNote = "interrupted: the hub stopped during this send; it resumes from the recorded step"

// RecoverInflight runs once at start, before any send: every delivery left
// in flight by a hub that stopped (crash, power cut, kill) becomes
// ambiguous, with an attempt recording AmbiguousNote, due at once — except
// one whose connector recorded resumable progress, which becomes retrying
// (ResumedNote), due at once. It works in set-based statements whatever
// the queue's size. It returns how many deliveries it flagged ambiguous or
// resumed.
func (s *Store) RecoverInflight(ctx context.Context) (int, error) {
	now := ts(s.now().UTC())
	var n int64
	err := s.tx(ctx, func(t *sql.Tx) error {
		if _, err := t.ExecContext(ctx, `INSERT INTO attempts(delivery_id, at, duration_ns, error, answer)
			SELECT id, ?, 0, CASE WHEN progress_resumable=1 THEN ? ELSE ? END, progress FROM deliveries WHERE state='inflight'`,
			now, ResumedNote, AmbiguousNote); err != nil {
			return fmt.Errorf("record ambiguous attempts: %w", err)
		}
		resumed, err := t.ExecContext(ctx, `UPDATE deliveries SET state='retrying', last_error=?, next_at=?, updated_at=?
			WHERE state='inflight' AND progress_resumable=1`, ResumedNote, now, now)
		if err != nil {
			return fmt.Errorf("resume deliveries: %w", err)
		}
		if n, err = resumed.RowsAffected(); err != nil {
			return err
		}
		res, err := t.ExecContext(ctx, `UPDATE deliveries SET state='ambiguous', last_error=?, next_at=?, updated_at=? WHERE state='inflight'`,
			AmbiguousNote, now, now)
		if err != nil {
			return fmt.Errorf("flag ambiguous deliveries: %w", err)
		}
		m, err := res.RowsAffected()
		n += m
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: recover in-flight deliveries: %w", err)
	}
	return int(n), nil
}

// RetryNow makes every retrying delivery of conn due at once (the EHR is
// back after an outage: send the backlog in order now rather than each at
// its own retry time). It returns how many it moved.
func (s *Store) RetryNow(ctx context.Context, conn string) (int, error) {
	now := ts(s.now().UTC())
	res, err := s.db.ExecContext(ctx, `UPDATE deliveries SET next_at=? WHERE connection=? AND state='retrying' AND next_at>?`, now, conn, now)
	if err != nil {
		return 0, fmt.Errorf("store: retry %s now: %w", conn, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func needActor(actor string) error {
	if strings.TrimSpace(actor) == "" {
		return errors.New("a manual action needs an actor")
	}
	return nil
}

// ResendDelivery queues delivery id again, due at once, whatever state it
// is in except in flight (ErrDeliveryBusy): a failed, ambiguous or
// cancelled delivery, a retrying one that should not wait, or a delivered
// one the EHR lost. Its attempts and their history are kept. The audit log
// records actor and reason in the same transaction.
func (s *Store) ResendDelivery(ctx context.Context, id int64, actor, reason string) (domain.Delivery, error) {
	if err := needActor(actor); err != nil {
		return domain.Delivery{}, fmt.Errorf("store: resend delivery %d: %w", id, err)
	}
	now := s.now().UTC()
	var d domain.Delivery
	err := s.tx(ctx, func(t *sql.Tx) error {
		cur, err := getDelivery(ctx, t, id)
		if err != nil {
			return err
		}
		if cur.State == domain.DeliveryInflight {
			return fmt.Errorf("store: resend delivery %d: %w", id, ErrDeliveryBusy)
		}
		d, err = scanDelivery(t.QueryRowContext(ctx, `UPDATE deliveries SET state='queued', next_at=?, updated_at=? WHERE id=? RETURNING `+deliveryCols,
			ts(now), ts(now), id))
		if err != nil {
			return fmt.Errorf("store: resend delivery %d: %w", id, err)
		}
		return insertAudit(ctx, t, domain.AuditEntry{At: now, Actor: actor, Action: "delivery.resend", Target: fmt.Sprint(id), Reason: reason,
			Detail: fmt.Sprintf("result %s to %s, was %s after %d attempts", cur.ResultID, cur.Connection, cur.State, cur.Attempts)})
	})
	return d, err
}

// ResendDeliveries queues again every delivery of conn ("" for every
// connection) in one of states (default: failed), due at once, with one
// audit entry per delivery, in one transaction. It works in set-based
// statements whatever the number of rows, and returns how many it queued.
func (s *Store) ResendDeliveries(ctx context.Context, conn string, states []domain.DeliveryState, actor, reason string) (int, error) {
	if err := needActor(actor); err != nil {
		return 0, fmt.Errorf("store: resend deliveries: %w", err)
	}
	if len(states) == 0 {
		states = []domain.DeliveryState{domain.DeliveryFailed}
	}
	for _, st := range states {
		if st == domain.DeliveryInflight {
			return 0, fmt.Errorf("store: resend deliveries: %w", ErrDeliveryBusy)
		}
	}
	ph, args := placeholders(states)
	where := `state IN (` + ph + `)`
	if conn != "" {
		where += ` AND connection=?`
		args = append(args, conn)
	}
	now := ts(s.now().UTC())
	var n int64
	err := s.tx(ctx, func(t *sql.Tx) error {
		if _, err := t.ExecContext(ctx, `INSERT INTO audit(at, actor, action, target, reason, detail)
			SELECT ?, ?, 'delivery.resend', CAST(id AS TEXT), ?, 'result ' || result_id || ' to ' || connection || ', was ' || state || ' after ' || attempts || ' attempts (resend all)'
			FROM deliveries WHERE `+where, append([]any{now, actor, reason}, args...)...); err != nil {
			return fmt.Errorf("write audit entries: %w", err)
		}
		res, err := t.ExecContext(ctx, `UPDATE deliveries SET state='queued', next_at=?, updated_at=? WHERE `+where, append([]any{now, now}, args...)...)
		if err != nil {
			return fmt.Errorf("queue deliveries: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: resend deliveries: %w", err)
	}
	return int(n), nil
}

// CancelDelivery stops delivery id for good (a person decided the EHR must
// not get it, or gets it another way). It needs a reason; the audit log
// records actor and reason in the same transaction. A delivery in flight
// cannot be cancelled (ErrDeliveryBusy), a delivered or cancelled one has
// nothing to cancel (ErrDeliveryState). When the other deliveries of the
// result are delivered, its order becomes done.
func (s *Store) CancelDelivery(ctx context.Context, id int64, actor, reason string) (Completion, error) {
	var c Completion
	if err := needActor(actor); err != nil {
		return c, fmt.Errorf("store: cancel delivery %d: %w", id, err)
	}
	if strings.TrimSpace(reason) == "" {
		return c, fmt.Errorf("store: cancel delivery %d: a cancellation needs a reason", id)
	}
	now := s.now().UTC()
	err := s.tx(ctx, func(t *sql.Tx) error {
		cur, err := getDelivery(ctx, t, id)
		if err != nil {
			return err
		}
		switch cur.State {
		case domain.DeliveryInflight:
			return fmt.Errorf("store: cancel delivery %d: %w", id, ErrDeliveryBusy)
		case domain.DeliveryDelivered, domain.DeliveryCancelled:
			return fmt.Errorf("store: cancel delivery %d (%s): %w", id, cur.State, ErrDeliveryState)
		}
		c.Delivery, err = scanDelivery(t.QueryRowContext(ctx, `UPDATE deliveries SET state='cancelled', updated_at=? WHERE id=? RETURNING `+deliveryCols, ts(now), id))
		if err != nil {
			return fmt.Errorf("store: cancel delivery %d: %w", id, err)
		}
		if err := insertAudit(ctx, t, domain.AuditEntry{At: now, Actor: actor, Action: "delivery.cancel", Target: fmt.Sprint(id), Reason: reason,
			Detail: fmt.Sprintf("result %s to %s, was %s after %d attempts", cur.ResultID, cur.Connection, cur.State, cur.Attempts)}); err != nil {
			return err
		}
		c.OrderDone, err = completeOrder(ctx, t, cur.ResultID, now)
		return err
	})
	if err != nil {
		return Completion{}, err
	}
	return c, nil
}

// Attempts returns the history of one delivery, oldest attempt first.
func (s *Store) Attempts(ctx context.Context, deliveryID int64) ([]domain.Attempt, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT delivery_id, at, duration_ns, error, answer FROM attempts WHERE delivery_id=? ORDER BY id`, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("store: attempts of delivery %d: %w", deliveryID, err)
	}
	defer rows.Close()
	var out []domain.Attempt
	for rows.Next() {
		var a domain.Attempt
		var at, dur int64
		if err := rows.Scan(&a.DeliveryID, &at, &dur, &a.Error, &a.Answer); err != nil {
			return nil, fmt.Errorf("store: attempts of delivery %d: %w", deliveryID, err)
		}
		a.At, a.Duration = fromTS(at), time.Duration(dur)
		out = append(out, a)
	}
	return out, rows.Err()
}

// DeliveryFilter selects deliveries for the Dashboard. Empty fields match all.
type DeliveryFilter struct {
	ResultID   string
	Connection string
	States     []domain.DeliveryState
	// BeforeID pages back: only deliveries with a smaller ID.
	BeforeID int64
	// Limit caps the answer (default 500, at most 10000).
	Limit int
}

// Deliveries lists deliveries matching f, newest first.
func (s *Store) Deliveries(ctx context.Context, f DeliveryFilter) ([]domain.Delivery, error) {
	var where []string
	var args []any
	if f.ResultID != "" {
		where = append(where, "result_id=?")
		args = append(args, f.ResultID)
	}
	if f.Connection != "" {
		where = append(where, "connection=?")
		args = append(args, f.Connection)
	}
	if len(f.States) > 0 {
		ph, a := placeholders(f.States)
		where = append(where, "state IN ("+ph+")")
		args = append(args, a...)
	}
	if f.BeforeID > 0 {
		where = append(where, "id<?")
		args = append(args, f.BeforeID)
	}
	q := `SELECT ` + deliveryCols + ` FROM deliveries`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 500
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list deliveries: %w", err)
	}
	defer rows.Close()
	var out []domain.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list deliveries: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// QueueCounts counts the deliveries of conn in each of states (index range
// counts: cheap enough to run after every send).
func (s *Store) QueueCounts(ctx context.Context, conn string, states ...domain.DeliveryState) (map[domain.DeliveryState]int, error) {
	out := make(map[domain.DeliveryState]int, len(states))
	for _, st := range states {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE connection=? AND state=?`, conn, string(st)).Scan(&n); err != nil {
			return nil, fmt.Errorf("store: count %s deliveries of %s: %w", st, conn, err)
		}
		out[st] = n
	}
	return out, nil
}

// QueueStatus is one connection's queue as the Dashboard shows it, read
// from the tables (never from counters that could drift).
type QueueStatus struct {
	Connection string `json:"connection"`
	// Depth counts deliveries per state.
	Depth map[domain.DeliveryState]int `json:"depth"`
	// Undelivered counts deliveries still owed (queued, inflight, retrying,
	// ambiguous, failed).
	Undelivered int `json:"undelivered"`
	// OldestUndelivered is when the oldest undelivered delivery was queued;
	// OldestAge how long ago that is.
	OldestUndelivered time.Time     `json:"oldestUndelivered,omitempty"`
	OldestAge         time.Duration `json:"oldestAge"`
	// Delivered10m counts successful attempts in the last ten minutes;
	// PerMinute is that divided by ten.
	Delivered10m int     `json:"delivered10m"`
	PerMinute    float64 `json:"perMinute"`
	// LastError is the error of the most recently changed delivery that is
	// retrying, ambiguous or failed (empty when none is).
	LastError   string    `json:"lastError,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt,omitempty"`
}

// RateWindow is the window over which QueueStatus.PerMinute is measured.
const RateWindow = 10 * time.Minute

// OutboxStatus reports the queue of every connection that has deliveries,
// plus those named in also (registered connections with an empty queue),
// sorted by connection name.
func (s *Store) OutboxStatus(ctx context.Context, now time.Time, also ...string) ([]QueueStatus, error) {
	byConn := map[string]*QueueStatus{}
	var names []string
	get := func(c string) *QueueStatus {
		qs, ok := byConn[c]
		if !ok {
			qs = &QueueStatus{Connection: c, Depth: map[domain.DeliveryState]int{}}
			byConn[c] = qs
			names = append(names, c)
		}
		return qs
	}
	for _, c := range also {
		get(c)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT connection, state, COUNT(*), MIN(id) FROM deliveries GROUP BY connection, state`)
	if err != nil {
		return nil, fmt.Errorf("store: outbox status: %w", err)
	}
	type oldest struct {
		conn string
		id   int64
	}
	var firsts []oldest
	for rows.Next() {
		var c, st string
		var n int
		var minID int64
		if err := rows.Scan(&c, &st, &n, &minID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: outbox status: %w", err)
		}
		qs := get(c)
		state := domain.DeliveryState(st)
		qs.Depth[state] = n
		for _, u := range undelivered {
			if state == u {
				qs.Undelivered += n
				firsts = append(firsts, oldest{c, minID})
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: outbox status: %w", err)
	}
	for _, f := range firsts {
		var created int64
		if err := s.db.QueryRowContext(ctx, `SELECT created_at FROM deliveries WHERE id=?`, f.id).Scan(&created); err != nil {
			return nil, fmt.Errorf("store: outbox status: %w", err)
		}
		qs := byConn[f.conn]
		if t := fromTS(created); qs.OldestUndelivered.IsZero() || t.Before(qs.OldestUndelivered) {
			qs.OldestUndelivered = t
		}
	}
	// Successful attempts in the window. Attempts are appended roughly in
	// time order, so the window starts after the newest attempt older than
	// it: SQLite finds that walking back from the end of the table.
	cutoff := ts(now.Add(-RateWindow))
	var startID int64
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE((SELECT id FROM attempts WHERE at<? ORDER BY id DESC LIMIT 1),0)`, cutoff).Scan(&startID)
	if err != nil {
		return nil, fmt.Errorf("store: outbox status: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, `SELECT d.connection, COUNT(*) FROM attempts a JOIN deliveries d ON d.id=a.delivery_id
		WHERE a.id>? AND a.at>=? AND a.error='' GROUP BY d.connection`, startID, cutoff)
	if err != nil {
		return nil, fmt.Errorf("store: outbox status: %w", err)
	}
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: outbox status: %w", err)
		}
		qs := get(c)
		qs.Delivered10m = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: outbox status: %w", err)
	}
	out := make([]QueueStatus, 0, len(names))
	for _, c := range names {
		qs := byConn[c]
		qs.PerMinute = float64(qs.Delivered10m) / RateWindow.Minutes()
		if !qs.OldestUndelivered.IsZero() {
			qs.OldestAge = max(now.Sub(qs.OldestUndelivered), 0)
		}
		var lastErr string
		var at int64
		for _, st := range []domain.DeliveryState{domain.DeliveryRetrying, domain.DeliveryAmbiguous, domain.DeliveryFailed} {
			if qs.Depth[st] == 0 {
				continue
			}
			var e string
			var u int64
			err := s.db.QueryRowContext(ctx, `SELECT last_error, updated_at FROM deliveries WHERE connection=? AND state=? ORDER BY updated_at DESC LIMIT 1`,
				c, string(st)).Scan(&e, &u)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("store: outbox status: %w", err)
			}
			if err == nil && u > at {
				lastErr, at = e, u
			}
		}
		qs.LastError, qs.LastErrorAt = lastErr, fromTS(at)
		out = append(out, *qs)
	}
	slices.SortFunc(out, func(a, b QueueStatus) int { return strings.Compare(a.Connection, b.Connection) })
	return out, nil
}
