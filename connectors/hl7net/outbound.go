package hl7net

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/connectors/hl7"
	"github.com/mesi/mconnect/connectors/mllp"
	"github.com/mesi/mconnect/connectors/probe"
)

// ORUSettings fix MSH values of outgoing results; empty values come from
// the order being answered (see hl7.ORUOptions).
type ORUSettings struct {
	SendingApp, SendingFacility     string
	ReceivingApp, ReceivingFacility string
	Version, Charset, ProcessingID  string
}

func (s ORUSettings) options(ctrl string, now time.Time) hl7.ORUOptions {
	return hl7.ORUOptions{ControlID: ctrl, SendingApp: s.SendingApp, SendingFacility: s.SendingFacility,
		ReceivingApp: s.ReceivingApp, ReceivingFacility: s.ReceivingFacility, Version: s.Version,
		Charset: s.Charset, ProcessingID: s.ProcessingID, Now: now}
}

// MLLPOutboundOptions configure result delivery over MLLP.
type MLLPOutboundOptions struct {
	// Name is the connection's name (log field).
	Name string
	// Addr is the EHR's host:port.
	Addr string
	// DialTimeout (default 10 s), WriteTimeout (default 60 s) and AckTimeout
	// (default 30 s; on timeout the connection is closed and the delivery
	// retried later).
	DialTimeout, WriteTimeout, AckTimeout time.Duration
	// KeepAlive keeps one connection open between results; default is a
	// connection per result.
	KeepAlive bool
	// MaxAckSize bounds the EHR's answer (default 1 MB).
	MaxAckSize int
	// ORU fixes MSH values of the results.
	ORU ORUSettings
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// MLLPOutbound delivers results as ORU^R01 over MLLP. It implements
// domain.Outbound.
type MLLPOutbound struct {
	opts   MLLPOutboundOptions
	sender *mllp.Sender
	log    logrus.FieldLogger
	seq    atomic.Uint64
}

var _ domain.Outbound = (*MLLPOutbound)(nil)

// NewMLLPOutbound returns the outbound connection.
func NewMLLPOutbound(opts MLLPOutboundOptions, log logrus.FieldLogger) (*MLLPOutbound, error) {
	if opts.Addr == "" {
		return nil, errors.New("hl7net: MLLP outbound needs the EHR's host:port")
	}
	if opts.ORU.Charset != "" {
		if _, ok := hl7.CanonicalCharset(opts.ORU.Charset); !ok {
			return nil, fmt.Errorf("hl7net: connection %q: unsupported charset %q", opts.Name, opts.ORU.Charset)
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if log == nil {
		log = logrus.StandardLogger()
	}
	return &MLLPOutbound{
		opts: opts,
		sender: mllp.NewSender(mllp.SenderOptions{Addr: opts.Addr, DialTimeout: opts.DialTimeout, WriteTimeout: opts.WriteTimeout,
			ReplyTimeout: opts.AckTimeout, MaxReplySize: opts.MaxAckSize, KeepAlive: opts.KeepAlive}),
		log: log.WithFields(logrus.Fields{"connection": opts.Name, "ehr_addr": opts.Addr}),
	}, nil
}

// controlID is unique per send (also per retry of the same result), so an
// answer to an earlier attempt can never be taken for this one.
func (o *MLLPOutbound) controlID(now time.Time) string {
	return "M" + strconv.FormatInt(now.UnixNano(), 36) + strconv.FormatUint(o.seq.Add(1)%1000, 36)
}

// Deliver sends the result and classifies the EHR's answer: AA/CA deliver;
// AE/CE, timeouts, connection errors and mismatched answers are temporary;
// AR/CR and results that can never be built are permanent.
func (o *MLLPOutbound) Deliver(ctx context.Context, out domain.Outgoing) (string, error) {
	log := o.log.WithFields(logrus.Fields{"result_id": out.Result.ID, "order_id": out.Result.OrderID, "delivery_id": out.Delivery.ID})
	report, err := openBuildable(out)
	if err != nil {
		log.WithError(err).Error("hl7: result cannot be built")
		return "", domain.Permanent(err, "")
	}
	if report != nil {
		defer report.Close()
	}
	now := o.opts.Now()
	ctrl := o.controlID(now)
	log = log.WithField("control_id", ctrl)
	reply, err := o.sender.Send(ctx, func(w io.Writer) error {
		return hl7.WriteORU(w, out, readerOf(report), o.opts.ORU.options(ctrl, now))
	})
	if err != nil {
		log.WithError(err).Warn("hl7: result not delivered")
		return "", domain.Temporary(fmt.Errorf("hl7net: sending result %s: %w", out.Result.ID, err), "")
	}
	return o.classify(log, ctrl, reply)
}

func (o *MLLPOutbound) classify(log logrus.FieldLogger, ctrl string, reply []byte) (string, error) {
	ack, err := hl7.ReadAck(reply)
	if err != nil {
		_ = o.sender.Close()
		log.WithError(err).Warn("hl7: unreadable answer from the EHR")
		return "", domain.Temporary(fmt.Errorf("hl7net: %w", err), truncate(string(reply), 200))
	}
	answer := string(ack.Code)
	if ack.Text != "" {
		answer += ": " + ack.Text
	}
	if ack.ControlID != ctrl {
		_ = o.sender.Close()
		log.WithField("msa2", ack.ControlID).Warn("hl7: answer acknowledges another message; connection closed")
		return "", domain.Temporary(fmt.Errorf("hl7net: answer acknowledges %q, not %q", ack.ControlID, ctrl), answer)
	}
	if ack.Text != "" && !ack.Accepted() {
		// The EHR's text may name the patient: debug only. It is kept
		// with the delivery, where a person reads it.
		log.WithFields(logrus.Fields{"ack": ack.Code, "ack_text": ack.Text}).Debug("hl7: text of the EHR's answer")
	}
	switch {
	case ack.Accepted():
		log.WithField("ack", ack.Code).Info("hl7: result delivered")
		return answer, nil
	case ack.Rejected():
		log.WithField("ack", ack.Code).Warn("hl7: EHR rejected the result")
		return "", domain.Permanent(fmt.Errorf("hl7net: EHR rejected the result (%s)", ack.Code), answer)
	default:
		log.WithField("ack", ack.Code).Warn("hl7: EHR reported an error; will retry")
		return "", domain.Temporary(fmt.Errorf("hl7net: EHR answered %s", ack.Code), answer)
	}
}

// Close closes a kept-alive connection.
func (o *MLLPOutbound) Close() error { return o.sender.Close() }

// openBuildable checks that an ORU can be built for out and opens the PDF
// report the result names (nil when it names none), so that a send never
// starts a message it cannot finish. The caller closes the report.
func openBuildable(out domain.Outgoing) (*os.File, error) {
	if out.Order == nil && out.Result.Patient == nil {
		return nil, hl7.ErrNoPatient
	}
	r := out.Result.Report
	if r == nil || r.Path == "" {
		return nil, nil
	}
	f, err := os.Open(r.Path)
	if err != nil {
		return nil, fmt.Errorf("hl7net: report of result %s: %w", out.Result.ID, err)
	}
	return f, nil
}

// readerOf gives the report as a reader: a nil file is no reader at all.
func readerOf(f *os.File) io.Reader {
	if f == nil {
		return nil
	}
	return f
}

// truncate cuts s to at most n bytes on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Check tries to reach the EHR's result port (Test connection).
func (o *MLLPOutbound) Check(ctx context.Context) connector.CheckResult {
	return probe.TCP(ctx, o.opts.Addr)
}
