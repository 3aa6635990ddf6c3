package hub

import (
	"context"
	"fmt"
	"time"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/device"
)

// Manual actions for the Dashboard and support. Each is audit-logged with
// the actor ("dashboard:<user>", "cli") and, where it takes one, a reason;
// each wakes the tablets whose worklist it changes.

// DeleteOrder takes an appointment off the worklist (state deleted).
func (h *Hub) deleteOrder(ctx context.Context, id, actor, reason string) (domain.Order, error) {
	o, err := h.store.SetOrderState(ctx, id, domain.OrderDeleted, actor, reason)
	if err != nil {
		return o, err
	}
	h.log.WithFields(map[string]any{"order": id, "actor": actor}).Info("order deleted by hand")
	h.wakeGroup(o.Group)
	return o, nil
}

// UpdateDevice renames a tablet, moves it to another group or revokes it.
// A revoked tablet's next call gets 401; a moved tablet's next worklist
// is that of its new group.
func (h *Hub) UpdateDevice(ctx context.Context, id string, c store.DeviceChange, actor, reason string) (domain.Device, error) {
	before, err := h.store.Device(ctx, id)
	if err != nil {
		return before, err
	}
	d, err := h.store.UpdateDevice(ctx, id, c, actor, reason)
	if err != nil {
		return d, err
	}
	if d.Group != before.Group || d.Revoked {
		// Long-polling calls of the tablet re-check it when woken.
		h.wakeGroup(before.Group)
	}
	return d, nil
}

// newPairingCode creates a one-time pairing code for the tablet group
// (empty: the default group).
func (h *Hub) newPairingCode(ctx context.Context, group string) (code string, expires time.Time, grp string, err error) {
	if group != "" {
		g, err := h.store.Group(ctx, group)
		if err != nil {
			return "", time.Time{}, "", fmt.Errorf("pairing code: %w", err)
		}
		group = g.ID
	}
	if h.device != nil {
		// The code people are shown also lifts a pairing lockout.
		code, expires, err = h.device.NewPairingCode(ctx, h.cfg.Device.PairingCodeTTL.D(), group)
	} else {
		code, expires, err = device.NewPairingCode(ctx, h.store, h.cfg.Device.PairingCodeTTL.D(), group)
	}
	if err == nil {
		h.publish(control.Event{Kind: control.EventTablets})
	}
	return code, expires, group, err
}
