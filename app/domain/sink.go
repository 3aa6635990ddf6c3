package domain

import (
	"context"
	"errors"
)

// Accepted is the hub's answer to an order handed over by an inbound
// connection. It is returned only after the order is durably stored.
type Accepted struct {
	OrderID string `json:"orderId"`
	// Duplicate is true when the same source message (connection +
	// SourceMessageID) was accepted before; nothing new was stored and the
	// connection should repeat its first acknowledgement.
	Duplicate bool `json:"duplicate"`
	// ControlIDReused is true when the order's SourceControlID was seen
	// before with other content: the message was stored as new (never taken
	// for a re-send), and the connection warns that the sender re-uses
	// control IDs.
	ControlIDReused bool       `json:"controlIdReused,omitempty"`
	State           OrderState `json:"state"`
	// Groups are the tablet groups whose worklist changed (the order's
	// group, and its former group when an update moved it); empty for a
	// duplicate.
	Groups []string `json:"groups,omitempty"`
}

// OrderSink takes orders from inbound connections. AcceptOrder returns only
// after the order (or its update or cancellation) is durably stored; the
// connection acknowledges the EHR after that and never before. An error
// means nothing was stored: the connection must not acknowledge.
type OrderSink interface {
	AcceptOrder(ctx context.Context, o Order) (Accepted, error)
}

// Errors an OrderSink returns for orders that can never be stored as sent.
// They are permanent: re-sending the same message will fail the same way.
var (
	// ErrUnknownOrder: an update or cancellation names an order the hub does not have.
	ErrUnknownOrder = errors.New("no such order")
	// ErrInvalidOrder: the order lacks what the hub needs (e.g. a patient ID).
	ErrInvalidOrder = errors.New("invalid order")
)

// Outgoing is what an outbound connection delivers: a stored result, the
// order it answers (nil for an unsolicited result) and the delivery record.
type Outgoing struct {
	Delivery Delivery
	Result   Result
	Order    *Order
	// Progress is what earlier attempts of this delivery recorded with
	// Record (zero on the first attempt, and again after a delivery
	// succeeded): a connector that writes in several steps resumes from
	// there instead of writing a step twice.
	Progress Progress
	// Record durably saves how far this attempt got before the connector
	// goes on (nil when the outbox keeps no progress). Recording a zero
	// Progress forgets it (a step that can never complete).
	Record func(ctx context.Context, p Progress) error
}

// Progress is how far the attempts of one delivery got, in the
// connector's own words: a HALO query ID whose outcome is still to be
// read, a Leyr medical note already created.
type Progress struct {
	// Step is the connector's text ("halo-query:3f2a…"); empty: nothing.
	Step string `json:"step,omitempty"`
	// Resumable says that an attempt the hub cut off after this record (a
	// crash, a kill) may be taken up again by itself instead of being held
	// as ambiguous: what follows the step writes nothing (HALO: reading the
	// status of the query already submitted).
	Resumable bool `json:"resumable,omitempty"`
}

// Outbound delivers results to one EHR connection. Deliver returns the EHR's
// answer on success; on failure an error, classified with Permanent or
// Temporary (an unclassified error counts as temporary).
type Outbound interface {
	Deliver(ctx context.Context, out Outgoing) (answer string, err error)
}

// Refused reports whether an OrderSink error means the order can never be
// stored as sent (ErrUnknownOrder, ErrInvalidOrder): the connection refuses
// it. Any other error is the hub's (a store that cannot write) and the
// connection retries later.
func Refused(err error) bool {
	return errors.Is(err, ErrUnknownOrder) || errors.Is(err, ErrInvalidOrder)
}
