package hub

import (
	"context"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/update"
)

// updateOptions lets tests point the update checker at a local feed signed
// with a test key.
var updateOptions = func(*update.Options) {}

// startUpdateChecks adds the update checker as a component when
// update.check is on; a checker that cannot be made is logged and left out
// (the hub runs without update notices).
func (h *Hub) startUpdateChecks() {
	if !h.cfg.Update.Enabled() {
		return
	}
	opts := update.Options{Feed: h.cfg.Update.Feed, Current: Version, DataDir: h.dataDir, Log: h.log.WithField("component", "update")}
	updateOptions(&opts)
	c, err := update.New(opts)
	if err != nil {
		h.log.WithError(err).Warn("update notices are off")
		return
	}
	h.updates = c
	h.add("update", func(ctx context.Context) error { return c.Run(ctx) })
}

// updateNotice is the newer version for Status, if any.
func (h *Hub) updateNotice() *control.UpdateNotice {
	if h.updates == nil {
		return nil
	}
	n := h.updates.Latest()
	if n == nil {
		return nil
	}
	return &control.UpdateNotice{Version: n.Version, Date: n.Date, Notes: n.Notes, URL: n.URL}
}
