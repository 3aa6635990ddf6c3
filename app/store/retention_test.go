package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// TestSweepBatchesAreBounded: every batch looks at no more than its limit,
// the cursor walks past held rows (no batch sees one twice, none loops),
// and the batches together delete exactly the old unheld orders.
func TestSweepBatchesAreBounded(t *testing.T) {
	ctx := context.Background()
	s, now := clockStore(t)
	start := *now
	var want []string
	for i := 0; i < 10; i++ {
		*now = start.Add(time.Duration(i) * time.Minute)
		acc, err := s.ApplyOrder(ctx, order("c", fmt.Sprint("m", i), fmt.Sprint("A", i), domain.ActionNew))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetOrderState(ctx, acc.OrderID, domain.OrderDeleted, "staff", "test"); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			// Held: a result of it is stored.
			if _, _, err := s.SaveResult(ctx, domain.Result{OrderID: acc.OrderID}, []string{"out"}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want = append(want, acc.OrderID)
	}
	// One more, changed after the cutoff.
	*now = start.Add(time.Hour)
	late, err := s.ApplyOrder(ctx, order("c", "late", "L", domain.ActionNew))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetOrderState(ctx, late.OrderID, domain.OrderDeleted, "staff", "test"); err != nil {
		t.Fatal(err)
	}
	cutoff := start.Add(30 * time.Minute)

	const limit = 3
	cur := SweepCursor{}
	looked, deleted, batches := 0, 0, 0
	for {
		sw, err := s.SweepOrders(ctx, "deleted", cutoff, cur, limit)
		if err != nil {
			t.Fatal(err)
		}
		batches++
		if sw.Looked > limit {
			t.Fatalf("batch %d looked at %d rows, limit %d", batches, sw.Looked, limit)
		}
		looked += sw.Looked
		deleted += sw.Deleted
		cur = sw.Next
		if sw.Done {
			break
		}
		if batches > 10 {
			t.Fatal("the sweep does not end")
		}
	}
	if looked != 10 || deleted != len(want) || batches != 4 {
		t.Errorf("looked %d, deleted %d in %d batches; want 10, %d in 4", looked, deleted, batches, len(want))
	}
	for _, id := range want {
		if _, err := s.Order(ctx, id); err == nil {
			t.Errorf("old order %s still stored", id)
		}
	}
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM orders`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 10-len(want)+1 {
		t.Errorf("%d orders left, want %d (held and late)", n, 10-len(want)+1)
	}
}

// TestRetentionQueriesUseTheirIndexes: the sweep's deletes and the
// start-up queries are index seeks, never a scan of a whole table (the
// sweep's batch queries: TestSweepQueriesReadOneRangeInOrder).
func TestRetentionQueriesUseTheirIndexes(t *testing.T) {
	s := openTemp(t)
	for _, q := range []struct{ sql, want string }{
		{`DELETE FROM inbound_messages WHERE order_id='x'`, "USING INDEX inbound_messages_order"},
		{`UPDATE deliveries SET state='ambiguous' WHERE state='inflight'`, "INDEX deliveries_inflight"},
		{`SELECT id FROM deliveries WHERE state='inflight'`, "INDEX deliveries_inflight"},
		{`SELECT data FROM orders ORDER BY received_at DESC, id DESC LIMIT 1000`, "INDEX orders_received"},
		{`SELECT data FROM orders WHERE data LIKE '%x%' ESCAPE '\' ORDER BY received_at DESC, id DESC LIMIT 1000`, "INDEX orders_received"},
	} {
		plan := explain(t, s, q.sql)
		if !contains(plan, q.want) || contains(plan, "USE TEMP B-TREE") {
			t.Errorf("%s\nplan: %s\nwant %s and no sort", q.sql, plan, q.want)
		}
	}
}

