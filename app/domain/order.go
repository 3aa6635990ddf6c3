package domain

import "time"

// Provider is a clinician (HL7 XCN): ID and structured name.
type Provider struct {
	ID   string     `json:"id,omitempty"`
	Name PersonName `json:"name,omitzero"`
}

// IsZero reports whether the provider is empty.
func (p Provider) IsZero() bool { return p == Provider{} }

// Visit is the encounter the order belongs to (HL7 PV1).
type Visit struct {
	Class string `json:"class,omitempty"` // PV1-2 patient class
	// Location is PV1-3 as received, components joined with ^ (kept for
	// round trips into the ORU); AssignedLocation is the same value read
	// into its parts, for people.
	Location         string     `json:"location,omitempty"`
	AssignedLocation Location   `json:"assignedLocation,omitzero"` // PV1-3 by part
	AdmissionType    string     `json:"admissionType,omitempty"`   // PV1-4
	Attending        Provider   `json:"attending,omitzero"`        // PV1-7
	Service          string     `json:"service,omitempty"`         // PV1-10 hospital service
	Number           Identifier `json:"number,omitzero"`           // PV1-19 visit number with authority and type
	AdmitAt          time.Time  `json:"admitAt,omitzero"`          // PV1-44
	DischargeAt      time.Time  `json:"dischargeAt,omitzero"`      // PV1-45
}

// OrderAction says what an incoming order message asks the hub to do.
type OrderAction string

// Order actions (HL7 ORC-1 NW/XO/CA, GDT 6301/6302/6303).
const (
	ActionNew    OrderAction = "new"
	ActionUpdate OrderAction = "update"
	ActionCancel OrderAction = "cancel"
)

// OrderState is where an appointment is in its life on the worklist.
type OrderState string

// Order states. Only scheduled and in_progress orders are on a worklist.
const (
	OrderScheduled  OrderState = "scheduled"
	OrderInProgress OrderState = "in_progress"
	OrderDone       OrderState = "done"      // every delivery of its result succeeded
	OrderCancelled  OrderState = "cancelled" // the EHR cancelled it
	OrderDeleted    OrderState = "deleted"   // staff deleted it (audit-logged with a reason)
)

// OnWorklist reports whether an order in this state belongs on a worklist.
func (s OrderState) OnWorklist() bool { return s == OrderScheduled || s == OrderInProgress }

// Field is one source field kept verbatim, in the order it arrived: a GDT
// field the hub does not map, or an HL7 field by its path. Label is a human
// name where one is known. Value is exactly what arrived (HL7: escapes
// resolved, components joined with ^ ~ &), for support and round trips;
// Text is the same value written for people to read ("Janez Novak",
// "2024-03-15 09:00", "Black or African American (2054-5)").
type Field struct {
	Key   string `json:"key"`             // "3629", "ORC-7", "OBR-27.4"
	Label string `json:"label,omitempty"` // "Quantity/timing"
	Value string `json:"value"`
	Text  string `json:"text,omitempty"`
}

// Order is an appointment: a patient and a requested measurement on the
// worklist of a tablet group.
type Order struct {
	// ID is the hub's own ID for the order (stable, opaque).
	ID string `json:"id"`
	// Connection is the name of the connection the order came in on.
	Connection string `json:"connection"`
	// SourceMessageID identifies the source message for de-duplication
	// (HL7 MSH-10, a GDT file's content hash, a JSON appointment ID).
	SourceMessageID string `json:"sourceMessageId,omitempty"`
	// SourceControlID is the sender's own message ID when SourceMessageID
	// is built from it and a hash of the content (HL7: MSH-10; the key is
	// "<MSH-10>@<hash>"). The store then reports in Accepted.ControlIDReused
	// when the same control ID arrived before with other content.
	SourceControlID string `json:"sourceControlId,omitempty"`
	// Action is what the message asked for; the store keeps the resulting state.
	Action OrderAction `json:"action,omitempty"`
	State  OrderState  `json:"state"`

	// Order identifiers. PlacerNumber is the EHR's order number (ORC-2 / OBR-2,
	// GDT 8310 or 2999) and the key by which updates and cancellations find
	// the order within a connection.
	PlacerNumber string `json:"placerNumber,omitempty"`
	FillerNumber string `json:"fillerNumber,omitempty"`
	GroupNumber  string `json:"groupNumber,omitempty"` // ORC-4 placer group number
	OrderStatus  string `json:"orderStatus,omitempty"` // ORC-5
	ResponseFlag string `json:"responseFlag,omitempty"`
	ControlCode  string `json:"controlCode,omitempty"` // ORC-1 as received (NW, CA, XO ...)

	// What to measure. Measurement is the hub's name (ECG, ABI, TBI, SPO2,
	// BP ...); ServiceCode/ServiceText are the EHR's (OBR-4, GDT 8402/2998).
	Measurement string `json:"measurement,omitempty"`
	ServiceCode string `json:"serviceCode,omitempty"`
	ServiceText string `json:"serviceText,omitempty"`
	Priority    string `json:"priority,omitempty"`

	// Times. MessageAt is the source message's own timestamp (MSH-7); RequestedAt
	// is when the order was requested, ScheduledAt when the measurement is due.
	MessageAt     time.Time `json:"messageAt,omitzero"`
	RequestedAt   time.Time `json:"requestedAt,omitzero"`
	ScheduledAt   time.Time `json:"scheduledAt,omitzero"`
	ObservationAt time.Time `json:"observationAt,omitzero"`
	TransactionAt time.Time `json:"transactionAt,omitzero"` // ORC-9
	EffectiveAt   time.Time `json:"effectiveAt,omitzero"`   // ORC-15

	OrderingProvider Provider `json:"orderingProvider,omitzero"` // ORC-12 / OBR-16
	Technician       string   `json:"technician,omitempty"`      // OBR-34
	EnteredBy        string   `json:"enteredBy,omitempty"`       // ORC-10
	CallbackPhone    string   `json:"callbackPhone,omitempty"`   // ORC-14 / OBR-17

	Patient Patient `json:"patient"`
	Visit   Visit   `json:"visit,omitzero"`

	// Group is the tablet group whose worklist shows the order.
	Group string `json:"group"`
	// Fields are every source field the connection parsed, in order, by key:
	// mapped ones (so the tablet and the Dashboard can show each) and unknown
	// ones (kept verbatim as "other fields").
	Fields []Field `json:"fields,omitempty"`
	// Meta holds connection-specific values needed to build the answer
	// (GDT IDs, charset, HL7 version, WEDA task_type ...).
	Meta map[string]string `json:"meta,omitempty"`

	// StartedBy is the device that started the measurement (state in_progress).
	StartedBy  string    `json:"startedBy,omitempty"`
	ReceivedAt time.Time `json:"receivedAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// Field returns the value of the first source field with the given key.
func (o *Order) Field(key string) (string, bool) {
	for _, f := range o.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}
