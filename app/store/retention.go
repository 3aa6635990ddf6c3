package store

// Retention: what the daily sweep (app/retention) may delete, in bounded
// batches. Each call is one transaction that looks at no more than limit
// rows (found by index in age order, from a cursor), so the write lock is
// held briefly and ingest's commits get in between batches. What is still
// owed to someone is never deleted: a result with a delivery queued,
// retrying, in flight, failed or ambiguous stays until a person acts, and an
// order stays while any result of it is stored.

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"
)

// SweepCursor is where a sweep continues: the age and rowid of the last row
// looked at. The zero value starts at the oldest row.
type SweepCursor struct {
	At    int64
	RowID int64
}

// Swept is what one batch of a sweep did.
type Swept struct {
	// Looked counts the rows the batch examined (at most the limit), Deleted
	// those it deleted; the others are held.
	Looked, Deleted int
	// Reports are the report files (PDF) of the deleted results, for the
	// caller to remove now that the rows are gone.
	Reports []string
	// Next is the cursor for the next batch; Done is set when no row older
	// than the cutoff is left after it.
	Next SweepCursor
	Done bool
	// Held is how long the batch's transaction held the database, from
	// its start to its commit (not the wait for its turn).
	Held time.Duration
}

// The batches' queries continue from the cursor with a row-value
// comparison, (age, rowid) > (cursor), which SQLite turns into one range
// of the age index read in its order, stopping after limit rows. The same
// condition written as "age > ? OR (age = ? AND rowid > ?)" is planned,
// with its values bound, as two index lookups merged (MULTI-INDEX OR) and
// sorted in a temporary b-tree: every batch then read and sorted every
// old row left after the cursor before taking the first limit, so a sweep
// took time growing with the square of the rows it had to delete.
// TestSweepQueriesReadOneRangeInOrder keeps the plans, with bound values.
const (
	// Arguments: state, before, cursor age, cursor rowid, limit.
	sweepOrdersSQL = `SELECT rowid, id, updated_at,
			EXISTS (SELECT 1 FROM results r WHERE r.order_id = orders.id)
		FROM orders INDEXED BY orders_finished_age
		WHERE state IN ('done','cancelled','deleted') AND state=? AND updated_at<? AND (updated_at, rowid) > (?, ?)
		ORDER BY updated_at, rowid LIMIT ?`
	// Arguments: before, cursor age, cursor rowid, limit.
	sweepResultsSQL = `SELECT rowid, id, received_at, data,
			EXISTS (SELECT 1 FROM deliveries d WHERE d.result_id = results.id AND d.state NOT IN ('delivered','cancelled'))
		FROM results INDEXED BY results_age
		WHERE received_at<? AND (received_at, rowid) > (?, ?)
		ORDER BY received_at, rowid LIMIT ?`
)

// FinishedOrderStates are the order states the sweep deletes when old: done
// (its results were delivered), cancelled by the EHR, deleted by staff.
// The age index holds orders of these states only (migration 5, and the
// same list in sweepOrdersSQL).
var FinishedOrderStates = []string{"done", "cancelled", "deleted"}

