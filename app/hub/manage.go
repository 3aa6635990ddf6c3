package hub

import (
	"context"
	"fmt"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/device"
)

// Manual actions for the Dashboard and support. Each is audit-logged with
// the actor ("dashboard:<user>", "cli") and, where it takes one, a reason;
// each wakes the tablets whose worklist it changes.

// DeleteOrder takes an appointment off the worklist (state deleted).
func (h *Hub) DeleteOrder(ctx context.Context, id, actor, reason string) (domain.Order, error) {
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

// Devices lists the paired tablets.
func (h *Hub) Devices(ctx context.Context) ([]domain.Device, error) { return h.store.Devices(ctx) }

// Groups lists the tablet groups.
func (h *Hub) Groups(ctx context.Context) ([]domain.Group, error) { return h.store.Groups(ctx) }

// NewPairingCode creates a one-time pairing code for the tablet group
// (empty: the default group).
func (h *Hub) NewPairingCode(ctx context.Context, group string) (code string, err error) {
	if group != "" {
		g, err := h.store.Group(ctx, group)
		if err != nil {
			return "", fmt.Errorf("pairing code: %w", err)
		}
		group = g.ID
	}
	code, _, err = device.NewPairingCode(ctx, h.store, h.cfg.Device.PairingCodeTTL.D(), group)
	return code, err
}
