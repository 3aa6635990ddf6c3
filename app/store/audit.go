package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mesi/mconnect/app/domain"
)

func insertAudit(ctx context.Context, t *sql.Tx, e domain.AuditEntry) error {
	if e.Actor == "" {
		e.Actor = "system"
	}
	_, err := t.ExecContext(ctx, `INSERT INTO audit(at, actor, action, target, reason, detail) VALUES (?,?,?,?,?,?)`,
		ts(e.At), e.Actor, e.Action, e.Target, e.Reason, e.Detail)
	if err != nil {
		return fmt.Errorf("write audit entry: %w", err)
	}
	return nil
}

// Audit writes one audit entry (for manual actions recorded outside the
// store's own transactions).
func (s *Store) Audit(ctx context.Context, e domain.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now().UTC()
	}
	return s.tx(ctx, func(t *sql.Tx) error { return insertAudit(ctx, t, e) })
}

// AuditTx writes an audit entry inside a caller's transaction.
func AuditTx(ctx context.Context, t *sql.Tx, e domain.AuditEntry) error {
	return insertAudit(ctx, t, e)
}

// AuditLog returns the newest audit entries, at most limit (default 200).
func (s *Store) AuditLog(ctx context.Context, limit int) ([]domain.AuditEntry, error) {
	if limit <= 0 || limit > 10000 {
		limit = 200
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, actor, action, target, reason, detail FROM audit ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: read audit log: %w", err)
	}
	defer rows.Close()
	var out []domain.AuditEntry
	for rows.Next() {
		var e domain.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Reason, &e.Detail); err != nil {
			return nil, fmt.Errorf("store: read audit log: %w", err)
		}
		e.At = fromTS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Stats are counts for the Dashboard and diagnostic bundles, read from the
// tables themselves (never from counters that could drift).
type Stats struct {
	OrdersOpen     int            `json:"ordersOpen"`
	OrdersTotal    int            `json:"ordersTotal"`
	Results        int            `json:"results"`
	Devices        int            `json:"devices"`
	Groups         int            `json:"groups"`
	DeliveryStates map[string]int `json:"deliveryStates"`
	SchemaVersion  int            `json:"schemaVersion"`
}

// Stats counts what the store holds.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	st := Stats{DeliveryStates: map[string]int{}, SchemaVersion: SchemaVersion}
	for _, q := range []struct {
		sql string
		dst *int
	}{
		{`SELECT COUNT(*) FROM orders WHERE state IN ('scheduled','in_progress')`, &st.OrdersOpen},
		{`SELECT COUNT(*) FROM orders`, &st.OrdersTotal},
		{`SELECT COUNT(*) FROM results`, &st.Results},
		{`SELECT COUNT(*) FROM devices WHERE revoked=0`, &st.Devices},
		{`SELECT COUNT(*) FROM groups`, &st.Groups},
	} {
		if err := s.db.QueryRowContext(ctx, q.sql).Scan(q.dst); err != nil {
			return st, fmt.Errorf("store: stats: %w", err)
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM deliveries GROUP BY state`)
	if err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return st, fmt.Errorf("store: stats: %w", err)
		}
		st.DeliveryStates[state] = n
	}
	return st, rows.Err()
}
