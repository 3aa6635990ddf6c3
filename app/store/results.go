package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mesi/mconnect/app/domain"
)

// SaveResult stores a result and one queued delivery per outbound
// connection in one transaction; when it returns nil, both are on disk.
//
// A result with an IdempotencyKey already stored for the same device is not
// stored again: the stored result is returned with dup set, so the tablet
// gets the same answer for a retried upload.
func (s *Store) SaveResult(ctx context.Context, r domain.Result, connections []string) (stored domain.Result, dup bool, err error) {
	now := s.now().UTC()
	err = s.tx(ctx, func(t *sql.Tx) error {
		if r.IdempotencyKey != "" {
			var data string
			e := t.QueryRowContext(ctx, `SELECT data FROM results WHERE device_id=? AND idempotency_key=?`, r.DeviceID, r.IdempotencyKey).Scan(&data)
			if e == nil {
				dup = true
				stored, e = decodeResult(data)
				if e != nil {
					return fmt.Errorf("decode stored result: %w", e)
				}
				return nil
			}
			if !errors.Is(e, sql.ErrNoRows) {
				return fmt.Errorf("look up idempotency key: %w", e)
			}
		}
		if r.ID == "" {
			r.ID = NewID("res")
		}
		if r.ReceivedAt.IsZero() {
			r.ReceivedAt = now
		}
		data, e := encodeResult(&r)
		if e != nil {
			return fmt.Errorf("encode result: %w", e)
		}
		if _, e := t.ExecContext(ctx, `INSERT INTO results(id, order_id, device_id, idempotency_key, measurement, received_at, data) VALUES (?,?,?,?,?,?,?)`,
			r.ID, r.OrderID, r.DeviceID, r.IdempotencyKey, r.Measurement, ts(r.ReceivedAt), string(data)); e != nil {
			return fmt.Errorf("insert result: %w", e)
		}
		for _, c := range connections {
			if _, e := t.ExecContext(ctx, `INSERT INTO deliveries(result_id, connection, state, created_at, updated_at, next_at) VALUES (?,?,?,?,?,?)`,
				r.ID, c, string(domain.DeliveryQueued), ts(now), ts(now), ts(now)); e != nil {
				return fmt.Errorf("queue delivery to %s: %w", c, e)
			}
		}
		stored = r
		return nil
	})
	if err != nil {
		return domain.Result{}, false, fmt.Errorf("store: save result: %w", err)
	}
	return stored, dup, nil
}

// Result returns one result by ID.
func (s *Store) Result(ctx context.Context, id string) (domain.Result, error) {
	var data string
	err := s.db.QueryRowContext(ctx, `SELECT data FROM results WHERE id=?`, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Result{}, fmt.Errorf("store: result %s: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return domain.Result{}, fmt.Errorf("store: read result %s: %w", id, err)
	}
	r, err := decodeResult(data)
	if err != nil {
		return r, fmt.Errorf("store: decode result %s: %w", id, err)
	}
	return r, nil
}

// Results lists the newest results, at most limit (default 500).
func (s *Store) Results(ctx context.Context, limit int) ([]domain.Result, error) {
	if limit <= 0 || limit > 10000 {
		limit = 500
	}
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM results ORDER BY received_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list results: %w", err)
	}
	defer rows.Close()
	var out []domain.Result
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("store: list results: %w", err)
		}
		r, err := decodeResult(data)
		if err != nil {
			return nil, fmt.Errorf("store: decode result: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
