// Package hub is the hub's core, without any GUI code: it owns the store,
// the delivery outbox, the EHR connections (built through the connector
// registry) and the tablets' LAN endpoint, starts and supervises them,
// keeps their health, and serves the control API that the Dashboard, the
// tray and the command line use.
//
// The order flow: an inbound connection parses a message and hands the
// order to Hub.AcceptOrder, which returns only after the order is durably
// stored; the connection acknowledges the EHR after that; the tablets of
// the order's group are woken. The result flow: the device endpoint hands
// an uploaded result to Hub.AcceptResult, which stores it with one delivery
// per outbound connection before the tablet gets its 201; the outbox then
// delivers it, retrying until the EHR confirms.
package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/logging"
	"github.com/mesi/mconnect/app/outbox"
	"github.com/mesi/mconnect/app/retention"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/app/update"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/connectors/registry"
	"github.com/mesi/mconnect/device"
)

// Version is the hub's version, set at build time with
// -ldflags "-X github.com/mesi/mconnect/app/hub.Version=1.2.3".
var Version = "0.1.0-dev"

// ErrNotBuilt is returned for a config naming an EHR whose connection this
// version does not provide yet.
var ErrNotBuilt = registry.ErrNotBuilt

// SecretResolver turns a config secret reference into the secret.
type SecretResolver interface {
	Resolve(ref string) (string, error)
}

// Options are what the hub needs besides its config.
type Options struct {
	ConfigPath string
	Secrets    SecretResolver
	// LogStderr receives the human-readable log (nil: os.Stderr).
	LogStderr interface{ Write([]byte) (int, error) }
	// Registry provides the connector kinds (nil: registry.Default).
	Registry *registry.Registry
	// Control, when set, is the runner around the hub, which serves the
	// control endpoint itself (nil: the hub serves its own).
	Control control.API
	// Desktop is set when the hub runs inside the desktop application
	// (tray and Dashboard): a second launch then brings its window forward
	// instead of opening another.
	Desktop bool
}

// component is a supervised long-running part of the hub.
type component struct {
	name string
	run  func(ctx context.Context) error
}

// Hub is the running hub.
type Hub struct {
	cfg     *config.Config
	opts    Options
	profile catalogue.Profile
	dataDir string
	hubID   string

	lock   *dirLock
	logger *logging.Logger
	log    logrus.FieldLogger
	store  *store.Store
	health *healthBoard

	device   *device.Server
	outboxQ  *outbox.Outbox
	registry *registry.Registry
	updates  *update.Checker // nil: update.check off
	// retention is the daily sweep and the free-space watch (retention.go).
	retention *retention.Sweeper

	events      control.Broker
	pulls       []connector.PullSource
	pulled      pullState // what the pull path knows (pull.go)
	connections []wiredConnection

	mu         sync.Mutex
	components []component
	outbound   []string // names of outbound connections, in order
	// inboundComp names each connection's inbound health component.
	inboundComp map[string]string
	onGroups    []func(group string)
	closers     []func()
	started     time.Time
	closed      bool
}

// New prepares a hub from a validated config: it takes the data folder's
// lock, opens the log and the store, and builds every connection. It does
// not listen or watch yet (Run does). A config naming an EHR whose
// connection is not built is refused before anything is touched.
func New(cfg *config.Config, opts Options) (*Hub, error) { return open(cfg, opts, false) }

// OpenOffline opens the hub's data folder (lock, log, store, delivery
// queue) without building or starting any connection: the command line's
// control API when no hub runs. Actions on deliveries are picked up by the
// next hub that starts.
func OpenOffline(cfg *config.Config, opts Options) (*Hub, error) { return open(cfg, opts, true) }

