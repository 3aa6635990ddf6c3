package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// The Integration API (connectors/integration) keeps its clients and the
// signing keys of its token endpoint here, and reads orders by the EHR's
// own ID (the placer number) and the results answering them.

// IntegrationClient is a client registered for a connection's built-in
// token endpoint. Only the hash of its secret is kept.
type IntegrationClient struct {
	ID         string
	Connection string
	Name       string
	SecretHash string
	CreatedAt  time.Time
	RevokedAt  time.Time // zero while active
	LastUsedAt time.Time // last token issued
}

// Revoked reports whether the client was revoked.
func (c IntegrationClient) Revoked() bool { return !c.RevokedAt.IsZero() }

// SigningKey is one signing key of a connection's token endpoint: a
// PKCS #8 private key (DER), current until a newer one exists.
type SigningKey struct {
	ID         string // the JWT "kid"
	Connection string
	Private    []byte
	CreatedAt  time.Time
	RetiredAt  time.Time // zero while it signs
}

const clientCols = `id, connection, name, secret_hash, created_at, revoked_at, last_used_at`

func scanClient(sc interface{ Scan(...any) error }) (IntegrationClient, error) {
	var c IntegrationClient
	var created, revoked, used int64
	if err := sc.Scan(&c.ID, &c.Connection, &c.Name, &c.SecretHash, &created, &revoked, &used); err != nil {
		return c, err
	}
	c.CreatedAt, c.RevokedAt, c.LastUsedAt = fromTS(created), fromTS(revoked), fromTS(used)
	return c, nil
}

// AddIntegrationClient stores a new client (ID, connection, name and
// secret hash set by the caller) and audits it as actor, in one transaction.
func (s *Store) AddIntegrationClient(ctx context.Context, c IntegrationClient, actor string) (IntegrationClient, error) {
	if c.ID == "" || c.Connection == "" || c.SecretHash == "" {
		return c, errors.New("store: add integration client: ID, connection and secret hash are required")
	}
	c.CreatedAt = s.now().UTC()
	err := s.tx(ctx, func(t *sql.Tx) error {
		if _, err := t.ExecContext(ctx, `INSERT INTO integration_clients(id, connection, name, secret_hash, created_at) VALUES (?,?,?,?,?)`,
			c.ID, c.Connection, c.Name, c.SecretHash, ts(c.CreatedAt)); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		return insertAudit(ctx, t, domain.AuditEntry{At: c.CreatedAt, Actor: actor, Action: "integration.client.add", Target: c.ID,
			Detail: fmt.Sprintf("connection %s, name %q", c.Connection, c.Name)})
	})
	if err != nil {
		return c, fmt.Errorf("store: add integration client %s: %w", c.ID, err)
	}
	return c, nil
}

// IntegrationClientByID returns one client; domain.ErrNotFound when unknown.
func (s *Store) IntegrationClientByID(ctx context.Context, id string) (IntegrationClient, error) {
	q, err := s.stmt(ctx, `SELECT `+clientCols+` FROM integration_clients WHERE id=?`)
	if err != nil {
		return IntegrationClient{}, fmt.Errorf("store: integration client %s: %w", id, err)
	}
	c, err := scanClient(q.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("store: integration client %s: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: integration client %s: %w", id, err)
	}
	return c, nil
}