// TestSweepQueriesReadOneRangeInOrder: a batch of the sweep reads the age
// index from its cursor on, in order, and stops after its limit. Planned
// with its values bound as the sweep binds them (literals would let SQLite
// plan a different query), the old condition "age > ? OR (age = ? AND
// rowid > ?)" became two lookups merged and sorted (MULTI-INDEX OR, USE TEMP
// B-TREE FOR ORDER BY): each batch read every old row left, and a sweep of
// a million-order store deleted some 18 results a second.
func TestSweepQueriesReadOneRangeInOrder(t *testing.T) {
	s := openTemp(t)
	before, at, rowid := time.Now().UnixNano(), time.Now().Add(-time.Hour).UnixNano(), int64(12345)
	for _, q := range []struct {
		name, sql, index string
		args             []any
	}{
		{"orders", sweepOrdersSQL, "orders_finished_age", []any{"done", before, at, rowid, 500}},
		{"results", sweepResultsSQL, "results_age", []any{before, at, rowid, 500}},
	} {
		plan := explain(t, s, q.sql, q.args...)
		for _, bad := range []string{"MULTI-INDEX OR", "USE TEMP B-TREE", "SCAN "} {
			if contains(plan, bad) {
				t.Errorf("%s: plan has %q: %s", q.name, bad, plan)
			}
		}
		if !contains(plan, "SEARCH "+q.name+" USING INDEX "+q.index+" (") {
			t.Errorf("%s: plan does not search %s: %s", q.name, q.index, plan)
		}
	}
}

// TestSweepCursorContinuesWithinOneAge: rows of the same age are taken in
// rowid order across batches, none twice and none left out (the cursor's
// row-value comparison breaks ties by rowid).
func TestSweepCursorContinuesWithinOneAge(t *testing.T) {
	ctx := context.Background()
	s, now := clockStore(t)
	*now = time.Now().Add(-time.Hour)
	var ids []string
	for i := 0; i < 7; i++ {
		acc, err := s.ApplyOrder(ctx, order("c", fmt.Sprint("m", i), fmt.Sprint("A", i), domain.ActionNew))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetOrderState(ctx, acc.OrderID, domain.OrderCancelled, "ehr", "test"); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, acc.OrderID)
	}
	var n, deleted int
	cur := SweepCursor{}
	for {
		sw, err := s.SweepOrders(ctx, "cancelled", time.Now(), cur, 3)
		if err != nil {
			t.Fatal(err)
		}
		if sw.Looked > 3 {
			t.Fatalf("batch %d looked at %d rows, limit 3", n, sw.Looked)
		}
		deleted += sw.Deleted
		cur = sw.Next
		if n++; sw.Done || n > 10 {
			break
		}
	}
	if deleted != len(ids) || n != 3 {
		t.Fatalf("deleted %d of %d orders in %d batches, want all in 3", deleted, len(ids), n)
	}
	for _, id := range ids {
		if _, err := s.Order(ctx, id); err == nil {
			t.Errorf("order %s is still stored", id)
		}
	}
}

func explain(t *testing.T, s *Store, q string, args ...any) string {
	t.Helper()
	rows, err := s.db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan += detail + "; "
	}
	return plan
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestLastOrderAt(t *testing.T) {
	ctx := context.Background()
	s, now := clockStore(t)
	start := *now
	for i, c := range []string{"b", "a", "b", "c", "a"} {
		*now = start.Add(time.Duration(i) * time.Minute)
		if _, err := s.ApplyOrder(ctx, order(c, fmt.Sprint("m", i), fmt.Sprint("A", i), domain.ActionNew)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.LastOrderAt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{"a": start.Add(4 * time.Minute), "b": start.Add(2 * time.Minute), "c": start.Add(3 * time.Minute)}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for c, at := range want {
		if !got[c].Equal(at) {
			t.Errorf("%s: %v, want %v", c, got[c], at)
		}
	}
}

// TestSweepFindsEveryFinishedState: the age index holds the finished
// states only; an old order of each state in FinishedOrderStates is found
// and deleted (a state added to the list but not to the index's condition
// would be kept for ever).
func TestSweepFindsEveryFinishedState(t *testing.T) {
	ctx := context.Background()
	for _, state := range FinishedOrderStates {
		t.Run(state, func(t *testing.T) {
			s := openTemp(t)
			acc, err := s.ApplyOrder(ctx, order("c", "m-"+state, "A-"+state, domain.ActionNew))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.ExecContext(ctx, `UPDATE orders SET state=? WHERE id=?`, state, acc.OrderID); err != nil {
				t.Fatal(err)
			}
			sw, err := s.SweepOrders(ctx, state, time.Now().Add(time.Hour), SweepCursor{}, 10)
			if err != nil || sw.Deleted != 1 {
				t.Errorf("sweep of %s: %d deleted (%v), want 1", state, sw.Deleted, err)
			}
		})
	}
}