func open(cfg *config.Config, opts Options, offline bool) (_ *Hub, err error) {
	reg := opts.Registry
	if reg == nil {
		reg = registry.Default
	}
	prof, err := reg.Profile(cfg.EHR)
	if err != nil {
		return nil, fmt.Errorf("config ehr: %w", err)
	}
	if _, err := reg.KindsFor(prof); err != nil {
		return nil, err
	}
	dataDir := cfg.Hub.DataDir
	if dataDir == "" {
		dataDir = config.DefaultDataDir()
	}
	if err := ensureWritableDir(dataDir); err != nil {
		return nil, err
	}
	h := &Hub{cfg: cfg, opts: opts, profile: prof, dataDir: dataDir, health: newHealthBoard(), inboundComp: map[string]string{}, registry: reg}
	defer func() {
		if err != nil {
			h.Close()
		}
	}()
	if h.lock, err = lockDataDir(dataDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dataDir, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("data folder %s: %w", dataDir, err)
	}
	h.logger, err = logging.New(logging.Options{Dir: filepath.Join(dataDir, "logs"), Level: cfg.Log.Level,
		MaxSizeMB: cfg.Log.MaxSizeMB, MaxBackups: cfg.Log.MaxBackups, Stderr: opts.LogStderr})
	if err != nil {
		return nil, err
	}
	h.log = h.logger.WithField("ehr", prof.ID)
	if h.store, err = store.Open(filepath.Join(dataDir, "mconnect.db"), store.Options{}); err != nil {
		return nil, err
	}
	ctx := context.Background()
	for _, g := range cfg.Groups {
		if err := h.store.EnsureGroup(ctx, g.ID, g.Name); err != nil {
			return nil, err
		}
	}
	if h.hubID, err = loadOrCreateHubID(dataDir); err != nil {
		return nil, err
	}
	h.health.Report(domain.Health{Component: "store", Code: "ready", Severity: domain.SeverityOK,
		Args: map[string]string{"path": h.store.Path()}})
	if offline {
		h.outboxQ = outbox.New(h.store, outbox.Options{Backoff: outbox.Backoff{Initial: cfg.Delivery.InitialBackoff.D(),
			Max: cfg.Delivery.MaxBackoff.D()}}, h.log)
		return h, nil
	}
	if err := h.wire(); err != nil {
		return nil, err
	}
	h.startUpdateChecks()
	h.wireRetention()
	h.seedLastMessages(ctx)
	return h, nil
}

// seedLastMessages shows, after a restart, when each connection last
// brought an order, instead of "never".
func (h *Hub) seedLastMessages(ctx context.Context) {
	last, err := h.store.LastOrderAt(ctx)
	if err != nil {
		h.log.WithError(err).Warn("cannot read when orders last arrived")
		return
	}
	for conn, at := range last {
		if comp, ok := h.inboundComp[conn]; ok {
			h.health.Report(domain.Health{Component: comp, Code: "starting", Severity: domain.SeverityOK, LastMessageAt: at})
		}
	}
}

// ensureWritableDir creates dir and proves it writable, naming it otherwise.
func ensureWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data folder %s cannot be created: %w", dir, err)
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("data folder %s is not writable: %w", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

func loadOrCreateHubID(dir string) (string, error) {
	path := filepath.Join(dir, "hub-id")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("hub id: %w", err)
	}
	id := "hub-" + hex.EncodeToString(b)
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("hub id: write %s: %w", path, err)
	}
	return id, nil
}

// add registers a supervised component (used while wiring).
func (h *Hub) add(name string, run func(ctx context.Context) error) {
	h.components = append(h.components, component{name: name, run: run})
}

// Run starts every component and blocks until ctx is done; then it stops
// them and returns. A component that fails is reported in health and
// restarted with backoff: the hub never stops quietly.
func (h *Hub) Run(ctx context.Context) error {
	h.mu.Lock()
	h.started = time.Now()
	comps := append([]component(nil), h.components...)
	h.mu.Unlock()
	h.log.WithFields(logrus.Fields{"version": Version, "dataDir": h.dataDir, "hubId": h.hubID}).Info("hub starting")
	cancelHealth := h.health.Subscribe(func(hs []domain.Health) {
		h.publish(control.Event{Kind: control.EventHealth, Health: hs})
	})
	defer cancelHealth()
	var wg sync.WaitGroup
	if h.opts.Control == nil {
		// On its own (no runner around it) the hub serves its control
		// endpoint itself; a runner serves one that outlives restarts.
		if ep, err := listenControl(h.dataDir, h.health, h.log); err == nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := ep.Serve(ctx, h); err != nil {
					h.log.WithError(err).Warn("control endpoint stopped")
				}
			}()
		}
	}
	for _, c := range comps {
		wg.Add(1)
		go func(c component) {
			defer wg.Done()
			h.supervise(ctx, c)
		}(c)
	}
	<-ctx.Done()
	wg.Wait()
	h.log.Info("hub stopped")
	return nil
}

