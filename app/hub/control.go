package hub

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/diag"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/logging"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/connectors/registry"
	"github.com/mesi/mconnect/device"
)

// The hub's in-process implementation of control.API. Manual actions are
// audit-logged with the actor ("dashboard", "cli") and the reason.

var _ control.API = (*Hub)(nil)

// typed turns store errors into control errors for people.
func typed(err error) error {
	var ce *control.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return err
	case errors.Is(err, domain.ErrNotFound):
		return &control.Error{Kind: control.NotFound, Message: "not found", Detail: err.Error()}
	case errors.Is(err, store.ErrInUse):
		return &control.Error{Kind: control.Conflict, Message: "still in use: move its tablets and open appointments to another group, or make another group the default, first", Detail: err.Error()}
	case errors.Is(err, store.ErrDeliveryBusy):
		return &control.Error{Kind: control.Conflict, Message: "a send of this delivery is under way; try again in a moment", Detail: err.Error()}
	case errors.Is(err, store.ErrDeliveryState):
		return &control.Error{Kind: control.Conflict, Message: "the delivery is not in a state that allows this", Detail: err.Error()}
	}
	return &control.Error{Kind: control.Internal, Message: "the hub could not do this", Detail: err.Error()}
}

func actor(a, def string) string {
	if a == "" {
		return def
	}
	return a
}

// Status implements control.API.
func (h *Hub) Status(context.Context) (control.Status, error) {
	h.mu.Lock()
	started := h.started
	h.mu.Unlock()
	state := control.StateRunning
	if started.IsZero() {
		state = control.StateStopping // opened offline or not yet run
		if h.device != nil {
			state = control.StateStarting
		}
	}
	return control.Status{
		State: state, Version: Version, HubID: h.hubID, HubName: h.cfg.Hub.Name, EHR: h.profile.ID,
		ConfigPath: h.opts.ConfigPath, DataDir: h.dataDir, LANAddress: h.LANAddress(), Fingerprint: h.Fingerprint(),
		StartedAt: started, PID: os.Getpid(), Health: h.Health(), Desktop: h.opts.Desktop, Storage: h.storage(), Update: h.updateNotice(),
	}, nil
}

// LANAddress is the address tablets reach the hub at.
func (h *Hub) LANAddress() string {
	scheme := "https"
	if h.cfg.Device.PlainHTTP {
		scheme = "http"
	}
	return scheme + "://" + device.TabletAddress(h.cfg.Device.Listen)
}

// Orders implements control.API.
func (h *Hub) Orders(ctx context.Context, q control.OrderQuery) ([]domain.Order, error) {
	out, err := h.store.Orders(ctx, orderFilter(q))
	return out, typed(err)
}

// CountOrders implements control.API.
func (h *Hub) CountOrders(ctx context.Context, q control.OrderQuery) (map[string]int, error) {
	out, err := h.store.CountOrders(ctx, orderFilter(q))
	return out, typed(err)
}

func orderFilter(q control.OrderQuery) store.OrderFilter {
	return store.OrderFilter{States: q.States, Group: q.Group, Search: q.Text, Limit: q.Limit, Summary: q.Summary}
}

// Order implements control.API.
func (h *Hub) Order(ctx context.Context, id string) (domain.Order, error) {
	o, err := h.store.Order(ctx, id)
	return o, typed(err)
}

// DeleteOrder implements control.API.
func (h *Hub) DeleteOrder(ctx context.Context, req control.DeleteOrderRequest) (domain.Order, error) {
	if strings.TrimSpace(req.Reason) == "" {
		return domain.Order{}, control.InvalidField("reason", "say why the appointment is deleted")
	}
	o, err := h.deleteOrder(ctx, req.ID, actor(req.Actor, "dashboard"), req.Reason)
	return o, typed(err)
}

// Deliveries implements control.API.
func (h *Hub) Deliveries(ctx context.Context, q control.DeliveryQuery) ([]domain.Delivery, error) {
	out, err := h.outboxQ.Deliveries(ctx, store.DeliveryFilter{ResultID: q.ResultID, Connection: q.Connection,
		States: q.States, BeforeID: q.BeforeID, Limit: q.Limit})
	return out, typed(err)
}

// Delivery implements control.API.
func (h *Hub) Delivery(ctx context.Context, id int64) (control.DeliveryDetail, error) {
	d, at, err := h.outboxQ.History(ctx, id)
	return control.DeliveryDetail{Delivery: d, Attempts: at}, typed(err)
}

