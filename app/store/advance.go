package store

// Advance: one transaction per step of a connection's worker, so that a
// delivery to an EHR that answers at once costs a fraction of an fsync
// instead of two (the claim, then the outcome).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// Finished is one attempt that ended, for Advance: the claim it ran under
// and how it ended.
type Finished struct {
	Claim   domain.Delivery
	Outcome Outcome
}

// Claimed is a delivery Advance claimed, with what its send needs, read in
// the same transaction.
type Claimed struct {
	// Delivery is the claim (state in flight, attempts counted).
	Delivery domain.Delivery
	// Result is the delivery's result; nil when it is missing from the
	// database (the send then fails for good).
	Result *domain.Result
	// Order is the result's order; nil when the result has none or when
	// it is missing (OrderMissing).
	Order        *domain.Order
	OrderMissing bool
	Progress     domain.Progress
}

// Step is what Advance did.
type Step struct {
	// Completions holds one entry per Finished, in the same order.
	Completions []Completion
	// Claimed are the next deliveries to send, in the order to send them
	// (delivery ID); empty when none is due or none was asked for.
	Claimed []Claimed
}

// Advance does, in one transaction: record every finished attempt exactly
// as CompleteDelivery does; put back the claims of release (claimed, never
// sent: back to queued, their attempt uncounted); and, when want > 0, pick
// the next delivery of conn under rule as NextDelivery does and claim it,
// together with up to want-1 queued deliveries right behind it. Only
// deliveries that would be sent next anyway are claimed together: queued
// ones, in ID order, with no other claimable delivery of conn between them
// (a retrying delivery holds up those behind it; it is never jumped).
// Nothing is claimed when rule is a probe. Each claimed delivery comes with
// its result, order and progress, read in the same transaction.
func (s *Store) Advance(ctx context.Context, conn string, finished []Finished, release []domain.Delivery, rule PickRule, want int) (Step, error) {
	for _, f := range finished {
		switch f.Outcome.State {
		case domain.DeliveryDelivered, domain.DeliveryRetrying, domain.DeliveryFailed, domain.DeliveryAmbiguous:
		default:
			return Step{}, fmt.Errorf("store: complete delivery %d: cannot end an attempt in state %q", f.Claim.ID, f.Outcome.State)
		}
	}
	now := s.now().UTC()
	var st Step
	err := s.tx(ctx, func(tx *sql.Tx) error {
		t := s.prepared(tx)
		st = Step{Completions: make([]Completion, 0, len(finished))}
		for _, f := range finished {
			o := f.Outcome
			if o.At.IsZero() {
				o.At = now
			}
			c, err := completeTx(ctx, t, f.Claim, o, now)
			if err != nil {
				return fmt.Errorf("complete delivery %d: %w", f.Claim.ID, err)
			}
			st.Completions = append(st.Completions, c)
		}
		for _, d := range release {
			if _, err := t.ExecContext(ctx, `UPDATE deliveries SET state='queued', attempts=attempts-1, updated_at=?
				WHERE id=? AND state='inflight' AND attempts=?`, ts(now), d.ID, d.Attempts); err != nil {
				return fmt.Errorf("put back delivery %d: %w", d.ID, err)
			}
		}
		if want <= 0 || rule.Probe {
			return nil
		}
		next, err := pick(ctx, t, conn, rule, now)
		if err != nil || next.Due == nil {
			return err
		}
		ids := []int64{next.Due.ID}
		// Only a queued delivery picked is the head of the queue (the
		// oldest not passed): then nothing older can hold up the ones
		// behind it. A passed delivery picked while the head waits for
		// its retry goes alone.
		if want > 1 && next.Due.State == domain.DeliveryQueued {
			more, err := queuedBehind(ctx, t, conn, rule, next.Due.ID, want-1)
			if err != nil {
				return err
			}
			ids = append(ids, more...)
		}
		ph, args := placeholders(rule.Claimable)
		for _, id := range ids {
			c, err := claimTx(ctx, t, id, ph, args, now)
			if errors.Is(err, ErrDeliveryState) {
				break // changed meanwhile: claim no further
			}
			if err != nil {
				return err
			}
			st.Claimed = append(st.Claimed, c)
		}
		return nil
	})
	if err != nil {
		return Step{}, fmt.Errorf("store: advance the queue of %s: %w", conn, err)
	}
	return st, nil
}

// queuedBehind returns up to n queued deliveries of conn after id, in ID
// order, stopping before the first other claimable delivery (retrying,
// or ambiguous when that is claimable): those are sent, or hold the queue
// up, in their turn.
func queuedBehind(ctx context.Context, t preparedTx, conn string, rule PickRule, id int64, n int) ([]int64, error) {
	bound := int64(-1)
	for _, st := range rule.Claimable {
		if st == domain.DeliveryQueued {
			continue
		}
		var b sql.NullInt64
		if err := t.QueryRowContext(ctx, `SELECT MIN(id) FROM deliveries WHERE connection=? AND state=? AND id>?`, conn, string(st), id).Scan(&b); err != nil {
			return nil, fmt.Errorf("find deliveries behind %d: %w", id, err)
		}
		if b.Valid && (bound < 0 || b.Int64 < bound) {
			bound = b.Int64
		}
	}
	q := `SELECT id FROM deliveries WHERE connection=? AND state='queued' AND id>?`
	args := []any{conn, id}
	if bound >= 0 {
		q += ` AND id<?`
		args = append(args, bound)
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, n)
	rows, err := t.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find deliveries behind %d: %w", id, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("find deliveries behind %d: %w", id, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// claimTx claims delivery id (one of the states of ph/args) and reads what
// its send needs.
func claimTx(ctx context.Context, t execer, id int64, ph string, args []any, now time.Time) (Claimed, error) {
	var c Claimed
	var resumable int
	d, err := scanDelivery(t.QueryRowContext(ctx, `UPDATE deliveries SET state='inflight', attempts=attempts+1, updated_at=?
		WHERE id=? AND state IN (`+ph+`) RETURNING `+deliveryCols, append([]any{ts(now), id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrDeliveryState
	}
	if err != nil {
		return c, fmt.Errorf("claim delivery %d: %w", id, err)
	}
	c.Delivery = d
	if err := t.QueryRowContext(ctx, `SELECT progress, progress_resumable FROM deliveries WHERE id=?`, id).Scan(&c.Progress.Step, &resumable); err != nil {
		return c, fmt.Errorf("read progress of delivery %d: %w", id, err)
	}
	c.Progress.Resumable = resumable == 1
	var data string
	err = t.QueryRowContext(ctx, `SELECT data FROM results WHERE id=?`, d.ResultID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read result %s: %w", d.ResultID, err)
	}
	r, err := decodeResult(data)
	if err != nil {
		return c, fmt.Errorf("decode result %s: %w", d.ResultID, err)
	}
	c.Result = &r
	if r.OrderID == "" {
		return c, nil
	}
	o, err := getOrder(ctx, t, r.OrderID)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		c.OrderMissing = true
	case err != nil:
		return c, err
	default:
		c.Order = o
	}
	return c, nil
}