func (h *Hub) supervise(ctx context.Context, c component) {
	backoff := time.Second
	for {
		start := time.Now()
		err := safeRun(ctx, c.run)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("stopped without an error")
		}
		if time.Since(start) > time.Minute {
			backoff = time.Second
		}
		h.log.WithError(err).WithField("component", c.name).Error("component failed; restarting")
		h.health.Report(domain.Health{Component: c.name, Code: "restarting", Severity: domain.SeverityError,
			Args: map[string]string{"next": backoff.String()}, Detail: err.Error(), LastError: err.Error()})
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff *= 2; backoff > 30*time.Second {
			backoff = 30 * time.Second
		}
	}
}

func safeRun(ctx context.Context, run func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return run(ctx)
}

// Close releases the store, the log and the data folder's lock. Call it
// after Run returned (or instead of Run).
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	closers := h.closers
	h.mu.Unlock()
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]()
	}
	if h.store != nil {
		h.store.Close()
	}
	if h.logger != nil {
		h.logger.Close()
	}
	h.lock.release()
}

// Store returns the hub's store: connectors that keep state of their own
// in it (the Integration API's clients) reach it through the order sink.
func (h *Hub) Store() *store.Store { return h.store }

// DataDir returns the data folder in use.
func (h *Hub) DataDir() string { return h.dataDir }

// HubID returns the hub's stable ID.
func (h *Hub) HubID() string { return h.hubID }

// Log returns the hub's logger.
func (h *Hub) Log() logrus.FieldLogger { return h.log }

// Health returns the state of every component.
func (h *Hub) Health() []domain.Health { return h.health.Snapshot() }

// SubscribeHealth calls fn on every health change until cancel is called.
func (h *Hub) SubscribeHealth(fn func([]domain.Health)) (cancel func()) {
	return h.health.Subscribe(fn)
}

// AcceptOrder stores an order from an inbound connection (domain.OrderSink):
// it returns only after the order is durably stored, then wakes the tablets.
func (h *Hub) AcceptOrder(ctx context.Context, o domain.Order) (domain.Accepted, error) {
	acc, err := h.store.ApplyOrder(ctx, o)
	if err != nil {
		if !domain.Refused(err) {
			h.health.Report(domain.Health{Component: "store", Code: "order-write-failed", Severity: domain.SeverityError,
				Detail: err.Error(), LastError: err.Error()})
		}
		return acc, err
	}
	// One line per order, for every connector (theirs are at debug level).
	f := logrus.Fields{"connection": o.Connection, "order": acc.OrderID, "placer": o.PlacerNumber,
		"patient": o.Patient.ID, "action": string(o.Action), "duplicate": acc.Duplicate}
	if o.SourceControlID != "" {
		f["control_id"] = o.SourceControlID
	}
	if acc.ControlIDReused {
		f["control_id_reused"] = true
	}
	h.log.WithFields(f).Info("order accepted")
	for _, g := range acc.Groups {
		h.wakeGroup(g)
	}
	return acc, nil
}

// listenControl opens the control endpoint of a data folder; a failure is
// reported in health (the command line and a second window then cannot
// reach this hub) and returned.
func listenControl(dataDir string, health domain.HealthReporter, log logrus.FieldLogger) (*control.Endpoint, error) {
	ep, err := control.Listen(dataDir)
	if err != nil {
		log.WithError(err).Warn("control endpoint not available: the command line and a second window cannot reach this hub")
		health.Report(domain.Health{Component: "control", Code: "listen-failed", Severity: domain.SeverityWarning, Detail: err.Error()})
	}
	return ep, err
}