// Resend implements control.API: the delivery is attempted at once.
func (h *Hub) Resend(ctx context.Context, req control.ResendRequest) (control.ResendResult, error) {
	if strings.TrimSpace(req.Reason) == "" {
		return control.ResendResult{}, control.InvalidField("reason", "say why the result is sent again")
	}
	who := actor(req.Actor, "dashboard")
	var n int
	var err error
	switch {
	case req.ID != 0:
		_, err = h.outboxQ.Resend(ctx, req.ID, who, req.Reason)
		if err == nil {
			n = 1
		}
	case req.Failed:
		n, err = h.outboxQ.ResendFailed(ctx, req.Connection, who, req.Reason)
	case req.Ambiguous:
		n, err = h.outboxQ.ResendAmbiguous(ctx, req.Connection, who, req.Reason)
	default:
		return control.ResendResult{}, control.InvalidField("id", "name a delivery, or ask for all failed or all ambiguous ones")
	}
	if err == nil {
		h.publish(control.Event{Kind: control.EventDeliveries})
	}
	return control.ResendResult{Count: n}, typed(err)
}

// Cancel implements control.API.
func (h *Hub) Cancel(ctx context.Context, req control.CancelRequest) (domain.Delivery, error) {
	if strings.TrimSpace(req.Reason) == "" {
		return domain.Delivery{}, control.InvalidField("reason", "say why the delivery is given up")
	}
	d, err := h.outboxQ.Cancel(ctx, req.ID, actor(req.Actor, "dashboard"), req.Reason)
	if err == nil {
		h.publish(control.Event{Kind: control.EventDeliveries})
	}
	return d, typed(err)
}

// Result implements control.API.
func (h *Hub) Result(ctx context.Context, id string) (control.ResultDetail, error) {
	r, err := h.store.Result(ctx, id)
	if err != nil {
		return control.ResultDetail{}, typed(err)
	}
	ds, err := h.store.Deliveries(ctx, store.DeliveryFilter{ResultID: id})
	out := control.ResultDetail{Result: r, Deliveries: ds}
	if r.Report != nil {
		out.ReportPath = r.Report.Path
	}
	return out, typed(err)
}

// Tablets implements control.API.
func (h *Hub) Tablets(ctx context.Context) ([]domain.Device, error) {
	ds, err := h.store.Devices(ctx)
	return ds, typed(err)
}

// UpdateTablet implements control.API.
func (h *Hub) UpdateTablet(ctx context.Context, req control.TabletChange) (domain.Device, error) {
	d, err := h.UpdateDevice(ctx, req.ID, store.DeviceChange{Name: req.Name, Group: req.Group, Revoke: req.Revoke},
		actor(req.Actor, "dashboard"), req.Reason)
	if err == nil {
		h.publish(control.Event{Kind: control.EventTablets})
	}
	return d, typed(err)
}

// NewPairingCode implements control.API.
func (h *Hub) NewPairingCode(ctx context.Context, group string) (control.Pairing, error) {
	code, exp, g, err := h.newPairingCode(ctx, group)
	if err != nil {
		return control.Pairing{}, typed(err)
	}
	return control.Pairing{Code: code, Expires: exp, Group: g, Fingerprint: h.Fingerprint(),
		URL: device.PairingURL(h.cfg.Device.Listen, h.Fingerprint(), code)}, nil
}

// Groups implements control.API.
func (h *Hub) Groups(ctx context.Context) ([]domain.Group, error) {
	gs, err := h.store.Groups(ctx)
	return gs, typed(err)
}

// SaveGroup implements control.API.
func (h *Hub) SaveGroup(ctx context.Context, g domain.Group) (domain.Group, error) {
	if strings.TrimSpace(g.Name) == "" {
		return g, control.InvalidField("name", "a group needs a name")
	}
	var err error
	makeDefault := g.Default
	if g.ID == "" {
		g, err = h.store.CreateGroup(ctx, g.Name, "dashboard")
	} else {
		err = h.store.RenameGroup(ctx, g.ID, g.Name, "dashboard")
	}
	if err == nil && makeDefault {
		// Orders no group map names go to the default group.
		err = h.store.SetDefaultGroup(ctx, g.ID, "dashboard")
		g.Default = err == nil
	}
	if err == nil {
		h.publish(control.Event{Kind: control.EventGroups})
	}
	return g, typed(err)
}

// DeleteGroup implements control.API.
func (h *Hub) DeleteGroup(ctx context.Context, id string) error {
	err := h.store.DeleteGroup(ctx, id, "dashboard")
	if err == nil {
		h.publish(control.Event{Kind: control.EventGroups})
	}
	return typed(err)
}

// Connections implements control.API.
func (h *Hub) Connections(context.Context) ([]control.Connection, error) {
	health := h.Health()
	var out []control.Connection
	for _, c := range h.connections {
		cc := control.Connection{Name: h.profile.ID, Section: c.kind.Section}
		if c.parts.Outbound != nil {
			cc.Label = c.parts.Outbound.Label
		}
		if c.kind.Endpoints != nil {
			cc.Endpoints = c.kind.Endpoints(c.section)
		}
		for _, ch := range c.parts.Checks {
			cc.Checks = append(cc.Checks, ch.What)
		}
		prefix := "conn:" + h.profile.ID
		for _, hh := range health {
			if hh.Component == prefix || strings.HasPrefix(hh.Component, prefix+"/") {
				cc.Health = append(cc.Health, hh)
			}
		}
		out = append(out, cc)
	}
	return out, nil
}

