package store

import (
	"context"
	"fmt"
	"sync/atomic"
)

// groupIndex is the groups table as the order path needs it: the group ID
// for an ID or a name, and the default group. Orders name their group on
// every message; reading the table for each of them was a statement per
// order on the ingest's one writer.
type groupIndex struct {
	byKey map[string]string // an ID or a name → the ID
	def   string
}

// groupCache holds the groups table between its changes. It is loaded and
// dropped only inside write transactions (every change of the groups table
// is one, and they run one at a time), so a loaded index is the table as it
// stands; outside them it is read only as a guess (prepareOrder), which
// the writer checks.
type groupCache struct{ idx atomic.Pointer[groupIndex] }

// drop forgets the index: call it inside every transaction that writes the
// groups table.
func (c *groupCache) drop() { c.idx.Store(nil) }

// guess resolves grp from the index as last loaded, without the database;
// ok is false when nothing is loaded.
func (c *groupCache) guess(grp string) (id string, ok bool) {
	x := c.idx.Load()
	if x == nil {
		return "", false
	}
	return x.resolve(grp), true
}

func (x *groupIndex) resolve(grp string) string {
	if grp != "" {
		if id, ok := x.byKey[grp]; ok {
			return id
		}
	}
	return x.def
}

// resolve returns the group ID for grp (an ID or a name; empty or
// unknown: the default group), loading the index through t, a write
// transaction, when it is not loaded.
func (c *groupCache) resolve(ctx context.Context, t execer, grp string) (string, error) {
	x := c.idx.Load()
	if x == nil {
		var err error
		if x, err = loadGroupIndex(ctx, t); err != nil {
			return "", err
		}
		c.idx.Store(x)
	}
	return x.resolve(grp), nil
}

func loadGroupIndex(ctx context.Context, t execer) (*groupIndex, error) {
	rows, err := t.QueryContext(ctx, `SELECT id, name, is_default FROM groups`)
	if err != nil {
		return nil, fmt.Errorf("look up groups: %w", err)
	}
	defer rows.Close()
	x := &groupIndex{byKey: map[string]string{}}
	for rows.Next() {
		var id, name string
		var def bool
		if err := rows.Scan(&id, &name, &def); err != nil {
			return nil, fmt.Errorf("look up groups: %w", err)
		}
		// An ID wins over another group's equal name, as the statement
		// "WHERE id=? OR name=?" found the ID first.
		if _, taken := x.byKey[name]; !taken {
			x.byKey[name] = id
		}
		x.byKey[id] = id
		if def {
			x.def = id
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up groups: %w", err)
	}
	if x.def == "" {
		return nil, fmt.Errorf("look up default group: none is marked")
	}
	return x, nil
}
