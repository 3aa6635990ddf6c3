package hl7net

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/hl7"
)

// OrderHandlerOptions configure an OrderHandler.
type OrderHandlerOptions struct {
	Connection   string
	Map          hl7.MapOptions // Connection, Now are filled in
	StoreTimeout time.Duration  // default 30 s
	Application  string         // MSH-3 of ACKs when the request's MSH-5 is empty
	Now          func() time.Time
}

// OrderHandler answers ORM^O01 messages: parse, map, store through the
// sink, acknowledge. It implements mllp.Handler and is usable on its own
// (e.g. for messages arriving by other transports).
type OrderHandler struct {
	opts   OrderHandlerOptions
	mapper *hl7.Mapper
	sink   domain.OrderSink
	log    logrus.FieldLogger
	rep    *domain.Reporter
}

// NewOrderHandler returns a handler storing through sink.
func NewOrderHandler(opts OrderHandlerOptions, sink domain.OrderSink, log logrus.FieldLogger, health domain.HealthReporter) *OrderHandler {
	if opts.StoreTimeout <= 0 {
		opts.StoreTimeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Application == "" {
		opts.Application = hl7.DefaultApplication
	}
	opts.Map.Connection = opts.Connection
	opts.Map.Now = opts.Now
	if health == nil {
		health = domain.HealthFunc(func(domain.Health) {})
	}
	return &OrderHandler{opts: opts, mapper: hl7.NewMapper(opts.Map), sink: sink, log: log,
		rep: domain.NewReporter(health, "conn:"+opts.Connection)}
}

// Outcome is what happened to one message.
type Outcome struct {
	// Code is the answer in original-mode terms (AA, AE, AR).
	Code hl7.AckCode
	// ACK is the acknowledgment sent back (nil: none, as MSH-15/16 asked):
	// see Handle.
	ACK       []byte
	Orders    []domain.Accepted
	Duplicate bool
	Err       error

	hdr    hl7.Header
	text   string
	errs   []*hl7.Error
	silent bool // an acknowledgment received: not answered
}

// ServeMLLP implements mllp.Handler (a nil reply sends nothing).
func (h *OrderHandler) ServeMLLP(ctx context.Context, peer net.Addr, msg []byte) []byte {
	return h.Handle(ctx, peer.String(), msg).ACK
}

// sizeText is a byte count as people read it ("2 MB", "512 KB").
func sizeText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Oversize implements mllp.Handler: an AR naming the limit.
func (h *OrderHandler) Oversize(_ context.Context, peer net.Addr, head []byte, limit int) []byte {
	hdr := hl7.ReadHeader(head)
	e := &hl7.Error{Code: hl7.CodeInternal, Reject: true,
		Problem: fmt.Sprintf("message larger than the hub's limit of %s (%d bytes) for an order; not processed", sizeText(limit), limit)}
	h.log.WithFields(logrus.Fields{"peer": peer.String(), "control_id": hdr.ControlID, "limit": limit}).Warn("hl7: message over the size limit rejected")
	h.fail("message over the size limit from "+peer.String(), domain.SeverityWarning)
	return h.ack(hdr, hl7.AR, "", hl7.AckAuto, e)
}

// Handle processes one message and returns the outcome with the
// acknowledgment to send, at most one per message so that senders that
// wait for one answer per message stay in step: in original mode (MSH-15
// and MSH-16 empty) AA/AE/AR; in enhanced mode the accept acknowledgment
// CA/CE/CR when MSH-15 asks for it (AL, or empty: always; NE: never; ER:
// only CE/CR; SU: only CA), otherwise the application acknowledgment
// AA/AE/AR when MSH-16 asks for it (AL, ER, SU as for MSH-15; NE or empty:
// never), otherwise none. The accept acknowledgment is sent only after the
// order is stored, so it stands for the application acknowledgment too.
// An acknowledgment that arrives (MSH-9 ACK: the sender's answer to one of
// the hub's application acknowledgments) is not answered.
func (h *OrderHandler) Handle(ctx context.Context, peer string, msg []byte) Outcome {
	out := h.handle(ctx, peer, msg)
	if out.silent {
		return out
	}
	hdr := out.hdr
	switch {
	case hdr.WantsAccept(out.Code):
		out.ACK = h.ack(hdr, out.Code, out.text, hl7.AckAuto, out.errs...)
	case hdr.WantsApplication(out.Code):
		out.ACK = h.ack(hdr, out.Code, out.text, hl7.AckApplication, out.errs...)
	default:
		log := h.log.WithFields(logrus.Fields{"peer": peer, "control_id": hdr.ControlID, "ack": out.Code})
		log.Debug("hl7: no acknowledgment, as MSH-15/16 ask")
	}
	return out
}

func (h *OrderHandler) handle(ctx context.Context, peer string, msg []byte) Outcome {
	parsed, orders, err := h.mapper.Decode(msg)
	var hdr hl7.Header
	if parsed != nil {
		hdr = hl7.HeaderOf(parsed)
	} else {
		hdr = hl7.ReadHeader(msg)
	}
	// The logger with the message's fields is made only for a line written:
	// an order stored writes none here (the hub writes its own).
	var entry logrus.FieldLogger
	log := func() logrus.FieldLogger {
		if entry == nil {
			entry = h.log.WithFields(logrus.Fields{"peer": peer, "control_id": hdr.ControlID})
		}
		return entry
	}
	if err != nil && strings.EqualFold(hdr.MessageType, "ACK") {
		log().Debug("hl7: acknowledgment received; not answered")
		return Outcome{Code: hl7.AA, hdr: hdr, silent: true}
	}
	if err != nil {
		e, ok := hl7.AsError(err)
		if !ok {
			// Not a problem of the message's own (the detail goes to the log).
			e = &hl7.Error{Code: hl7.CodeInternal, Problem: "the hub could not read the message; please resend"}
		}
		code := hl7.AE
		if e.Reject {
			code = hl7.AR
		}
		// The problem text may quote patient data: keep it out of info logs.
		log().WithFields(logrus.Fields{"ack": code, "err_code": e.Code, "location": e.Location()}).Warn("hl7: message refused")
		log().WithError(err).Debug("hl7: message refused (detail)")
		h.fail(fmt.Sprintf("refused message %s: HL7 error %d at %s", hdr.ControlID, e.Code, e.Location()), domain.SeverityWarning)
		return Outcome{Code: code, hdr: hdr, errs: []*hl7.Error{e}, Err: err}
	}
	// Each order is stored on its own: one refused order (a cancellation of
	// an order the hub does not have) gets an ERR, the others are stored,
	// and the answer is AA as soon as any order was stored — never AR after
	// storing something. Only when every order is refused is the answer AR.
	// A store failure answers AE ("resend"): the orders stored before it
	// are recognised as duplicates when the message comes again.
	out := Outcome{Code: hl7.AA, hdr: hdr}
	var refused []*hl7.Error
	var reused bool
	var cut string // fields of an order whose text was cut
	for _, o := range orders {
		sctx, cancel := context.WithTimeout(ctx, h.opts.StoreTimeout)
		acc, err := h.sink.AcceptOrder(sctx, o)
		cancel()
		olog := func() logrus.FieldLogger {
			return log().WithFields(logrus.Fields{"placer": o.PlacerNumber, "patient_id": o.Patient.ID, "action": o.Action})
		}
		if err != nil {
			if domain.Refused(err) {
				e := refusedError(o, err)
				olog().WithError(err).WithField("err_code", e.Code).Warn("hl7: order refused")
				refused = append(refused, e)
				out.Err = errors.Join(out.Err, err)
				continue
			}
			e := &hl7.Error{Code: hl7.CodeInternal, Problem: "the order could not be stored now; please resend"}
			olog().WithError(err).WithField("ack", hl7.AE).Warn("hl7: order not stored")
			h.fail(fmt.Sprintf("order %s not stored: %v", o.PlacerNumber, err), domain.SeverityError)
			return Outcome{Code: hl7.AE, hdr: hdr, errs: []*hl7.Error{e}, Orders: out.Orders, Duplicate: out.Duplicate, Err: err}
		}
		out.Orders = append(out.Orders, acc)
		out.Duplicate = out.Duplicate || acc.Duplicate
		reused = reused || acc.ControlIDReused
		if debugging(h.log) {
			olog().WithFields(logrus.Fields{"order_id": acc.OrderID, "duplicate": acc.Duplicate, "control_id_reused": acc.ControlIDReused}).Debug("hl7: order accepted")
		}
		if f := o.Meta[hl7.MetaTextCut]; f != "" && cut == "" {
			cut = f
		}
	}
	if len(out.Orders) == 0 {
		log().WithFields(logrus.Fields{"ack": hl7.AR, "refused": len(refused)}).Warn("hl7: message refused")
		h.fail(fmt.Sprintf("refused message %s: no order could be applied", hdr.ControlID), domain.SeverityWarning)
		return Outcome{Code: hl7.AR, hdr: hdr, errs: refused, Err: out.Err}
	}
	switch {
	case reused:
		log().Warn("hl7: control ID re-used with other content; stored as a new message")
		h.rep.Failed(domain.SeverityWarning, "control-id-reused", map[string]string{"control_id": hdr.ControlID},
			fmt.Errorf("message control ID (MSH-10) %q arrived before with other content; the new message was stored", hdr.ControlID))
	case parsed.DeclaredCharset != "":
		log().WithFields(logrus.Fields{"declared": parsed.DeclaredCharset, "read_as": parsed.Charset}).Warn("hl7: MSH-18 disagrees with the bytes; read in the connection's default charset")
		h.rep.Failed(domain.SeverityWarning, "charset-mismatch",
			map[string]string{"control_id": hdr.ControlID, "declared": parsed.DeclaredCharset, "used": parsed.Charset},
			fmt.Errorf("message %s declares %s in MSH-18 but is not; read as %s", hdr.ControlID, parsed.DeclaredCharset, parsed.Charset))
	case cut != "":
		log().WithField("fields", cut).Warn("hl7: order text over the limit cut")
		h.rep.Failed(domain.SeverityWarning, "order-text-cut", map[string]string{"control_id": hdr.ControlID, "fields": cut},
			fmt.Errorf("message %s: the text of %s was longer than the limit and was cut", hdr.ControlID, cut))
	case len(refused) > 0:
		h.fail(fmt.Sprintf("message %s: %d of %d orders refused", hdr.ControlID, len(refused), len(orders)), domain.SeverityWarning)
	default:
		h.ok()
	}
	text := ""
	if len(refused) > 0 {
		text = fmt.Sprintf("%d of %d orders applied; the others are refused, see ERR", len(orders)-len(refused), len(orders))
	}
	out.text, out.errs = text, refused
	return out
}

// refusedError is the ERR of an order the hub refused, in HL7 terms (the
// store's own words stay in the log).
func refusedError(o domain.Order, err error) *hl7.Error {
	seq := orcSeq(o)
	switch {
	case errors.Is(err, domain.ErrUnknownOrder):
		return &hl7.Error{Segment: "ORC", Seq: seq, Field: 2, Code: hl7.CodeUnknownKey,
			Problem: fmt.Sprintf("ORC-1 %s: placer order number (ORC-2) %q is not an open order of this connection", orDefault(o.ControlCode, "CA"), o.PlacerNumber)}
	case strings.TrimSpace(o.Patient.ID) == "":
		return &hl7.Error{Segment: "PID", Seq: 1, Field: 3, Code: hl7.CodeRequiredMissing,
			Problem: fmt.Sprintf("order %q (ORC %d): patient identifier (PID-3) missing", o.PlacerNumber, seq)}
	default:
		return &hl7.Error{Segment: "ORC", Seq: seq, Code: hl7.CodeInternal,
			Problem: fmt.Sprintf("order %q (ORC %d) cannot be taken as sent", o.PlacerNumber, seq)}
	}
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func orcSeq(o domain.Order) int {
	if v := o.Meta[hl7.MetaOrderIndex]; v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err == nil {
			return n
		}
	}
	return 1
}

// ack builds the answer. Its control ID derives from the request's, so a
// re-sent message gets the same acknowledgment again.
// The application acknowledgment's control ID starts with "B" instead.
func (h *OrderHandler) ack(hdr hl7.Header, code hl7.AckCode, text string, level hl7.AckLevel, errs ...*hl7.Error) []byte {
	id := ackControlID(hdr.ControlID, h.opts.Now())
	if level == hl7.AckApplication {
		id = "B" + id[1:]
	}
	a := hl7.Ack{Request: hdr, Code: code, Text: text, ControlID: id, Level: level,
		At: h.opts.Now(), SendingApp: h.opts.Application}
	for _, e := range errs {
		if e != nil {
			a.Errors = append(a.Errors, e)
		}
	}
	b, err := hl7.BuildAck(a)
	if err != nil {
		h.log.WithError(err).Error("hl7: building ACK failed")
		a.Request.Charset, a.Request.Encoding = "", ""
		b, _ = hl7.BuildAck(a)
	}
	return b
}

func ackControlID(req string, now time.Time) string {
	if req == "" {
		return "A" + now.UTC().Format("20060102150405.000000")
	}
	id := "A" + req
	if len(id) > 199 {
		id = id[:199]
	}
	return id
}

// debugging reports whether log writes debug lines (when it cannot tell:
// yes).
func debugging(log logrus.FieldLogger) bool {
	switch l := log.(type) {
	case *logrus.Entry:
		return l.Logger.IsLevelEnabled(logrus.DebugLevel)
	case *logrus.Logger:
		return l.IsLevelEnabled(logrus.DebugLevel)
	}
	return true
}

func (h *OrderHandler) ok() { h.rep.Moved("receiving", nil) }

func (h *OrderHandler) fail(what string, sev domain.Severity) {
	code := "message-refused"
	if sev == domain.SeverityError {
		code = "store-failed"
	}
	h.rep.Failed(sev, code, nil, errors.New(what))
}