// TestConnection implements control.API: every check of the named
// connection (the EHR profile's ID, or a section key).
func (h *Hub) TestConnection(ctx context.Context, name string) ([]control.CheckOutcome, error) {
	var out []control.CheckOutcome
	found := false
	for _, c := range h.connections {
		if name != h.profile.ID && name != c.kind.Section {
			continue
		}
		found = true
		for _, ch := range c.parts.Checks {
			out = append(out, control.CheckOutcome{What: ch.What, Result: ch.Run(ctx)})
		}
	}
	if !found {
		return nil, control.Errorf(control.NotFound, "no connection %q", name)
	}
	return out, nil
}

// ExportDiagnostics implements control.API, with the live health.
func (h *Hub) ExportDiagnostics(ctx context.Context, req control.DiagRequest) (control.DiagResult, error) {
	if req.Out == "" {
		return control.DiagResult{}, control.InvalidField("out", "name the zip file to write")
	}
	rep, _, err := diag.ExportFile(ctx, req.Out, diag.Options{
		Config: h.cfg, ConfigPath: h.opts.ConfigPath, DataDir: h.dataDir, Store: h.store, Version: Version,
		IncludePatientData: req.IncludePatientData, Log: h.log, Health: h.Health(), Storage: h.Retention(),
	})
	if err != nil {
		return control.DiagResult{}, &control.Error{Kind: control.Internal, Message: "the diagnostic bundle could not be written", Detail: err.Error()}
	}
	res := control.DiagResult{Path: req.Out}
	for _, s := range rep.Sections {
		ds := control.DiagSection{Name: s.Name}
		if s.Err != nil {
			ds.Problem = s.Err.Error()
		}
		res.Sections = append(res.Sections, ds)
	}
	return res, nil
}

// Subscribe implements control.API.
func (h *Hub) Subscribe(ctx context.Context) (<-chan control.Event, error) {
	return h.events.Subscribe(ctx), nil
}

// Show implements control.API: it asks the attached window (if any) to
// come to the front.
func (h *Hub) Show(_ context.Context, tab string) error {
	h.publish(control.Event{Kind: control.EventShow, Tab: tab})
	return nil
}

func (h *Hub) publish(ev control.Event) { h.events.Publish(ev) }

// LogTail implements control.API.
func (h *Hub) LogTail(_ context.Context, q control.LogQuery) ([]control.LogLine, error) {
	lines, err := logging.Tail(filepath.Join(h.dataDir, "logs"), logging.TailQuery{Level: q.Level, Text: q.Text, Limit: q.Limit})
	if err != nil {
		return nil, control.InvalidField("level", "%v", err)
	}
	out := make([]control.LogLine, len(lines))
	for i, l := range lines {
		out[i] = control.LogLine{Time: l.Time, Level: l.Level, Message: l.Message, Fields: l.Fields}
	}
	return out, nil
}

// Config implements control.API: the file the hub was started from.
func (h *Hub) Config(context.Context) (control.ConfigDoc, error) {
	if h.opts.ConfigPath == "" {
		b, err := h.cfg.Marshal()
		return control.ConfigDoc{JSON: b}, typed(err)
	}
	b, err := os.ReadFile(h.opts.ConfigPath)
	if err != nil {
		return control.ConfigDoc{}, &control.Error{Kind: control.Unavailable, Message: "the configuration file cannot be read", Detail: err.Error()}
	}
	return control.ConfigDoc{Path: h.opts.ConfigPath, JSON: b}, nil
}

// ValidateConfig implements control.API.
func (h *Hub) ValidateConfig(_ context.Context, doc control.ConfigDoc) (control.ConfigCheck, error) {
	_, chk := checkConfig(h.registry, doc)
	return chk, nil
}

// SaveConfig implements control.API: a hub on its own cannot restart
// itself; the runner around it (desktop, serve) does.
func (h *Hub) SaveConfig(context.Context, control.ConfigDoc) (control.ConfigCheck, error) {
	return control.ConfigCheck{}, control.Errorf(control.Unavailable, "this hub cannot apply a new configuration while it runs")
}

// checkConfig parses doc with reg: the config, or its problems.
func checkConfig(reg *registry.Registry, doc control.ConfigDoc) (*config.Config, control.ConfigCheck) {
	c, err := config.Parse(doc.JSON, reg)
	if err == nil {
		return c, control.ConfigCheck{}
	}
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		return nil, control.ConfigCheck{Problems: ve.Problems}
	}
	return nil, control.ConfigCheck{Problems: []config.Problem{{Key: "", Problem: err.Error()}}}
}
