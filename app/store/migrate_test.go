package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/internal/testfs"
)

// schema4 turns a store of the current schema back into what schema 4
// wrote (the de-duplication keys a rowid table, an index over every order
// for the last order per connection and for the age), keeping its rows.
var schema4 = []string{
	`CREATE TABLE im4 (connection TEXT NOT NULL, message_id TEXT NOT NULL, order_id TEXT NOT NULL,
		action TEXT NOT NULL, received_at INTEGER NOT NULL, PRIMARY KEY (connection, message_id))`,
	`INSERT INTO im4 SELECT * FROM inbound_messages`,
	`DROP TABLE inbound_messages`,
	`ALTER TABLE im4 RENAME TO inbound_messages`,
	`CREATE INDEX inbound_messages_order ON inbound_messages(order_id)`,
	`DROP TABLE connection_orders`,
	`DROP INDEX orders_finished_age`,
	`CREATE INDEX orders_age ON orders(state, updated_at)`,
	`CREATE INDEX orders_conn_updated ON orders(connection, updated_at)`,
	`PRAGMA user_version = 4`,
}

// TestMigrateToSchema5: a store of schema 4 keeps its orders, its
// de-duplication keys (a message sent again is still a duplicate) and
// when each connection last brought an order; the sweep still finds old
// finished orders.
func TestMigrateToSchema5(t *testing.T) {
	ctx := context.Background()
	path := testfs.TempDir(t) + "/hub.db"
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s, err := Open(path, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	start := now
	last := map[string]time.Time{}
	for i, c := range []string{"gdt", "hl7", "gdt", "hl7", "hl7"} {
		now = start.Add(time.Duration(i) * time.Minute)
		if _, err := s.ApplyOrder(ctx, order(c, fmt.Sprint("m", i), fmt.Sprint("A", i), domain.ActionNew)); err != nil {
			t.Fatal(err)
		}
		last[c] = now
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE orders SET state='done' WHERE placer_number='A0'`); err != nil {
		t.Fatal(err)
	}
	for _, q := range schema4 {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()

	now = start.Add(time.Hour)
	s, err = Open(path, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	var ddl string
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != SchemaVersion {
		t.Fatalf("schema %d (%v), want %d", v, err, SchemaVersion)
	}
	if err := s.db.QueryRow(`SELECT sql FROM sqlite_master WHERE name='inbound_messages'`).Scan(&ddl); err != nil || !strings.Contains(ddl, "WITHOUT ROWID") {
		t.Errorf("inbound_messages after the migration: %q (%v), want a table without rowid", ddl, err)
	}
	for _, gone := range []string{"orders_age", "orders_conn_updated"} {
		var n int
		s.db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name=?`, gone).Scan(&n)
		if n != 0 {
			t.Errorf("index %s is still there", gone)
		}
	}
	got, err := s.LastOrderAt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(last) || !got["gdt"].Equal(last["gdt"]) || !got["hl7"].Equal(last["hl7"]) {
		t.Errorf("last orders after the migration %v, want %v", got, last)
	}
	acc, err := s.ApplyOrder(ctx, order("hl7", "m3", "A3", domain.ActionNew))
	if err != nil || !acc.Duplicate {
		t.Errorf("message m3 sent again after the migration: %+v, %v; want a duplicate", acc, err)
	}
	sw, err := s.SweepOrders(ctx, "done", start.Add(30*time.Minute), SweepCursor{}, 100)
	if err != nil || sw.Deleted != 1 {
		t.Errorf("sweep after the migration: %d orders deleted (%v), want 1", sw.Deleted, err)
	}
}
