package hub

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/outbox"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/folder"
	"github.com/mesi/mconnect/connectors/hl7"
	"github.com/mesi/mconnect/connectors/hl7net"
	"github.com/mesi/mconnect/device"
)

// wire builds the device endpoint, the outbox and the EHR's connections
// from the config. Each connection registers its inbound side as a
// supervised component and its outbound side with the outbox.
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
		Listen:         cfg.Device.Listen,
		DataDir:        h.dataDir,
		PlainHTTP:      cfg.Device.PlainHTTP,
		MaxReportBytes: int64(cfg.Device.MaxReportMB) << 20,
		Discovery:      device.DiscoveryOptions{Enabled: cfg.Device.Discovery, InstanceName: cfg.Hub.Name},
		HubID:          h.hubID,
		HubName:        cfg.Hub.Name,
		Version:        Version,
	}, h.store, h, h.log, h.health)
	if err != nil {
		return fmt.Errorf("tablet endpoint: %w", err)
	}
	h.device = srv
	h.onGroups = append(h.onGroups, srv.GroupChanged)
	h.add("device", srv.Run)

	policy := outbox.Policy{Ambiguous: outbox.AmbiguousPolicy(cfg.Delivery.Ambiguous)}
	name := h.profile.ID
	switch h.profile.Inbound {
	case catalogue.InMLLP:
		err = h.wireMLLP(name, cfg.HL7, policy)
	case catalogue.InHL7Files:
		err = h.wireWEDA(name, cfg.WEDA, policy)
	case catalogue.InGDTFiles:
		err = h.wireGDT(name, cfg.GDT, policy)
	default:
		err = fmt.Errorf("%w: %s", ErrNotBuilt, h.profile.Name)
	}
	if err != nil {
		return err
	}
	h.add("outbox", h.outboxQ.Run)
	return nil
}

func (h *Hub) register(conn string, out domain.Outbound, p outbox.Policy, label string) error {
	p.Label = label
	if err := h.outboxQ.Register(conn, out, p); err != nil {
		return fmt.Errorf("register outbound %s: %w", conn, err)
	}
	h.outbound = append(h.outbound, conn)
	return nil
}

// ConfigError is a config problem found while building the connections
// (a secret that cannot be resolved, a value a connector refuses).
type ConfigError struct {
	Key string
	Err error
}

func (e *ConfigError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func (h *Hub) secret(key, ref string) (string, error) {
	if h.opts.Secrets == nil {
		return "", &ConfigError{Key: key, Err: errors.New("no secret store available")}
	}
	v, err := h.opts.Secrets.Resolve(ref)
	if err != nil {
		return "", &ConfigError{Key: key, Err: err}
	}
	return v, nil
}

func (h *Hub) wireMLLP(name string, c *config.HL7Config, p outbox.Policy) error {
	in, err := hl7net.NewMLLPInbound(hl7net.MLLPInboundOptions{
		Name: name, ListenAddr: c.Listen, Allow: c.Whitelist, MaxConnections: c.MaxConnections,
		MaxMessageSize: c.MaxMessageMB << 20, IdleTimeout: c.IdleTimeout.D(),
		RaceMap: c.RaceMap, GroupMap: c.GroupMap, MeasurementMap: c.MeasurementMap,
		Application: c.SendingApp,
	}, h, h.log, h.health)
	if err != nil {
		return &ConfigError{Key: "hl7", Err: err}
	}
	h.inboundComp[name] = "conn:" + name
	h.add("conn:"+name, in.Run)
	out, err := hl7net.NewMLLPOutbound(hl7net.MLLPOutboundOptions{
		Name: name, Addr: c.ResultHost, AckTimeout: c.AckTimeout.D(),
		ORU: hl7net.ORUSettings{SendingApp: c.SendingApp, SendingFacility: c.SendingFacility,
			ReceivingApp: c.ReceivingApp, ReceivingFacility: c.ReceivingFacility, Charset: c.Charset},
	}, h.log)
	if err != nil {
		return &ConfigError{Key: "hl7.resultHost", Err: err}
	}
	return h.register(name, out, p, h.profile.Name+" (HL7 over MLLP)")
}

func (h *Hub) wireWEDA(name string, c *config.WEDAConfig, p outbox.Policy) error {
	token, err := h.secret("weda.token", c.Token)
	if err != nil {
		return err
	}
	codec := hl7net.NewWEDACodec(hl7.MapOptions{Connection: name, RaceMap: c.RaceMap, GroupMap: c.GroupMap,
		MeasurementMap: c.MeasurementMap, WEDA: true})
	comp := "conn:" + name + "/files-in"
	h.inboundComp[name] = comp
	w, err := folder.NewWatcher(folder.Options{
		Dir: c.InboundDir, DeleteProcessed: c.AfterProcess == "delete", QuietPeriod: c.QuietPeriod.D(),
		Patterns: []string{"*.hl7", "*.HL7", "*.txt", "*.msg"}, Logger: h.log.WithField("connection", name),
	}, func(ctx context.Context, f folder.File) error {
		o, err := codec.OrderFromFile(f.Data)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		acc, err := h.AcceptOrder(ctx, o)
		if err != nil {
			if errors.Is(err, domain.ErrUnknownOrder) || errors.Is(err, domain.ErrInvalidOrder) {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
			return folder.Retryable(err)
		}
		h.health.touch(comp)
		_ = acc
		return nil
	})
	if err != nil {
		return &ConfigError{Key: "weda.inboundDir", Err: err}
	}
	h.health.Report(domain.Health{Component: comp, Code: "watching", Title: "Watching the WEDA folder",
		Text: c.InboundDir, Severity: domain.SeverityOK})
	h.add(comp, w.Run)
	out, err := hl7net.NewWEDAOutbound(hl7net.WEDAOutboundOptions{
		Name: name, URL: c.ResultURL, Token: token, TokenHeader: c.TokenHeader, ContentType: c.ContentType,
		Timeout: c.Timeout.D(), TempDir: filepath.Join(h.dataDir, "tmp"),
		ORU: hl7net.ORUSettings{SendingApp: c.SendingApp, Charset: c.Charset},
	}, h.log)
	if err != nil {
		return &ConfigError{Key: "weda", Err: err}
	}
	return h.register(name, out, p, "WEDA (HL7 over HTTPS)")
}

// AcceptResult stores a tablet's result with one delivery per outbound
// connection (device.Hub); it returns only after both are durable, and
// then wakes the outbox.
func (h *Hub) AcceptResult(ctx context.Context, r domain.Result) (domain.Result, bool, error) {
	stored, dup, err := h.store.SaveResult(ctx, r, h.outbound)
	if err != nil {
		h.health.Report(domain.Health{Component: "store", Code: "write-failed", Title: "Database cannot store results",
			Text: err.Error() + " — tablets are told to retry; nothing is lost.", Severity: domain.SeverityError, LastError: err.Error()})
		return stored, false, err
	}
	h.log.WithFields(map[string]any{"result": stored.ID, "order": stored.OrderID, "device": stored.DeviceID,
		"measurement": stored.Measurement, "duplicate": dup}).Info("result accepted")
	if !dup {
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
}

// Fingerprint returns the LAN endpoint's TLS certificate fingerprint.
func (h *Hub) Fingerprint() string {
	if h.device == nil {
		return ""
	}
	return h.device.Fingerprint()
}

// Outbox returns the delivery queue (manual actions, status).
func (h *Hub) Outbox() *outbox.Outbox { return h.outboxQ }
