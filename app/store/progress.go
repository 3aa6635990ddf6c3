package store

// How far a delivery's attempts got (schema 2): the step an outbound
// connector recorded while it wrote in several steps, so that the next
// attempt — after a failure, or after a restart — resumes from there.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mesi/mconnect/app/domain"
)

// RecordProgress saves p as the progress of claimed's delivery, provided
// the claim is still current (the delivery is in flight under this
// attempt): a late write from a send the hub gave up on changes nothing
// and returns ErrDeliveryState. A zero p forgets the progress.
func (s *Store) RecordProgress(ctx context.Context, claimed domain.Delivery, p domain.Progress) error {
	res, err := s.db.ExecContext(ctx, `UPDATE deliveries SET progress=?, progress_resumable=?, updated_at=?
		WHERE id=? AND state='inflight' AND attempts=?`,
		p.Step, boolInt(p.Resumable && p.Step != ""), ts(s.now().UTC()), claimed.ID, claimed.Attempts)
	if err != nil {
		return fmt.Errorf("store: record progress of delivery %d: %w", claimed.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: record progress of delivery %d: %w", claimed.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("store: record progress of delivery %d (attempt %d): %w", claimed.ID, claimed.Attempts, ErrDeliveryState)
	}
	return nil
}

// DeliveryProgress returns the progress recorded for delivery id (zero
// when none).
func (s *Store) DeliveryProgress(ctx context.Context, id int64) (domain.Progress, error) {
	var p domain.Progress
	var resumable int
	err := s.db.QueryRowContext(ctx, `SELECT progress, progress_resumable FROM deliveries WHERE id=?`, id).Scan(&p.Step, &resumable)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("store: delivery %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("store: read progress of delivery %d: %w", id, err)
	}
	p.Resumable = resumable == 1
	return p, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