// SweepOrders deletes, in one transaction, old orders of state that were
// last changed before before, looking at no more than limit of them from
// cur on; an order is held while a result of it is stored. Its
// de-duplication keys go with it (the EHR sending the same message again
// after that is taken as a new order).
func (s *Store) SweepOrders(ctx context.Context, state string, before time.Time, cur SweepCursor, limit int) (Swept, error) {
	if limit < 1 {
		limit = 1
	}
	sw := Swept{Next: cur}
	var began time.Time
	err := s.tx(ctx, func(t *sql.Tx) error {
		began = time.Now()
		rows, err := t.QueryContext(ctx, sweepOrdersSQL, state, ts(before), cur.At, cur.RowID, limit)
		if err != nil {
			return fmt.Errorf("find old orders: %w", err)
		}
		var ids []string
		for rows.Next() {
			var id string
			var held bool
			if err := rows.Scan(&sw.Next.RowID, &id, &sw.Next.At, &held); err != nil {
				rows.Close()
				return fmt.Errorf("find old orders: %w", err)
			}
			sw.Looked++
			if !held {
				ids = append(ids, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find old orders: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		del, err := prepareAll(ctx, t, `DELETE FROM inbound_messages WHERE order_id=?`, `DELETE FROM orders WHERE id=?`)
		if err != nil {
			return err
		}
		defer closeAll(del)
		for _, id := range ids {
			if _, err := del[0].ExecContext(ctx, id); err != nil {
				return fmt.Errorf("delete de-duplication keys of order %s: %w", id, err)
			}
			if _, err := del[1].ExecContext(ctx, id); err != nil {
				return fmt.Errorf("delete order %s: %w", id, err)
			}
		}
		sw.Deleted = len(ids)
		return nil
	})
	if err != nil {
		return Swept{Next: cur}, fmt.Errorf("store: sweep %s orders: %w", state, err)
	}
	sw.Done = sw.Looked < limit
	sw.Held = time.Since(began)
	return sw, nil
}

// SweepResults deletes, in one transaction, results received before before
// whose every delivery is delivered or was cancelled by a person, with their
// deliveries and attempts, looking at no more than limit results from cur
// on. The report files of the deleted results are returned, not removed:
// the caller removes them after the commit (a crash in between leaves a
// file without a row, never a row without its file).
func (s *Store) SweepResults(ctx context.Context, before time.Time, cur SweepCursor, limit int) (Swept, error) {
	if limit < 1 {
		limit = 1
	}
	sw := Swept{Next: cur}
	var began time.Time
	err := s.tx(ctx, func(t *sql.Tx) error {
		began = time.Now()
		rows, err := t.QueryContext(ctx, sweepResultsSQL, ts(before), cur.At, cur.RowID, limit)
		if err != nil {
			return fmt.Errorf("find old results: %w", err)
		}
		var ids []string
		for rows.Next() {
			var id, data string
			var held bool
			if err := rows.Scan(&sw.Next.RowID, &id, &sw.Next.At, &data, &held); err != nil {
				rows.Close()
				return fmt.Errorf("find old results: %w", err)
			}
			sw.Looked++
			if held {
				continue
			}
			ids = append(ids, id)
			r, err := decodeResult(data)
			if err != nil {
				rows.Close()
				return fmt.Errorf("decode result %s: %w", id, err)
			}
			if r.Report != nil && r.Report.Path != "" {
				sw.Reports = append(sw.Reports, r.Report.Path)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find old results: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		del, err := prepareAll(ctx, t, `DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE result_id=?)`,
			`DELETE FROM deliveries WHERE result_id=?`, `DELETE FROM results WHERE id=?`)
		if err != nil {
			return err
		}
		defer closeAll(del)
		for _, id := range ids {
			if _, err := del[0].ExecContext(ctx, id); err != nil {
				return fmt.Errorf("delete attempts of result %s: %w", id, err)
			}
			if _, err := del[1].ExecContext(ctx, id); err != nil {
				return fmt.Errorf("delete deliveries of result %s: %w", id, err)
			}
			if _, err := del[2].ExecContext(ctx, id); err != nil {
				return fmt.Errorf("delete result %s: %w", id, err)
			}
		}
		sw.Deleted = len(ids)
		return nil
	})
	if err != nil {
		return Swept{Next: cur}, fmt.Errorf("store: sweep results: %w", err)
	}
	sw.Done = sw.Looked < limit
	sw.Held = time.Since(began)
	return sw, nil
}

// prepareAll prepares a batch's delete statements once in t (SQLite
// parsing each statement per deleted row cost the sweep about as much as
// the deletes themselves).
func prepareAll(ctx context.Context, t *sql.Tx, queries ...string) ([]*sql.Stmt, error) {
	stmts := make([]*sql.Stmt, 0, len(queries))
	for _, q := range queries {
		st, err := t.PrepareContext(ctx, q)
		if err != nil {
			closeAll(stmts)
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		stmts = append(stmts, st)
	}
	return stmts, nil
}

func closeAll(stmts []*sql.Stmt) {
	for _, st := range stmts {
		st.Close()
	}
}

// Checkpoint copies the write-ahead log into the database file without
// holding up writers (a passive checkpoint); the log file itself is cut
// back to JournalSizeLimit when the next write starts it over. It returns
// the log's size in pages and how many of them it copied (all, unless a
// reader still needs older ones).
func (s *Store) Checkpoint(ctx context.Context) (logPages, copied int, err error) {
	var busy int
	if err := s.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &copied); err != nil {
		return 0, 0, fmt.Errorf("store: checkpoint: %w", err)
	}
	return logPages, copied, nil
}

// FileStats is the database's size on disk.
type FileStats struct {
	// DBBytes and WALBytes are the sizes of the database file and its
	// write-ahead log.
	DBBytes, WALBytes int64
	// FreeBytes is the space inside the database file that is free for
	// reuse (pages of deleted rows): the file does not shrink, new rows
	// fill it first.
	FreeBytes int64
}

// Files reports the database's size on disk.
func (s *Store) Files(ctx context.Context) (FileStats, error) {
	var st FileStats
	var pageSize, free int64
	if err := s.db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return st, fmt.Errorf("store: page size: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free); err != nil {
		return st, fmt.Errorf("store: free pages: %w", err)
	}
	st.FreeBytes = free * pageSize
	st.DBBytes = fileSize(s.path)
	st.WALBytes = fileSize(s.path + "-wal")
	return st, nil
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}
