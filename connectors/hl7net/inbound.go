package hl7net

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/hl7"
	"github.com/mesi/mconnect/connectors/mllp"
)

// MLLPInboundOptions configure an MLLP order listener.
type MLLPInboundOptions struct {
	// Name is the connection's name (Order.Connection, health component
	// "conn:<Name>", log field).
	Name string
	// ListenAddr is host:port to listen on (e.g. ":2575" or "0.0.0.0:6661").
	ListenAddr string
	// Allow lists addresses or CIDRs allowed to connect ("192.168.1.20",
	// "10.0.0.0/24"); empty allows any.
	Allow []string
	// MaxConnections bounds concurrent connections (default 32).
	MaxConnections int
	// MaxMessageSize bounds one order message in bytes (default
	// DefaultMaxOrderSize); a larger one gets an AR naming the limit.
	MaxMessageSize int
	// MaxFieldText bounds each text of an order (see hl7.MapOptions.MaxText).
	MaxFieldText int
	// IdleTimeout, ReadTimeout, WriteTimeout and ShutdownGrace: see
	// mllp.ServerOptions (defaults 5 min, 2 min, 30 s, 10 s).
	IdleTimeout, ReadTimeout, WriteTimeout, ShutdownGrace time.Duration
	// StoreTimeout bounds one sink.AcceptOrder call (default 30 s); a store
	// that does not answer in time gets the sender an AE.
	StoreTimeout time.Duration
	// RaceMap, GroupMap and MeasurementMap: see hl7.MapOptions.
	RaceMap, GroupMap, MeasurementMap map[string]string
	// DefaultCharset reads messages without MSH-18 that are not UTF-8.
	DefaultCharset string
	// Location reads timestamps without an offset (default time.Local).
	Location *time.Location
	// Application names the hub in ACKs when the sender left MSH-5 empty.
	Application string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultMaxOrderSize bounds an order message (ORM^O01): an order is
// text, a few kilobytes even with long notes, so 2 MB leaves room without
// letting a sender fill the hub's memory and every tablet's worklist. It is
// independent of the size of results, which go the other way.
const DefaultMaxOrderSize = 2 << 20

// MLLPInbound receives ORM^O01 orders over MLLP.
type MLLPInbound struct {
	opts    MLLPInboundOptions
	handler *OrderHandler
	server  *mllp.Server
	log     logrus.FieldLogger
	health  domain.HealthReporter
}

// NewMLLPInbound checks the options and returns the listener; Run starts it.
// health may be nil.
func NewMLLPInbound(opts MLLPInboundOptions, sink domain.OrderSink, log logrus.FieldLogger, health domain.HealthReporter) (*MLLPInbound, error) {
	if sink == nil {
		return nil, errors.New("hl7net: MLLP inbound needs an order sink")
	}
	if opts.ListenAddr == "" {
		return nil, errors.New("hl7net: MLLP inbound needs a listen address")
	}
	allow, err := mllp.ParseAllowList(opts.Allow)
	if err != nil {
		return nil, fmt.Errorf("hl7net: connection %q: %w", opts.Name, err)
	}
	if opts.DefaultCharset != "" {
		if _, ok := hl7.CanonicalCharset(opts.DefaultCharset); !ok {
			return nil, fmt.Errorf("hl7net: connection %q: unsupported default charset %q", opts.Name, opts.DefaultCharset)
		}
	}
	if log == nil {
		log = logrus.StandardLogger()
	}
	if health == nil {
		health = domain.HealthFunc(func(domain.Health) {})
	}
	log = log.WithField("connection", opts.Name)
	h := NewOrderHandler(OrderHandlerOptions{
		Connection: opts.Name, StoreTimeout: opts.StoreTimeout, Application: opts.Application, Now: opts.Now,
		Map: hl7.MapOptions{RaceMap: opts.RaceMap, GroupMap: opts.GroupMap, MeasurementMap: opts.MeasurementMap, MaxText: opts.MaxFieldText,
			Location: opts.Location, Parse: hl7.ParseOptions{DefaultCharset: opts.DefaultCharset}},
	}, sink, log, health)
	if opts.MaxMessageSize <= 0 {
		opts.MaxMessageSize = DefaultMaxOrderSize
	}
	srv := mllp.NewServer(mllp.ServerOptions{
		Allow: allow, MaxConns: opts.MaxConnections, MaxMessageSize: opts.MaxMessageSize,
		IdleTimeout: opts.IdleTimeout, ReadTimeout: opts.ReadTimeout, WriteTimeout: opts.WriteTimeout,
		ShutdownGrace: opts.ShutdownGrace, Log: log, Health: health, Component: h.rep.Component(),
	}, h)
	return &MLLPInbound{opts: opts, handler: h, server: srv, log: log, health: health}, nil
}

// Run listens on ListenAddr and serves until ctx is done; it returns nil
// after a clean shutdown, or the error that stopped it.
func (in *MLLPInbound) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", in.opts.ListenAddr)
	if err != nil {
		in.handler.rep.Failed(domain.SeverityError, "listen-failed", map[string]string{"addr": in.opts.ListenAddr}, err)
		return fmt.Errorf("hl7net: connection %q: listen on %s: %w", in.opts.Name, in.opts.ListenAddr, err)
	}
	return in.Serve(ctx, ln)
}

// Serve serves on an existing listener (tests, socket activation).
func (in *MLLPInbound) Serve(ctx context.Context, ln net.Listener) error {
	in.log.WithField("addr", ln.Addr().String()).Info("hl7: listening for orders")
	in.handler.rep.Set(domain.SeverityOK, "listening", map[string]string{"addr": ln.Addr().String()}, "")
	err := in.server.Serve(ctx, ln)
	in.handler.rep.Set(domain.SeverityOK, "stopped", nil, "")
	in.log.Info("hl7: listener stopped")
	if err != nil {
		return fmt.Errorf("hl7net: connection %q: %w", in.opts.Name, err)
	}
	return nil
}
