package hub

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/registry"
)

// Runner keeps one hub running inside an application that stays up while
// the hub does not: it starts the hub, restarts it with a new config (the
// setup wizard and Settings), and knows its state — not configured,
// starting, running, failed (with why), stopping. It implements
// control.API for the user interfaces: calls reach the current hub, and
// with none running they get an Unavailable error, except Status.
type Runner struct {
	opts Options
	// life serialises Start, Stop and Restart: a second Stop waits for the
	// first to finish.
	life sync.Mutex

	mu      sync.Mutex
	state   control.State
	problem string
	cfg     *config.Config // of the hub that runs or last ran
	failed  *config.Config // of the last start that failed
	hub     *Hub
	cancel  context.CancelFunc
	done    chan struct{}

	events control.Broker

	// The control endpoint, served by the runner so that it outlives
	// restarts (a Save in Settings restarts the hub it is talking to).
	ep       *control.Endpoint
	epDir    string
	epCancel context.CancelFunc
}

var _ control.API = (*Runner)(nil)

// NewRunner returns a runner for hubs built with opts (opts.Control is set
// to the runner).
func NewRunner(opts Options) *Runner {
	r := &Runner{opts: opts, state: control.StateNotConfigured}
	r.opts.Control = r
	return r
}

// Start builds and runs the hub of cfg in the background. An error means
// the hub could not start (the runner is then failed, with the reason in
// Status); nil means it runs.
func (r *Runner) Start(cfg *config.Config) error {
	r.life.Lock()
	defer r.life.Unlock()
	return r.start(cfg)
}

