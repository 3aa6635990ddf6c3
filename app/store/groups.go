package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/mesi/mconnect/app/domain"
)

// ErrInUse is returned when deleting something others still refer to.
var ErrInUse = errors.New("still in use")

// Groups lists the tablet groups, the default first.
func (s *Store) Groups(ctx context.Context) ([]domain.Group, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, is_default FROM groups ORDER BY is_default DESC, name`)
	if err != nil {
		return nil, fmt.Errorf("store: list groups: %w", err)
	}
	defer rows.Close()
	var out []domain.Group
	for rows.Next() {
		var g domain.Group
		if err := rows.Scan(&g.ID, &g.Name, &g.Default); err != nil {
			return nil, fmt.Errorf("store: list groups: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Group returns one group by ID or name.
func (s *Store) Group(ctx context.Context, idOrName string) (domain.Group, error) {
	var g domain.Group
	err := s.db.QueryRowContext(ctx, `SELECT id, name, is_default FROM groups WHERE id=? OR name=?`, idOrName, idOrName).Scan(&g.ID, &g.Name, &g.Default)
	if errors.Is(err, sql.ErrNoRows) {
		return g, fmt.Errorf("store: group %q: %w", idOrName, domain.ErrNotFound)
	}
	if err != nil {
		return g, fmt.Errorf("store: read group %q: %w", idOrName, err)
	}
	return g, nil
}

// EnsureGroup creates the group id (named name) if it does not exist yet.
// Profiles use it to create the groups their group maps name.
func (s *Store) EnsureGroup(ctx context.Context, id, name string) error {
	if name == "" {
		name = id
	}
	err := s.tx(ctx, func(t *sql.Tx) error {
		s.groups.drop()
		_, err := t.ExecContext(ctx, `INSERT INTO groups(id, name, is_default) VALUES (?,?,0) ON CONFLICT DO NOTHING`, id, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: ensure group %q: %w", id, err)
	}
	return nil
}

// CreateGroup adds a group with a new ID.
func (s *Store) CreateGroup(ctx context.Context, name, actor string) (domain.Group, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return domain.Group{}, errors.New("store: a group needs a name")
	}
	g := domain.Group{ID: NewID("grp"), Name: name}
	err := s.tx(ctx, func(t *sql.Tx) error {
		s.groups.drop()
		if _, err := t.ExecContext(ctx, `INSERT INTO groups(id, name, is_default) VALUES (?,?,0)`, g.ID, g.Name); err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				return fmt.Errorf("store: a group named %q exists already", name)
			}
			return fmt.Errorf("store: create group: %w", err)
		}
		return insertAudit(ctx, t, domain.AuditEntry{At: s.now().UTC(), Actor: actor, Action: "group.create", Target: g.ID, Detail: name})
	})
	return g, err
}

// RenameGroup renames a group.
func (s *Store) RenameGroup(ctx context.Context, id, name, actor string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return errors.New("store: a group needs a name")
	}
	return s.tx(ctx, func(t *sql.Tx) error {
		s.groups.drop()
		r, err := t.ExecContext(ctx, `UPDATE groups SET name=? WHERE id=?`, name, id)
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				return fmt.Errorf("store: a group named %q exists already", name)
			}
			return fmt.Errorf("store: rename group: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return fmt.Errorf("store: group %q: %w", id, domain.ErrNotFound)
		}
		return insertAudit(ctx, t, domain.AuditEntry{At: s.now().UTC(), Actor: actor, Action: "group.rename", Target: id, Detail: name})
	})
}

// SetDefaultGroup makes id the default group.
func (s *Store) SetDefaultGroup(ctx context.Context, id, actor string) error {
	return s.tx(ctx, func(t *sql.Tx) error {
		s.groups.drop()
		var n int
		if err := t.QueryRowContext(ctx, `SELECT COUNT(*) FROM groups WHERE id=?`, id).Scan(&n); err != nil || n == 0 {
			return fmt.Errorf("store: group %q: %w", id, domain.ErrNotFound)
		}
		if _, err := t.ExecContext(ctx, `UPDATE groups SET is_default = (id = ?)`, id); err != nil {
			return fmt.Errorf("store: set default group: %w", err)
		}
		return insertAudit(ctx, t, domain.AuditEntry{At: s.now().UTC(), Actor: actor, Action: "group.default", Target: id})
	})
}

// DeleteGroup removes a group that no device and no open order uses; the
// default group cannot be deleted.
func (s *Store) DeleteGroup(ctx context.Context, id, actor string) error {
	return s.tx(ctx, func(t *sql.Tx) error {
		s.groups.drop()
		var def bool
		err := t.QueryRowContext(ctx, `SELECT is_default FROM groups WHERE id=?`, id).Scan(&def)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: group %q: %w", id, domain.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: delete group: %w", err)
		}
		if def {
			return fmt.Errorf("store: group %q is the default group: make another group the default first: %w", id, ErrInUse)
		}
		var devs, open int
		t.QueryRowContext(ctx, `SELECT COUNT(*) FROM devices WHERE grp=? AND revoked=0`, id).Scan(&devs)
		t.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE grp=? AND state IN ('scheduled','in_progress')`, id).Scan(&open)
		if devs > 0 || open > 0 {
			return fmt.Errorf("store: group %q has %d tablets and %d open appointments: %w", id, devs, open, ErrInUse)
		}
		if _, err := t.ExecContext(ctx, `UPDATE devices SET grp=(SELECT id FROM groups WHERE is_default=1) WHERE grp=?`, id); err != nil {
			return fmt.Errorf("store: delete group: %w", err)
		}
		if _, err := t.ExecContext(ctx, `DELETE FROM groups WHERE id=?`, id); err != nil {
			return fmt.Errorf("store: delete group: %w", err)
		}
		return insertAudit(ctx, t, domain.AuditEntry{At: s.now().UTC(), Actor: actor, Action: "group.delete", Target: id})
	})
}
