// Package fill fills a store with many synthetic orders, results,
// deliveries and attempts in a few large statements, for benchmarks and
// load programs that need a store of a clinic's years (a million orders)
// without a million durable commits. The rows are copies of rows the
// store itself wrote, so that they read back like real ones.
package fill

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
)

// Spec is what Fill writes. Orders are numbered 1..Orders: the first Old
// are done at OldAt with a delivered result; the last Open are scheduled
// on the default group's worklist at RecentAt; the ones between are done
// at RecentAt with a delivered result.
type Spec struct {
	Orders, Old, Open int
	OldAt, RecentAt   time.Time
	// Connection brings the orders; Outbound receives the results.
	Connection, Outbound string
}

// Fill writes sp's rows into st (which should be empty of orders).
func Fill(ctx context.Context, st *store.Store, sp Spec) error {
	if sp.Old+sp.Open > sp.Orders {
		return fmt.Errorf("fill: %d old and %d open orders are more than %d", sp.Old, sp.Open, sp.Orders)
	}
	if sp.Connection == "" {
		sp.Connection = "ehr"
	}
	if sp.Outbound == "" {
		sp.Outbound = "ehr"
	}
	// Templates written by the store itself.
	acc, err := st.ApplyOrder(ctx, domain.Order{Connection: sp.Connection, SourceMessageID: "fill-template", PlacerNumber: "fill-template",
		Action: domain.ActionNew, Measurement: "ECG", Patient: domain.Patient{ID: "100234", Name: domain.PersonName{Family: "Novak", Given: "Ana"}}})
	if err != nil {
		return fmt.Errorf("fill: template order: %w", err)
	}
	res, _, err := st.SaveResult(ctx, domain.Result{OrderID: acc.OrderID, DeviceID: "tab-1", Measurement: "ECG",
		Observations: []domain.Observation{{Code: "HR", Value: "72", Unit: "/min"}},
		Report:       &domain.Attachment{Path: "/nonexistent/fill-template.pdf", ContentType: "application/pdf", Size: 120_000}}, nil)
	if err != nil {
		return fmt.Errorf("fill: template result: %w", err)
	}
	db := st.DB()
	var orderData, resultData string
	if err := db.QueryRowContext(ctx, `SELECT data FROM orders WHERE id=?`, acc.OrderID).Scan(&orderData); err != nil {
		return fmt.Errorf("fill: read template order: %w", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT data FROM results WHERE id=?`, res.ID).Scan(&resultData); err != nil {
		return fmt.Errorf("fill: read template result: %w", err)
	}
	oldTS, recentTS := sp.OldAt.UnixNano(), sp.RecentAt.UnixNano()
	done := sp.Orders - sp.Open
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	defer tx.Rollback()
	for _, q := range []struct {
		what, sql string
		args      []any
	}{
		{"remove templates", `DELETE FROM results WHERE id=?`, []any{res.ID}},
		{"remove templates", `DELETE FROM inbound_messages WHERE order_id=?`, []any{acc.OrderID}},
		{"remove templates", `DELETE FROM orders WHERE id=?`, []any{acc.OrderID}},
		// Times grow by a microsecond per row, so that age order is ID order.
		{"orders", `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<?)
			INSERT INTO orders(id, connection, placer_number, state, grp, patient_id, measurement, received_at, updated_at, data)
			SELECT printf('ord-fill-%08d', i), ?, printf('PF%08d', i), CASE WHEN i<=? THEN 'done' ELSE 'scheduled' END, 'default', '100234', 'ECG',
				CASE WHEN i<=? THEN ? ELSE ? END + i*1000, CASE WHEN i<=? THEN ? ELSE ? END + i*1000,
				replace(replace(replace(?, ?, printf('ord-fill-%08d', i)), '"fill-template"', printf('"PF%08d"', i)), '"scheduled"', CASE WHEN i<=? THEN '"done"' ELSE '"scheduled"' END)
			FROM n`, []any{sp.Orders, sp.Connection, done, sp.Old, oldTS, recentTS, sp.Old, oldTS, recentTS, orderData, acc.OrderID, done}},
		{"de-duplication keys", `INSERT INTO inbound_messages(connection, message_id, order_id, action, received_at)
			SELECT connection, 'msg-' || substr(id, 10), id, 'new', received_at FROM orders`, nil},
		{"results", `INSERT INTO results(id, order_id, device_id, idempotency_key, measurement, received_at, data)
			SELECT 'res-fill-' || substr(id, 10), id, 'tab-1', 'idem-' || substr(id, 10), 'ECG', updated_at - 500,
				replace(replace(?, ?, 'res-fill-' || substr(id, 10)), ?, id)
			FROM orders WHERE state='done' ORDER BY id`, []any{resultData, res.ID, acc.OrderID}},
		{"deliveries", `INSERT INTO deliveries(result_id, connection, state, attempts, next_at, created_at, updated_at)
			SELECT id, ?, 'delivered', 1, received_at, received_at, received_at + 400 FROM results ORDER BY received_at`, []any{sp.Outbound}},
		{"attempts", `INSERT INTO attempts(delivery_id, at, duration_ns, error, answer)
			SELECT id, created_at + 100, 2000000, '', 'AA' FROM deliveries ORDER BY id`, nil},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("fill: %s: %w", q.what, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("fill: commit: %w", err)
	}
	if strings.Contains(orderData, `"scheduled"`) {
		return nil
	}
	return fmt.Errorf("fill: the template order has no state the fill can replace")
}
