package hub

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/outbox"
	"github.com/mesi/mconnect/app/tlscert"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/device"
)

// wire builds the device endpoint, the outbox and the EHR's connections
// from the config through the registry: each kind's inbound components are
// supervised, its outbound is registered with the outbox, its pull source
// is asked when tablets fetch their worklist.
func (h *Hub) wire() error {
	cfg := h.cfg
	h.outboxQ = outbox.New(h.store, outbox.Options{
		Backoff: outbox.Backoff{Initial: cfg.Delivery.InitialBackoff.D(), Max: cfg.Delivery.MaxBackoff.D()},
		Health:  h.health,
		OnOrderDone: func(o domain.Order) {
			h.log.WithFields(map[string]any{"order": o.ID, "group": o.Group}).Info("order done: every delivery confirmed")
			h.wakeGroup(o.Group)
		},
	}, h.log)
	srv, err := device.NewServer(device.Options{
		Listen:              cfg.Device.Listen,
		DataDir:             h.dataDir,
		PlainHTTP:           cfg.Device.PlainHTTP,
		MaxReportBytes:      int64(cfg.Device.MaxReportMB) << 20,
		MaxConns:            cfg.Device.MaxConnections,
		MaxConnsPerIP:       cfg.Device.MaxConnectionsPerIP,
		FirstRequestTimeout: cfg.Device.FirstRequestTimeout.D(),
		MaxWorklist:         cfg.Device.MaxWorklist,
		Discovery:           device.DiscoveryOptions{Enabled: cfg.Device.Discovery, InstanceName: cfg.Hub.Name},
		HubID:               h.hubID,
		HubName:             cfg.Hub.Name,
		Version:             Version,
	}, h.store, h, h.log, h.health)
	if err != nil {
		return fmt.Errorf("tablet endpoint: %w", err)
	}
	h.device = srv
	h.onGroups = append(h.onGroups, srv.GroupChanged)
	h.add("device", srv.Run)

	kinds, err := h.registry.KindsFor(h.profile)
	if err != nil {
		return err
	}
	env := connector.Env{
		Name: h.profile.ID, Profile: h.profile, DataDir: h.dataDir, TempDir: filepath.Join(h.dataDir, "tmp"),
		Orders: h, Health: h.health, Log: h.log, Secret: h.secret,
		Certificate: func() (tls.Certificate, error) {
			cert, _, err := tlscert.LoadOrCreate(h.dataDir)
			return cert, err
		},
	}
	policy := outbox.Policy{Ambiguous: outbox.AmbiguousPolicy(cfg.Delivery.Ambiguous)}
	for _, k := range kinds {
		sec, ok := cfg.Sections[k.Section]
		if !ok {
			return &config.KeyError{Key: k.Section, Err: errors.New("missing")}
		}
		parts, err := k.Build(env, sec)
		if err != nil {
			return err
		}
		for _, c := range parts.Inbound {
			h.add(c.Name, c.Run)
			if c.CountsOrders {
				h.inboundComp[env.Name] = c.Name
			}
		}
		if parts.Pull != nil {
			h.pulls = append(h.pulls, parts.Pull)
		}
		if parts.Outbound != nil {
			p := policy
			if parts.Outbound.ResumesInterrupted {
				p.Ambiguous = outbox.AmbiguousResend
			}
			if err := h.register(env.Name, parts.Outbound.Outbound, p, parts.Outbound.Label); err != nil {
				return err
			}
		}
		h.connections = append(h.connections, wiredConnection{kind: k, section: sec, parts: parts})
	}
	if len(h.pulls) > 0 {
		h.add("pull", h.runPulls)
	}
	h.add("outbox", h.outboxQ.Run)
	return nil
}

// wiredConnection is one connector kind as built, for the control API's
// Connections and Test connection.
type wiredConnection struct {
	kind    connector.Kind
	section config.Section
	parts   connector.Parts
}

func (h *Hub) register(conn string, out domain.Outbound, p outbox.Policy, label string) error {
	p.Label = label
	if err := h.outboxQ.Register(conn, out, p); err != nil {
		return fmt.Errorf("register outbound %s: %w", conn, err)
	}
	h.outbound = append(h.outbound, conn)
	return nil
}

func (h *Hub) secret(key, ref string) (string, error) {
	if h.opts.Secrets == nil {
		return "", &config.KeyError{Key: key, Err: errors.New("no secret store available")}
	}
	v, err := h.opts.Secrets.Resolve(ref)
	if err != nil {
		return "", &config.KeyError{Key: key, Err: err}
	}
	return v, nil
}

// AcceptResult stores a tablet's result with one delivery per outbound
// connection (device.Hub); it returns only after both are durable, and
// then wakes the outbox.
func (h *Hub) AcceptResult(ctx context.Context, r domain.Result) (domain.Result, bool, error) {
	stored, dup, err := h.store.SaveResult(ctx, r, h.outbound)
	if err != nil {
		h.health.Report(domain.Health{Component: "store", Code: "result-write-failed", Severity: domain.SeverityError,
			Detail: err.Error(), LastError: err.Error()})
		return stored, false, err
	}
	h.health.touch("device")
	h.log.WithFields(map[string]any{"result": stored.ID, "order": stored.OrderID, "device": stored.DeviceID,
		"measurement": stored.Measurement, "duplicate": dup}).Info("result accepted")
	if !dup {
		h.publish(control.Event{Kind: control.EventDeliveries})
		for _, c := range h.outbound {
			h.outboxQ.Notify(c)
		}
	}
	return stored, dup, nil
}

// wakeGroup wakes the long-polling tablets of one group.
func (h *Hub) wakeGroup(group string) {
	for _, f := range h.onGroups {
		f(group)
	}
	h.publish(control.Event{Kind: control.EventOrders, Group: group})
}

// Fingerprint returns the LAN endpoint's TLS certificate fingerprint.
func (h *Hub) Fingerprint() string {
	if h.device == nil {
		return ""
	}
	return h.device.Fingerprint()
}
