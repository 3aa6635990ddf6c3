package hl7net

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/folder"
	"github.com/mesi/mconnect/connectors/hl7"
)

// WEDAInboundOptions configure WEDA's order folder.
type WEDAInboundOptions struct {
	// Name is the connection's name (Order.Connection, health, log).
	Name string
	// Dir is the folder WEDA writes HL7 order files into.
	Dir             string
	QuietPeriod     time.Duration
	DeleteProcessed bool
	// Map configures the ORM mapping (Connection is set from Name).
	Map hl7.MapOptions
}

// WEDAInbound takes WEDA's HL7 order files from a folder to the order sink:
// a file the hub refuses goes to error/ with a note; a file the hub cannot
// store yet stays and is retried.
type WEDAInbound struct {
	opts      WEDAInboundOptions
	codec     *WEDACodec
	sink      domain.OrderSink
	health    domain.HealthReporter
	log       logrus.FieldLogger
	component string
	watcher   *folder.Watcher

	mu      sync.Mutex
	lastMsg time.Time
	lastErr string
}

// NewWEDAInbound checks the options and creates the watcher.
func NewWEDAInbound(opts WEDAInboundOptions, sink domain.OrderSink, log logrus.FieldLogger, health domain.HealthReporter) (*WEDAInbound, error) {
	if sink == nil {
		return nil, errors.New("WEDA inbound needs an order sink")
	}
	if log == nil {
		log = logrus.StandardLogger()
	}
	if health == nil {
		health = domain.HealthFunc(func(domain.Health) {})
	}
	opts.Map.Connection = opts.Name
	in := &WEDAInbound{opts: opts, codec: NewWEDACodec(opts.Map), sink: sink, health: health,
		log: log.WithField("connection", opts.Name), component: "conn:" + opts.Name + "/files-in"}
	w, err := folder.NewWatcher(folder.Options{
		Dir: opts.Dir, DeleteProcessed: opts.DeleteProcessed, QuietPeriod: opts.QuietPeriod,
		Patterns: []string{"*.hl7", "*.HL7", "*.txt", "*.msg"}, Logger: in.log,
	}, in.handle)
	if err != nil {
		return nil, err
	}
	in.watcher = w
	return in, nil
}

// Component is the health component the inbound reports as.
func (in *WEDAInbound) Component() string { return in.component }

// Run watches the folder until ctx is done.
func (in *WEDAInbound) Run(ctx context.Context) error {
	in.report(domain.SeverityOK, "watching", "")
	err := in.watcher.Run(ctx)
	if ctx.Err() == nil && err != nil {
		return fmt.Errorf("WEDA folder %s: %w", in.opts.Dir, err)
	}
	return nil
}

func (in *WEDAInbound) handle(ctx context.Context, f folder.File) error {
	o, err := in.codec.OrderFromFile(f.Data)
	if err != nil {
		err = fmt.Errorf("%s: %w", f.Name, err)
		in.fail(err)
		return err
	}
	if _, err := in.sink.AcceptOrder(ctx, o); err != nil {
		if domain.Refused(err) {
			err = fmt.Errorf("%s: %w", f.Name, err)
			in.fail(err)
			return err
		}
		in.report(domain.SeverityError, "store-unavailable", err.Error())
		return folder.Retryable(err)
	}
	if cut := o.Meta[hl7.MetaTextCut]; cut != "" {
		in.log.WithFields(logrus.Fields{"file": f.Name, "fields": cut}).Warn("hl7: order text over the limit cut")
	}
	in.mu.Lock()
	in.lastMsg = time.Now()
	in.mu.Unlock()
	in.report(domain.SeverityOK, "watching", "")
	return nil
}

func (in *WEDAInbound) fail(err error) {
	in.mu.Lock()
	in.lastErr = err.Error()
	in.mu.Unlock()
	in.report(domain.SeverityWarning, "file-refused", err.Error())
}

func (in *WEDAInbound) report(sev domain.Severity, code, detail string) {
	in.mu.Lock()
	h := domain.Health{Component: in.component, Code: code, Severity: sev, Detail: detail,
		Args: map[string]string{"folder": in.opts.Dir}, LastMessageAt: in.lastMsg, LastError: in.lastErr}
	in.mu.Unlock()
	in.health.Report(h)
}
