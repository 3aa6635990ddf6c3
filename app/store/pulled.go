package store

// Orders of pull-type connections (cloud EHRs the hub asks when a tablet
// reads its worklist). A pull reads the same appointments again and again,
// so two rules keep the worklist what staff made of it: an appointment
// whose order is done, or was deleted in the Dashboard, stays off the
// worklist however often it is read again (its order is the tombstone);
// and a cancellation of an appointment the hub never stored is no error.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/mesi/mconnect/app/domain"
)

// PulledOutcome is what ApplyPulled made of one order.
type PulledOutcome struct {
	// Accepted is the store's answer when the order was stored.
	Accepted domain.Accepted
	// Stored is false when nothing was written: a tombstone, or the
	// cancellation of an appointment the hub does not have.
	Stored bool
	// Tombstone is the state (done or deleted) of the order that kept this
	// appointment off the worklist.
	Tombstone domain.OrderState
	// Err refuses this order alone (no patient ID); the others are stored.
	Err error
}

// ApplyPulled stores the orders one pull brought (new, changed or
// cancelled appointments), in one transaction, through the same order path
// as ApplyOrder (by connection and placer number; no source message IDs).
// An appointment whose order is done or deleted and not open again is not
// stored (Tombstone says why). An error means nothing was stored.
func (s *Store) ApplyPulled(ctx context.Context, orders []domain.Order) ([]PulledOutcome, error) {
	out := make([]PulledOutcome, len(orders))
	if len(orders) == 0 {
		return out, nil
	}
	now := s.now().UTC()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		t := &txStmts{tx: tx, stmts: map[string]*sql.Stmt{}}
		defer t.close()
		for i, o := range orders {
			r := &out[i]
			if o.Connection == "" || o.PlacerNumber == "" {
				r.Err = fmt.Errorf("store: pulled order without connection or appointment ID: %w", domain.ErrInvalidOrder)
				continue
			}
			if o.Action == "" {
				o.Action = domain.ActionNew
			}
			if o.Action != domain.ActionCancel && strings.TrimSpace(o.Patient.ID) == "" {
				r.Err = fmt.Errorf("store: appointment %q from %s has no patient ID: %w", o.PlacerNumber, o.Connection, domain.ErrInvalidOrder)
				continue
			}
			o.SourceMessageID = ""
			open, err := findOpenByPlacer(ctx, t, o.Connection, o.PlacerNumber)
			if err != nil {
				return err
			}
			if open == nil || open.State == domain.OrderCancelled {
				if o.Action == domain.ActionCancel {
					continue // nothing on a worklist to take off
				}
				state, err := tombstone(ctx, t, o.Connection, o.PlacerNumber)
				if err != nil {
					return err
				}
				if state != "" {
					r.Tombstone = state
					continue
				}
			}
			acc, err := s.applyOrderTx(ctx, t, o, now, nil, nil)
			if errors.Is(err, domain.ErrUnknownOrder) {
				continue
			}
			if err != nil {
				if domain.Refused(err) {
					r.Err = err
					continue
				}
				return err
			}
			r.Accepted, r.Stored = acc, true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: apply pulled orders: %w", err)
	}
	return out, nil
}

// tombstone returns the state of a done or deleted order of the
// connection with the placer number, or "".
func tombstone(ctx context.Context, t execer, conn, placer string) (domain.OrderState, error) {
	var state string
	err := t.QueryRowContext(ctx, `SELECT state FROM orders WHERE connection=? AND placer_number=? AND state IN ('done','deleted')
		ORDER BY updated_at DESC LIMIT 1`, conn, placer).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up tombstone: %w", err)
	}
	return domain.OrderState(state), nil
}

// OpenOrder is an order on a worklist, as far as a pull needs to know it.
type OpenOrder struct {
	ID           string
	PlacerNumber string
	State        domain.OrderState
}

// OpenOrders returns the orders of connection conn on group's worklist
// (scheduled or in progress), without decoding them.
func (s *Store) OpenOrders(ctx context.Context, conn, group string) ([]OpenOrder, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, placer_number, state FROM orders
		WHERE grp=? AND state IN ('scheduled','in_progress') AND connection=?`, group, conn)
	if err != nil {
		return nil, fmt.Errorf("store: open orders of %s: %w", conn, err)
	}
	defer rows.Close()
	var out []OpenOrder
	for rows.Next() {
		var o OpenOrder
		var state string
		if err := rows.Scan(&o.ID, &o.PlacerNumber, &state); err != nil {
			return nil, fmt.Errorf("store: open orders of %s: %w", conn, err)
		}
		o.State = domain.OrderState(state)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: open orders of %s: %w", conn, err)
	}
	return out, nil
}

// txStmts prepares each statement once per transaction, on the
// transaction's own connection. (Preparing through the store's cache would
// need a second connection while this one holds the write lock, and
// tablets' writes waiting for that lock can hold every other connection
// of the pool until their busy timeout.)
type txStmts struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (t *txStmts) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	t.stmts[q] = st
	return st, nil
}

func (t *txStmts) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return t.tx.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

func (t *txStmts) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return t.tx.ExecContext(ctx, q, args...)
	}
	return st.ExecContext(ctx, args...)
}

func (t *txStmts) close() {
	for _, st := range t.stmts {
		st.Close()
	}
}

func (t *txStmts) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return t.tx.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}