func (r *Runner) start(cfg *config.Config) error {
	r.setState(control.StateStarting, "")
	h, err := New(cfg, r.opts)
	if err != nil {
		r.mu.Lock()
		r.failed = cfg
		r.mu.Unlock()
		r.setState(control.StateFailed, err.Error())
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	fwd := h.events.Subscribe(ctx)
	go func() {
		for ev := range fwd {
			r.events.Publish(ev)
		}
	}()
	go func() {
		defer close(done)
		h.Run(ctx)
	}()
	r.mu.Lock()
	r.cfg, r.failed, r.hub, r.cancel, r.done = cfg, nil, h, cancel, done
	r.mu.Unlock()
	r.moveEndpoint(h)
	r.setState(control.StateRunning, "")
	return nil
}

// moveEndpoint serves the control endpoint in the running hub's data
// folder. An endpoint in another folder (the config moved the data) is
// closed a moment later, so that the answer to the request that moved it
// still gets out.
func (r *Runner) moveEndpoint(h *Hub) {
	if r.ep != nil && r.epDir == h.dataDir {
		return
	}
	if old := r.epCancel; old != nil {
		time.AfterFunc(time.Second, old)
	}
	r.ep, r.epDir, r.epCancel = nil, "", nil
	ep, err := listenControl(h.dataDir, h.health, h.log)
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.ep, r.epDir, r.epCancel = ep, h.dataDir, cancel
	go func() {
		if err := ep.Serve(ctx, r); err != nil {
			h.log.WithError(err).Warn("control endpoint stopped")
		}
	}()
}

// Stop stops the running hub and releases its data folder.
func (r *Runner) Stop() {
	r.life.Lock()
	defer r.life.Unlock()
	r.stop()
	if r.epCancel != nil {
		r.epCancel()
		r.ep, r.epDir, r.epCancel = nil, "", nil
	}
}

func (r *Runner) stop() {
	r.mu.Lock()
	h, cancel, done := r.hub, r.cancel, r.done
	r.hub, r.cancel, r.done = nil, nil, nil
	r.mu.Unlock()
	if h == nil {
		return
	}
	r.setState(control.StateStopping, "")
	cancel()
	<-done
	h.Close()
	r.setState(control.StateNotConfigured, "")
}

// Restart replaces the running hub with one built from cfg, without
// leaving the application. When the new config fails to start, the
// previous one is started again and the error says why the new one did
// not.
func (r *Runner) Restart(cfg *config.Config) error {
	r.life.Lock()
	defer r.life.Unlock()
	r.mu.Lock()
	prev := r.cfg
	r.mu.Unlock()
	r.stop()
	err := r.start(cfg)
	if err == nil || prev == nil {
		return err
	}
	if perr := r.start(prev); perr != nil {
		return errors.Join(err, perr)
	}
	return err
}

// Fail records that no hub could be built at all (no config, an invalid
// one): Status reports state with problem.
func (r *Runner) Fail(state control.State, problem string) { r.setState(state, problem) }

// Hub returns the running hub, or nil.
func (r *Runner) Hub() *Hub {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hub
}

func (r *Runner) setState(s control.State, problem string) {
	r.mu.Lock()
	r.state, r.problem = s, problem
	r.mu.Unlock()
	r.events.Publish(control.Event{Kind: control.EventState, State: s, At: time.Now()})
}

// current returns the running hub or an Unavailable error.
func (r *Runner) current() (*Hub, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hub == nil {
		msg := "mCONNECT Hub is not running"
		if r.state == control.StateFailed {
			msg = "mCONNECT Hub could not start"
		}
		return nil, &control.Error{Kind: control.Unavailable, Message: msg, Detail: r.problem}
	}
	return r.hub, nil
}

func via[T any](r *Runner, f func(*Hub) (T, error)) (T, error) {
	h, err := r.current()
	if err != nil {
		var zero T
		return zero, err
	}
	return f(h)
}

// Status implements control.API: the hub's status, or the runner's state
// and problem when none runs.
func (r *Runner) Status(ctx context.Context) (control.Status, error) {
	r.mu.Lock()
	h, state, problem, cfg := r.hub, r.state, r.problem, r.cfg
	if state == control.StateFailed && r.failed != nil {
		cfg = r.failed
	}
	r.mu.Unlock()
	if h != nil {
		st, err := h.Status(ctx)
		st.State = state
		return st, err
	}
	st := control.Status{State: state, Problem: problem, Version: Version, PID: os.Getpid(), ConfigPath: r.opts.ConfigPath,
		Desktop: r.opts.Desktop}
	if cfg != nil {
		st.HubName, st.DataDir, st.EHR = cfg.Hub.Name, cfg.DataDirPath(), cfg.EHR
	}
	return st, nil
}

// Orders implements control.API.
func (r *Runner) Orders(ctx context.Context, q control.OrderQuery) ([]domain.Order, error) {
	return via(r, func(h *Hub) ([]domain.Order, error) { return h.Orders(ctx, q) })
}

// CountOrders implements control.API.
func (r *Runner) CountOrders(ctx context.Context, q control.OrderQuery) (map[string]int, error) {
	return via(r, func(h *Hub) (map[string]int, error) { return h.CountOrders(ctx, q) })
}

// Order implements control.API.
func (r *Runner) Order(ctx context.Context, id string) (domain.Order, error) {
	return via(r, func(h *Hub) (domain.Order, error) { return h.Order(ctx, id) })
}

// DeleteOrder implements control.API.
func (r *Runner) DeleteOrder(ctx context.Context, req control.DeleteOrderRequest) (domain.Order, error) {
	return via(r, func(h *Hub) (domain.Order, error) { return h.DeleteOrder(ctx, req) })
}

// Deliveries implements control.API.
func (r *Runner) Deliveries(ctx context.Context, q control.DeliveryQuery) ([]domain.Delivery, error) {
	return via(r, func(h *Hub) ([]domain.Delivery, error) { return h.Deliveries(ctx, q) })
}

// Delivery implements control.API.
func (r *Runner) Delivery(ctx context.Context, id int64) (control.DeliveryDetail, error) {
	return via(r, func(h *Hub) (control.DeliveryDetail, error) { return h.Delivery(ctx, id) })
}

// Resend implements control.API.
func (r *Runner) Resend(ctx context.Context, req control.ResendRequest) (control.ResendResult, error) {
	return via(r, func(h *Hub) (control.ResendResult, error) { return h.Resend(ctx, req) })
}

// Cancel implements control.API.
func (r *Runner) Cancel(ctx context.Context, req control.CancelRequest) (domain.Delivery, error) {
	return via(r, func(h *Hub) (domain.Delivery, error) { return h.Cancel(ctx, req) })
}

// Result implements control.API.
func (r *Runner) Result(ctx context.Context, id string) (control.ResultDetail, error) {
	return via(r, func(h *Hub) (control.ResultDetail, error) { return h.Result(ctx, id) })
}

// Results implements control.API.
func (r *Runner) Results(ctx context.Context, q control.ResultQuery) ([]control.ResultSummary, error) {
	return via(r, func(h *Hub) ([]control.ResultSummary, error) { return h.Results(ctx, q) })
}

// Tablets implements control.API.
func (r *Runner) Tablets(ctx context.Context) ([]domain.Device, error) {
	return via(r, func(h *Hub) ([]domain.Device, error) { return h.Tablets(ctx) })
}

// UpdateTablet implements control.API.
func (r *Runner) UpdateTablet(ctx context.Context, req control.TabletChange) (domain.Device, error) {
	return via(r, func(h *Hub) (domain.Device, error) { return h.UpdateTablet(ctx, req) })
}

// NewPairingCode implements control.API.
func (r *Runner) NewPairingCode(ctx context.Context, group string) (control.Pairing, error) {
	return via(r, func(h *Hub) (control.Pairing, error) { return h.NewPairingCode(ctx, group) })
}

// Groups implements control.API.
func (r *Runner) Groups(ctx context.Context) ([]domain.Group, error) {
	return via(r, func(h *Hub) ([]domain.Group, error) { return h.Groups(ctx) })
}

// SaveGroup implements control.API.
func (r *Runner) SaveGroup(ctx context.Context, g domain.Group) (domain.Group, error) {
	return via(r, func(h *Hub) (domain.Group, error) { return h.SaveGroup(ctx, g) })
}

// DeleteGroup implements control.API.
func (r *Runner) DeleteGroup(ctx context.Context, id string) error {
	_, err := via(r, func(h *Hub) (struct{}, error) { return struct{}{}, h.DeleteGroup(ctx, id) })
	return err
}

// Connections implements control.API.
func (r *Runner) Connections(ctx context.Context) ([]control.Connection, error) {
	return via(r, func(h *Hub) ([]control.Connection, error) { return h.Connections(ctx) })
}

// TestConnection implements control.API.
func (r *Runner) TestConnection(ctx context.Context, name string) ([]control.CheckOutcome, error) {
	return via(r, func(h *Hub) ([]control.CheckOutcome, error) { return h.TestConnection(ctx, name) })
}

// APIClients implements control.API.
func (r *Runner) APIClients(ctx context.Context, conn string) ([]control.APIClient, error) {
	return via(r, func(h *Hub) ([]control.APIClient, error) { return h.APIClients(ctx, conn) })
}

// AddAPIClient implements control.API.
func (r *Runner) AddAPIClient(ctx context.Context, req control.AddAPIClientRequest) (control.APICredentials, error) {
	return via(r, func(h *Hub) (control.APICredentials, error) { return h.AddAPIClient(ctx, req) })
}

// RevokeAPIClient implements control.API.
func (r *Runner) RevokeAPIClient(ctx context.Context, req control.RevokeAPIClientRequest) (control.APIClient, error) {
	return via(r, func(h *Hub) (control.APIClient, error) { return h.RevokeAPIClient(ctx, req) })
}

// LogTail implements control.API.
func (r *Runner) LogTail(ctx context.Context, q control.LogQuery) ([]control.LogLine, error) {
	return via(r, func(h *Hub) ([]control.LogLine, error) { return h.LogTail(ctx, q) })
}

// Config implements control.API.
func (r *Runner) Config(ctx context.Context) (control.ConfigDoc, error) {
	if h := r.Hub(); h != nil {
		return h.Config(ctx)
	}
	b, err := os.ReadFile(r.opts.ConfigPath)
	if err != nil {
		return control.ConfigDoc{Path: r.opts.ConfigPath}, &control.Error{Kind: control.NotFound, Message: "no configuration file yet", Detail: err.Error()}
	}
	return control.ConfigDoc{Path: r.opts.ConfigPath, JSON: b}, nil
}

// ValidateConfig implements control.API.
func (r *Runner) ValidateConfig(_ context.Context, doc control.ConfigDoc) (control.ConfigCheck, error) {
	_, chk := checkConfig(r.registry(), doc)
	return chk, nil
}

// SaveConfig implements control.API: validated, written atomically to the
// runner's config file, applied by restarting the hub in place. When the
// new configuration cannot start, the previous file is put back and the
// previous hub runs again.
func (r *Runner) SaveConfig(_ context.Context, doc control.ConfigDoc) (control.ConfigCheck, error) {
	cfg, chk := checkConfig(r.registry(), doc)
	if cfg == nil {
		return chk, nil
	}
	path := r.opts.ConfigPath
	if path == "" {
		return chk, control.Errorf(control.Unavailable, "the hub was started without a configuration file to save to")
	}
	before, readErr := os.ReadFile(path)
	if err := cfg.Save(path, r.registry()); err != nil {
		return chk, &control.Error{Kind: control.Internal, Message: "the configuration could not be saved", Detail: err.Error()}
	}
	if err := r.Restart(cfg); err != nil {
		if readErr == nil {
			if werr := config.WriteFileAtomic(path, before); werr != nil {
				err = errors.Join(err, werr)
			}
		}
		return chk, &control.Error{Kind: control.Conflict, Message: "the new configuration could not start; the previous one runs again", Detail: err.Error()}
	}
	return chk, nil
}

func (r *Runner) registry() *registry.Registry {
	if r.opts.Registry != nil {
		return r.opts.Registry
	}
	return registry.Default
}

// ExportDiagnostics implements control.API.
func (r *Runner) ExportDiagnostics(ctx context.Context, req control.DiagRequest) (control.DiagResult, error) {
	return via(r, func(h *Hub) (control.DiagResult, error) { return h.ExportDiagnostics(ctx, req) })
}

// Subscribe implements control.API: the events of whichever hub runs, and
// the runner's state changes, across restarts.
func (r *Runner) Subscribe(ctx context.Context) (<-chan control.Event, error) {
	return r.events.Subscribe(ctx), nil
}

// Show implements control.API: the window attached to this runner comes
// to the front (a second launch of the app asks for it).
func (r *Runner) Show(_ context.Context, tab string) error {
	r.events.Publish(control.Event{Kind: control.EventShow, Tab: tab})
	return nil
}
