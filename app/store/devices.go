package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// AddPairingCode stores a one-time pairing code by its hash.
func (s *Store) AddPairingCode(ctx context.Context, codeHash string, expires time.Time, group string) error {
	if group == "" {
		group = domain.DefaultGroupID
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO pairing_codes(code_hash, created_at, expires_at, grp) VALUES (?,?,?,?)`,
		codeHash, ts(s.now()), ts(expires), group)
	if err != nil {
		return fmt.Errorf("store: add pairing code: %w", err)
	}
	return nil
}

// PairDevice consumes the pairing code with codeHash and stores the device
// with its token hash, in one transaction. The device joins the code's group
// (or the default group). A code that is unknown, used or expired gives an
// error wrapping domain.ErrPairingCodeInvalid.
func (s *Store) PairDevice(ctx context.Context, codeHash string, d domain.Device, tokenHash string) (domain.Device, error) {
	now := s.now().UTC()
	err := s.tx(ctx, func(t *sql.Tx) error {
		var exp, used int64
		var grp string
		err := t.QueryRowContext(ctx, `SELECT expires_at, used_at, grp FROM pairing_codes WHERE code_hash=?`, codeHash).Scan(&exp, &used, &grp)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (used != 0 || exp < ts(now))) {
			return fmt.Errorf("store: pair device: %w", domain.ErrPairingCodeInvalid)
		}
		if err != nil {
			return fmt.Errorf("store: read pairing code: %w", err)
		}
		if _, err := t.ExecContext(ctx, `UPDATE pairing_codes SET used_at=? WHERE code_hash=?`, ts(now), codeHash); err != nil {
			return fmt.Errorf("store: use pairing code: %w", err)
		}
		if d.Group, err = s.groups.resolve(ctx, t, grp); err != nil {
			return err
		}
		d.ID = NewID("dev")
		d.PairedAt = now
		d.LastSeen = now
		if d.Name == "" {
			d.Name = d.Serial
		}
		if _, err := t.ExecContext(ctx, `INSERT INTO devices(id, serial, name, model, app_version, grp, token_hash, paired_at, last_seen, battery, ip)
			VALUES (?,?,?,?,?,?,?,?,?,?,?)`, d.ID, d.Serial, d.Name, d.Model, d.AppVersion, d.Group, tokenHash, ts(d.PairedAt), ts(d.LastSeen), -1, d.IP); err != nil {
			return fmt.Errorf("store: add device: %w", err)
		}
		d.Battery = -1
		return insertAudit(ctx, t, domain.AuditEntry{At: now, Actor: "device:" + d.ID, Action: "device.pair", Target: d.ID,
			Detail: fmt.Sprintf("serial %s, model %s, group %s", d.Serial, d.Model, d.Group)})
	})
	return d, err
}

const deviceCols = `id, serial, name, model, app_version, grp, paired_at, last_seen, battery, ip, revoked`

func scanDevice(sc interface{ Scan(...any) error }) (domain.Device, error) {
	var d domain.Device
	var paired, seen int64
	err := sc.Scan(&d.ID, &d.Serial, &d.Name, &d.Model, &d.AppVersion, &d.Group, &paired, &seen, &d.Battery, &d.IP, &d.Revoked)
	d.PairedAt, d.LastSeen = fromTS(paired), fromTS(seen)
	return d, err
}

// DeviceByTokenHash returns the device holding a token, revoked or not.
func (s *Store) DeviceByTokenHash(ctx context.Context, tokenHash string) (domain.Device, error) {
	d, err := scanDevice(s.db.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices WHERE token_hash=?`, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("store: device by token: %w", domain.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("store: device by token: %w", err)
	}
	return d, nil
}

// Device returns one device by ID.
func (s *Store) Device(ctx context.Context, id string) (domain.Device, error) {
	d, err := scanDevice(s.db.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("store: device %s: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("store: device %s: %w", id, err)
	}
	return d, nil
}

// Devices lists all devices, revoked ones last.
func (s *Store) Devices(ctx context.Context) ([]domain.Device, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+deviceCols+` FROM devices ORDER BY revoked, name`)
	if err != nil {
		return nil, fmt.Errorf("store: list devices: %w", err)
	}
	defer rows.Close()
	var out []domain.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list devices: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Heartbeat records that a device was heard from.
func (s *Store) Heartbeat(ctx context.Context, id string, battery int, appVersion, ip string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE devices SET last_seen=?, battery=?, app_version=CASE WHEN ?='' THEN app_version ELSE ? END, ip=CASE WHEN ?='' THEN ip ELSE ? END WHERE id=?`,
		ts(s.now()), battery, appVersion, appVersion, ip, ip, id)
	if err != nil {
		return fmt.Errorf("store: heartbeat of %s: %w", id, err)
	}
	return nil
}

// Touch records that a device made a call, without other news.
func (s *Store) Touch(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE devices SET last_seen=? WHERE id=?`, ts(s.now()), id)
	if err != nil {
		return fmt.Errorf("store: touch %s: %w", id, err)
	}
	return nil
}

// DeviceChange is a manual change to a device; nil fields stay as they are.
type DeviceChange struct {
	Name   *string
	Group  *string
	Revoke bool
}

// UpdateDevice renames, moves or revokes a device, audit-logged as actor.
func (s *Store) UpdateDevice(ctx context.Context, id string, c DeviceChange, actor, reason string) (domain.Device, error) {
	var out domain.Device
	err := s.tx(ctx, func(t *sql.Tx) error {
		d, err := scanDevice(t.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices WHERE id=?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: device %s: %w", id, domain.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: device %s: %w", id, err)
		}
		now := s.now().UTC()
		if c.Name != nil && *c.Name != d.Name {
			if *c.Name == "" {
				return errors.New("store: a tablet needs a name")
			}
			d.Name = *c.Name
			if err := insertAudit(ctx, t, domain.AuditEntry{At: now, Actor: actor, Action: "device.rename", Target: id, Reason: reason, Detail: d.Name}); err != nil {
				return err
			}
		}
		if c.Group != nil && *c.Group != d.Group {
			var gid string
			if err := t.QueryRowContext(ctx, `SELECT id FROM groups WHERE id=? OR name=?`, *c.Group, *c.Group).Scan(&gid); err != nil {
				return fmt.Errorf("store: group %q: %w", *c.Group, domain.ErrNotFound)
			}
			d.Group = gid
			if err := insertAudit(ctx, t, domain.AuditEntry{At: now, Actor: actor, Action: "device.move", Target: id, Reason: reason, Detail: gid}); err != nil {
				return err
			}
		}
		if c.Revoke && !d.Revoked {
			d.Revoked = true
			if err := insertAudit(ctx, t, domain.AuditEntry{At: now, Actor: actor, Action: "device.revoke", Target: id, Reason: reason}); err != nil {
				return err
			}
		}
		if _, err := t.ExecContext(ctx, `UPDATE devices SET name=?, grp=?, revoked=? WHERE id=?`, d.Name, d.Group, d.Revoked, id); err != nil {
			return fmt.Errorf("store: update device %s: %w", id, err)
		}
		out = d
		return nil
	})
	return out, err
}