// IntegrationClients lists the clients of a connection (all connections
// when conn is empty), oldest first.
func (s *Store) IntegrationClients(ctx context.Context, conn string) ([]IntegrationClient, error) {
	q := `SELECT ` + clientCols + ` FROM integration_clients`
	var args []any
	if conn != "" {
		q += ` WHERE connection=?`
		args = append(args, conn)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list integration clients: %w", err)
	}
	defer rows.Close()
	var out []IntegrationClient
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list integration clients: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RevokeIntegrationClient revokes a client at once (its tokens stop
// working) and audits it with actor and reason. Revoking a revoked client
// changes nothing; an unknown one gives domain.ErrNotFound.
func (s *Store) RevokeIntegrationClient(ctx context.Context, id, actor, reason string) (IntegrationClient, error) {
	if strings.TrimSpace(actor) == "" {
		return IntegrationClient{}, fmt.Errorf("store: revoke integration client %s: who revokes it must be named", id)
	}
	var out IntegrationClient
	now := s.now().UTC()
	err := s.tx(ctx, func(t *sql.Tx) error {
		c, err := scanClient(t.QueryRowContext(ctx, `SELECT `+clientCols+` FROM integration_clients WHERE id=?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return domain.ErrNotFound
		}
		if err != nil {
			return err
		}
		if !c.Revoked() {
			c.RevokedAt = now
			if _, err := t.ExecContext(ctx, `UPDATE integration_clients SET revoked_at=? WHERE id=?`, ts(now), id); err != nil {
				return err
			}
			if err := insertAudit(ctx, t, domain.AuditEntry{At: now, Actor: actor, Action: "integration.client.revoke", Target: id,
				Reason: reason, Detail: fmt.Sprintf("connection %s, name %q", c.Connection, c.Name)}); err != nil {
				return err
			}
		}
		out = c
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("store: revoke integration client %s: %w", id, err)
	}
	return out, nil
}

// TouchIntegrationClient records that a token was issued to the client.
func (s *Store) TouchIntegrationClient(ctx context.Context, id string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE integration_clients SET last_used_at=? WHERE id=?`, ts(at), id); err != nil {
		return fmt.Errorf("store: record use of integration client %s: %w", id, err)
	}
	return nil
}

// SigningKeys returns a connection's signing keys, newest first.
func (s *Store) SigningKeys(ctx context.Context, conn string) ([]SigningKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kid, connection, private_key, created_at, retired_at FROM integration_keys
		WHERE connection=? ORDER BY created_at DESC, kid DESC`, conn)
	if err != nil {
		return nil, fmt.Errorf("store: signing keys of %s: %w", conn, err)
	}
	defer rows.Close()
	var out []SigningKey
	for rows.Next() {
		var k SigningKey
		var created, retired int64
		if err := rows.Scan(&k.ID, &k.Connection, &k.Private, &created, &retired); err != nil {
			return nil, fmt.Errorf("store: signing keys of %s: %w", conn, err)
		}
		k.CreatedAt, k.RetiredAt = fromTS(created), fromTS(retired)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RotateSigningKey stores k as the connection's current key, retires the
// keys that were current (they keep verifying until deleted) and deletes
// the keys retired before dropBefore, in one transaction.
func (s *Store) RotateSigningKey(ctx context.Context, k SigningKey, dropBefore time.Time) error {
	if k.ID == "" || k.Connection == "" || len(k.Private) == 0 {
		return errors.New("store: rotate signing key: ID, connection and key are required")
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now().UTC()
	}
	err := s.tx(ctx, func(t *sql.Tx) error {
		if _, err := t.ExecContext(ctx, `DELETE FROM integration_keys WHERE connection=? AND retired_at!=0 AND retired_at<?`,
			k.Connection, ts(dropBefore)); err != nil {
			return err
		}
		if _, err := t.ExecContext(ctx, `UPDATE integration_keys SET retired_at=? WHERE connection=? AND retired_at=0`,
			ts(k.CreatedAt), k.Connection); err != nil {
			return err
		}
		_, err := t.ExecContext(ctx, `INSERT INTO integration_keys(kid, connection, private_key, created_at) VALUES (?,?,?,?)`,
			k.ID, k.Connection, k.Private, ts(k.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: rotate signing key of %s: %w", k.Connection, err)
	}
	return nil
}

// OrderByPlacer returns the connection's newest order with the placer
// number, in whatever state; domain.ErrNotFound when there is none.
func (s *Store) OrderByPlacer(ctx context.Context, conn, placer string) (domain.Order, error) {
	q, err := s.stmt(ctx, `SELECT data FROM orders WHERE connection=? AND placer_number=? ORDER BY received_at DESC, id DESC LIMIT 1`)
	if err != nil {
		return domain.Order{}, fmt.Errorf("store: order %q of %s: %w", placer, conn, err)
	}
	var data string
	err = q.QueryRowContext(ctx, conn, placer).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Order{}, fmt.Errorf("store: order %q of %s: %w", placer, conn, domain.ErrNotFound)
	}
	if err != nil {
		return domain.Order{}, fmt.Errorf("store: order %q of %s: %w", placer, conn, err)
	}
	o, err := decodeOrder(data)
	if err != nil {
		return domain.Order{}, fmt.Errorf("store: decode order %q of %s: %w", placer, conn, err)
	}
	return *o, nil
}

// ResultsOfOrder returns the results answering an order, oldest first.
func (s *Store) ResultsOfOrder(ctx context.Context, orderID string) ([]domain.Result, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM results WHERE order_id=? ORDER BY received_at, id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("store: results of order %s: %w", orderID, err)
	}
	defer rows.Close()
	var out []domain.Result
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("store: results of order %s: %w", orderID, err)
		}
		r, err := decodeResult(data)
		if err != nil {
			return nil, fmt.Errorf("store: decode result of order %s: %w", orderID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AuditAll writes audit entries in one transaction (the Integration API
// records every call, many at a time under load).
func (s *Store) AuditAll(ctx context.Context, entries []domain.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	now := s.now().UTC()
	err := s.tx(ctx, func(t *sql.Tx) error {
		for _, e := range entries {
			if e.At.IsZero() {
				e.At = now
			}
			if err := insertAudit(ctx, t, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: write %d audit entries: %w", len(entries), err)
	}
	return nil
}
