package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; migration i brings the schema to version i+1.
// Never edit a released migration: append a new one.
var migrations = []string{
	// 1: the first schema.
	`
CREATE TABLE groups (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	is_default INTEGER NOT NULL DEFAULT 0
);
INSERT INTO groups(id, name, is_default) VALUES ('default', 'Default', 1);

CREATE TABLE orders (
	id            TEXT PRIMARY KEY,
	connection    TEXT NOT NULL,
	placer_number TEXT NOT NULL DEFAULT '',
	state         TEXT NOT NULL,
	grp           TEXT NOT NULL,
	patient_id    TEXT NOT NULL DEFAULT '',
	measurement   TEXT NOT NULL DEFAULT '',
	received_at   INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	data          TEXT NOT NULL
);
CREATE INDEX orders_worklist ON orders(grp, state, received_at);
CREATE INDEX orders_placer ON orders(connection, placer_number);

-- One row per source message accepted: the de-duplication key.
CREATE TABLE inbound_messages (
	connection  TEXT NOT NULL,
	message_id  TEXT NOT NULL,
	order_id    TEXT NOT NULL,
	action      TEXT NOT NULL,
	received_at INTEGER NOT NULL,
	PRIMARY KEY (connection, message_id)
);

CREATE TABLE devices (
	id          TEXT PRIMARY KEY,
	serial      TEXT NOT NULL,
	name        TEXT NOT NULL,
	model       TEXT NOT NULL DEFAULT '',
	app_version TEXT NOT NULL DEFAULT '',
	grp         TEXT NOT NULL REFERENCES groups(id),
	token_hash  TEXT NOT NULL UNIQUE,
	paired_at   INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL DEFAULT 0,
	battery     INTEGER NOT NULL DEFAULT -1,
	ip          TEXT NOT NULL DEFAULT '',
	revoked     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE pairing_codes (
	code_hash  TEXT PRIMARY KEY,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER NOT NULL DEFAULT 0,
	grp        TEXT NOT NULL DEFAULT 'default'
);

CREATE TABLE results (
	id              TEXT PRIMARY KEY,
	order_id        TEXT NOT NULL DEFAULT '',
	device_id       TEXT NOT NULL DEFAULT '',
	idempotency_key TEXT NOT NULL DEFAULT '',
	measurement     TEXT NOT NULL DEFAULT '',
	received_at     INTEGER NOT NULL,
	data            TEXT NOT NULL
);
CREATE UNIQUE INDEX results_idem ON results(device_id, idempotency_key) WHERE idempotency_key != '';
CREATE INDEX results_order ON results(order_id);

CREATE TABLE deliveries (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	result_id   TEXT NOT NULL REFERENCES results(id),
	connection  TEXT NOT NULL,
	state       TEXT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);
CREATE INDEX deliveries_queue ON deliveries(connection, state, id);
CREATE INDEX deliveries_result ON deliveries(result_id);

CREATE TABLE attempts (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
	at          INTEGER NOT NULL,
	duration_ns INTEGER NOT NULL,
	error       TEXT NOT NULL DEFAULT '',
	answer      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX attempts_delivery ON attempts(delivery_id);

CREATE TABLE audit (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	at     INTEGER NOT NULL,
	actor  TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
`,
	// 2: how far a delivery's attempts got (outbound connectors that write
	// in steps: a HALO query submitted, a Leyr note created), so that a
	// retry or a restart resumes instead of writing a step twice.
	`
ALTER TABLE deliveries ADD COLUMN progress TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN progress_resumable INTEGER NOT NULL DEFAULT 0;
`,
	// 3: the Integration API's clients (secrets by hash only) and the
	// signing keys of its token endpoint; an index finding the results of
	// an order is there already (results_order).
	`
CREATE TABLE integration_clients (
	id           TEXT PRIMARY KEY,
	connection   TEXT NOT NULL,
	name         TEXT NOT NULL,
	secret_hash  TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	revoked_at   INTEGER NOT NULL DEFAULT 0,
	last_used_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX integration_clients_conn ON integration_clients(connection, created_at);

CREATE TABLE integration_keys (
	kid         TEXT PRIMARY KEY,
	connection  TEXT NOT NULL,
	private_key BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	retired_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX integration_keys_conn ON integration_keys(connection, created_at);
`,
	// 4: retention and start-up without full scans: the sweep finds old
	// finished orders and old results by age, and the de-duplication keys
	// of an order by the order; when each connection last brought an order
	// is a seek per connection, the deliveries left in flight a seek too.
	`
CREATE INDEX orders_age ON orders(state, updated_at);
CREATE INDEX orders_conn_updated ON orders(connection, updated_at);
CREATE INDEX inbound_messages_order ON inbound_messages(order_id);
CREATE INDEX results_age ON results(received_at);
-- The Dashboard's order list, newest first, reads the newest rows, not
-- every order ever stored.
CREATE INDEX orders_received ON orders(received_at, id);
-- RecoverInflight at every start: the few deliveries in flight, not a
-- scan of every delivery ever made.
CREATE INDEX deliveries_inflight ON deliveries(id) WHERE state='inflight';
`,
	// 5: fewer b-trees written for each order received. The de-duplication
	// keys are a table without rowid (the key is the table: one b-tree, not
	// a table and its key's index); the age index the sweep reads holds
	// only finished orders (a new order is not in it); when each connection
	// last brought an order is one row per connection, written once per
	// commit, instead of an index over every order.
	`
CREATE TABLE inbound_messages_new (
	connection  TEXT NOT NULL,
	message_id  TEXT NOT NULL,
	order_id    TEXT NOT NULL,
	action      TEXT NOT NULL,
	received_at INTEGER NOT NULL,
	PRIMARY KEY (connection, message_id)
) WITHOUT ROWID;
INSERT INTO inbound_messages_new(connection, message_id, order_id, action, received_at)
	SELECT connection, message_id, order_id, action, received_at FROM inbound_messages;
DROP TABLE inbound_messages;
ALTER TABLE inbound_messages_new RENAME TO inbound_messages;
CREATE INDEX inbound_messages_order ON inbound_messages(order_id);

CREATE TABLE connection_orders (
	connection TEXT PRIMARY KEY,
	last_at    INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO connection_orders(connection, last_at)
	SELECT connection, MAX(updated_at) FROM orders GROUP BY connection;
DROP INDEX orders_conn_updated;

DROP INDEX orders_age;
CREATE INDEX orders_finished_age ON orders(state, updated_at) WHERE state IN ('done','cancelled','deleted');
`,
}

// SchemaVersion is the schema version this build writes.
var SchemaVersion = len(migrations)

func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return classifyOpenErr(s.path, err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("store: %s: %w (schema %d, this version knows up to %d); install the newer version again or restore a backup — the file was not changed",
			s.path, ErrNewerSchema, v, SchemaVersion)
	}
	for i := v; i < SchemaVersion; i++ {
		err := s.tx(ctx, func(t *sql.Tx) error {
			if _, err := t.ExecContext(ctx, migrations[i]); err != nil {
				return err
			}
			_, err := t.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migrate %s to schema %d: %w", s.path, i+1, classifyOpenErr(s.path, err))
		}
	}
	return nil
}
