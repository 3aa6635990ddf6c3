package device

import (
	"encoding/json"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// This file holds every JSON document of the LAN API (docs/lan-api.yaml)
// and its mapping from and to the domain types. The JSON names here are
// the API: tablets in the field parse them, so they change only with the
// API version, never because a domain type changed. testdata/lan-api pins
// the bytes.

// AppointmentState is an appointment's state as the LAN API names it.
type AppointmentState string

// Appointment states (docs/lan-api.yaml, Appointment.state).
const (
	StateScheduled  AppointmentState = "scheduled"
	StateInProgress AppointmentState = "in_progress"
	StateDone       AppointmentState = "done"
	StateCancelled  AppointmentState = "cancelled"
	StateDeleted    AppointmentState = "deleted"
)

// StateOf maps an order state to the LAN API's name for it.
func StateOf(s domain.OrderState) AppointmentState {
	switch s {
	case domain.OrderScheduled:
		return StateScheduled
	case domain.OrderInProgress:
		return StateInProgress
	case domain.OrderDone:
		return StateDone
	case domain.OrderCancelled:
		return StateCancelled
	case domain.OrderDeleted:
		return StateDeleted
	}
	return AppointmentState(s)
}

// Worklist is the answer of GET /worklist.
type Worklist struct {
	Group string `json:"group"`
	// Appointments are the group's appointments as summaries, oldest
	// first, at most Options.MaxWorklist of them.
	Appointments []AppointmentSummary `json:"appointments"`
	// Omitted counts the appointments left out beyond that limit (absent
	// when none).
	Omitted int `json:"omitted,omitempty"`
	// Stale is true when the hub could not ask the EHR (a cloud EHR it
	// reads appointments from) and answers with what it stored; absent
	// otherwise. StaleSince is when the EHR last answered (absent when it
	// has not since the hub started).
	Stale      bool      `json:"stale,omitempty"`
	StaleSince time.Time `json:"staleSince,omitzero"`
}

// Appointment is an order as a tablet sees it (GET and POST
// /appointments/{id}; GET /worklist lists summaries): every parsed field (patient, visit, provider, order
// identifiers and times) plus the source fields verbatim.
// Connection-internal values (Order.Meta, the source message ID) stay on
// the hub.
type Appointment struct {
	ID          string           `json:"id"`
	State       AppointmentState `json:"state"`
	Group       string           `json:"group"`
	Source      string           `json:"source,omitempty"` // the connection the order came in on
	Measurement string           `json:"measurement,omitempty"`
	ServiceCode string           `json:"serviceCode,omitempty"`
	ServiceText string           `json:"serviceText,omitempty"`
	Priority    string           `json:"priority,omitempty"`

	PlacerNumber string `json:"placerNumber,omitempty"`
	FillerNumber string `json:"fillerNumber,omitempty"`
	GroupNumber  string `json:"groupNumber,omitempty"`
	OrderStatus  string `json:"orderStatus,omitempty"`
	ResponseFlag string `json:"responseFlag,omitempty"`
	ControlCode  string `json:"controlCode,omitempty"`

	MessageAt     time.Time `json:"messageAt,omitzero"`
	RequestedAt   time.Time `json:"requestedAt,omitzero"`
	ScheduledAt   time.Time `json:"scheduledAt,omitzero"`
	ObservationAt time.Time `json:"observationAt,omitzero"`
	TransactionAt time.Time `json:"transactionAt,omitzero"`
	EffectiveAt   time.Time `json:"effectiveAt,omitzero"`

	OrderingProvider Provider `json:"orderingProvider,omitzero"`
	Technician       string   `json:"technician,omitempty"`
	EnteredBy        string   `json:"enteredBy,omitempty"`
	CallbackPhone    string   `json:"callbackPhone,omitempty"`

	Patient Patient `json:"patient"`
	Visit   Visit   `json:"visit,omitzero"`
	Fields  []Field `json:"fields,omitempty"`

	StartedBy  string    `json:"startedBy,omitempty"`
	ReceivedAt time.Time `json:"receivedAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// AppointmentOf maps a stored order to what the tablet sees.
func AppointmentOf(o domain.Order) Appointment {
	a := Appointment{
		ID: o.ID, State: StateOf(o.State), Group: o.Group, Source: o.Connection, Measurement: o.Measurement,
		ServiceCode: o.ServiceCode, ServiceText: o.ServiceText, Priority: o.Priority,
		PlacerNumber: o.PlacerNumber, FillerNumber: o.FillerNumber, GroupNumber: o.GroupNumber,
		OrderStatus: o.OrderStatus, ResponseFlag: o.ResponseFlag, ControlCode: o.ControlCode,
		MessageAt: o.MessageAt, RequestedAt: o.RequestedAt, ScheduledAt: o.ScheduledAt,
		ObservationAt: o.ObservationAt, TransactionAt: o.TransactionAt, EffectiveAt: o.EffectiveAt,
		OrderingProvider: providerOf(o.OrderingProvider), Technician: o.Technician, EnteredBy: o.EnteredBy,
		CallbackPhone: o.CallbackPhone, Patient: PatientOf(o.Patient), Visit: visitOf(o.Visit),
		StartedBy: o.StartedBy, ReceivedAt: o.ReceivedAt, UpdatedAt: o.UpdatedAt,
	}
	if len(o.Fields) > 0 {
		a.Fields = make([]Field, len(o.Fields))
		for i, f := range o.Fields {
			a.Fields[i] = Field{Key: f.Key, Label: f.Label, Value: f.Value, Text: f.Text}
		}
	}
	return a
}

// Field is one source field of an order, verbatim ("3629", "ORC-7").
type Field struct {
	Key   string `json:"key"`
	Label string `json:"label,omitempty"`
	Value string `json:"value"`
	// Text is the value for people to read (names, addresses, codes and
	// times rendered; no component separators). Value is kept exact.
	Text string `json:"text,omitempty"`
}

// Provider is a clinician. Its name is always sent, if empty as {}.
type Provider struct {
	ID   string     `json:"id,omitempty"`
	Name PersonName `json:"name"`
}

func providerOf(p domain.Provider) Provider { return Provider{ID: p.ID, Name: nameOf(p.Name)} }

// Visit is the encounter an appointment belongs to. What the EHR left
// empty is left out (no zero times, no empty objects), and an appointment
// without any visit data has no visit at all.
type Visit struct {
	Class         string     `json:"class,omitempty"`
	Location      string     `json:"location,omitempty"`
	AdmissionType string     `json:"admissionType,omitempty"`
	Attending     Provider   `json:"attending,omitzero"`
	Service       string     `json:"service,omitempty"`
	Number        Identifier `json:"number,omitzero"`
	AdmitAt       time.Time  `json:"admitAt,omitzero"`
	DischargeAt   time.Time  `json:"dischargeAt,omitzero"`
	// AssignedLocation is the assigned location (HL7 PV1-3) in parts, with
	// a one-line text for display; absent when the EHR sent none.
	AssignedLocation *Location `json:"assignedLocation,omitempty"`
}

// Location is where the patient is seen.
type Location struct {
	PointOfCare string `json:"pointOfCare,omitempty"`
	Room        string `json:"room,omitempty"`
	Bed         string `json:"bed,omitempty"`
	Facility    string `json:"facility,omitempty"`
	Building    string `json:"building,omitempty"`
	Floor       string `json:"floor,omitempty"`
	Description string `json:"description,omitempty"`
	// Text is the location in one line ("AMB, room 101, bed 1").
	Text string `json:"text"`
}

func locationOf(l domain.Location) *Location {
	if l.IsZero() {
		return nil
	}
	return &Location{PointOfCare: l.PointOfCare, Room: l.Room, Bed: l.Bed, Facility: l.Facility, Building: l.Building,
		Floor: l.Floor, Description: l.Description, Text: l.String()}
}

func visitOf(v domain.Visit) Visit {
	return Visit{Class: v.Class, Location: v.Location, AdmissionType: v.AdmissionType, Attending: providerOf(v.Attending),
		Service: v.Service, Number: identifierOf(v.Number), AdmitAt: v.AdmitAt, DischargeAt: v.DischargeAt,
		AssignedLocation: locationOf(v.AssignedLocation)}
}

// Identifier is an ID with the authority that assigned it and its type.
type Identifier struct {
	Value     string `json:"value"`
	Authority string `json:"authority,omitempty"`
	Type      string `json:"type,omitempty"`
}

func identifierOf(id domain.Identifier) Identifier {
	return Identifier{Value: id.Value, Authority: id.Authority, Type: id.Type}
}

// PersonName is a structured name.
type PersonName struct {
	Family string `json:"family,omitempty"`
	Given  string `json:"given,omitempty"`
	Middle string `json:"middle,omitempty"`
	Suffix string `json:"suffix,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	Degree string `json:"degree,omitempty"`
}

// Full returns the name as a person would write it: prefix given middle family.
func (n PersonName) Full() string { return n.domain().Full() }

func nameOf(n domain.PersonName) PersonName {
	return PersonName{Family: n.Family, Given: n.Given, Middle: n.Middle, Suffix: n.Suffix, Prefix: n.Prefix, Degree: n.Degree}
}

func (n PersonName) domain() domain.PersonName {
	return domain.PersonName{Family: n.Family, Given: n.Given, Middle: n.Middle, Suffix: n.Suffix, Prefix: n.Prefix, Degree: n.Degree}
}

// Address is a postal address. A patient's address is always sent, if empty as {}.
type Address struct {
	Street     string `json:"street,omitempty"`
	Other      string `json:"other,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Country    string `json:"country,omitempty"`
	Type       string `json:"type,omitempty"`
}

// Phone is a telecom entry: number, use code and equipment type.
type Phone struct {
	Number    string `json:"number"`
	Use       string `json:"use,omitempty"`
	Equipment string `json:"equipment,omitempty"`
}

// Patient is the patient of an appointment, and the patient block of an
// unsolicited result upload. Sex is "", M, F, O or U.
type Patient struct {
	ID              string       `json:"id"`
	IDs             []Identifier `json:"ids,omitempty"`
	InsuranceNumber string       `json:"insuranceNumber,omitempty"`
	Name            PersonName   `json:"name"`
	BirthDate       string       `json:"birthDate,omitempty"` // YYYY-MM-DD
	Sex             string       `json:"sex,omitempty"`
	SexCode         string       `json:"sexCode,omitempty"`
	Race            string       `json:"race,omitempty"`
	RaceCode        string       `json:"raceCode,omitempty"`
	Language        string       `json:"language,omitempty"`
	Address         Address      `json:"address"`
	Phones          []Phone      `json:"phones,omitempty"`
	Email           string       `json:"email,omitempty"`
	HeightCM        string       `json:"heightCm,omitempty"`
	WeightKG        string       `json:"weightKg,omitempty"`
}

// LAN API sex codes (docs/lan-api.yaml, Patient.sex).
var sexCodes = map[domain.Sex]string{
	domain.SexUnknown: "", domain.SexMale: "M", domain.SexFemale: "F", domain.SexOther: "O", domain.SexUndiff: "U",
}

// PatientOf maps a patient to the LAN API's form.
func PatientOf(p domain.Patient) Patient {
	sex, ok := sexCodes[p.Sex]
	if !ok {
		sex = string(p.Sex)
	}
	w := Patient{
		ID: p.ID, InsuranceNumber: p.InsuranceNumber, Name: nameOf(p.Name), BirthDate: p.BirthDate,
		Sex: sex, SexCode: p.SexCode, Race: p.Race, RaceCode: p.RaceCode, Language: p.Language,
		Address: Address{Street: p.Address.Street, Other: p.Address.Other, City: p.Address.City, State: p.Address.State,
			PostalCode: p.Address.PostalCode, Country: p.Address.Country, Type: p.Address.Type},
		Email: p.Email, HeightCM: p.HeightCM, WeightKG: p.WeightKG,
	}
	if len(p.IDs) > 0 {
		w.IDs = make([]Identifier, len(p.IDs))
		for i, id := range p.IDs {
			w.IDs[i] = identifierOf(id)
		}
	}
	if len(p.Phones) > 0 {
		w.Phones = make([]Phone, len(p.Phones))
		for i, ph := range p.Phones {
			w.Phones[i] = Phone{Number: ph.Number, Use: ph.Use, Equipment: ph.Equipment}
		}
	}
	return w
}

// Domain maps a patient block a tablet sent to the domain type.
func (p Patient) Domain() domain.Patient {
	sex := domain.Sex(p.Sex)
	for d, w := range sexCodes {
		if w == p.Sex {
			sex = d
		}
	}
	d := domain.Patient{
		ID: p.ID, InsuranceNumber: p.InsuranceNumber, Name: p.Name.domain(), BirthDate: p.BirthDate,
		Sex: sex, SexCode: p.SexCode, Race: p.Race, RaceCode: p.RaceCode, Language: p.Language,
		Address: domain.Address{Street: p.Address.Street, Other: p.Address.Other, City: p.Address.City, State: p.Address.State,
			PostalCode: p.Address.PostalCode, Country: p.Address.Country, Type: p.Address.Type},
		Email: p.Email, HeightCM: p.HeightCM, WeightKG: p.WeightKG,
	}
	if len(p.IDs) > 0 {
		d.IDs = make([]domain.Identifier, len(p.IDs))
		for i, id := range p.IDs {
			d.IDs[i] = domain.Identifier{Value: id.Value, Authority: id.Authority, Type: id.Type}
		}
	}
	if len(p.Phones) > 0 {
		d.Phones = make([]domain.Phone, len(p.Phones))
		for i, ph := range p.Phones {
			d.Phones[i] = domain.Phone{Number: ph.Number, Use: ph.Use, Equipment: ph.Equipment}
		}
	}
	return d
}

// ResultDoc is the result part of POST /results (device/schema/result.schema.json).
type ResultDoc struct {
	AppointmentID  string          `json:"appointmentId"`
	Measurement    string          `json:"measurement"`
	PerformedAt    string          `json:"performedAt"`
	Operator       string          `json:"operator"`
	Observations   []ObservationIn `json:"observations"`
	Interpretation string          `json:"interpretation"`
	Device         struct {
		Serial string `json:"serial"`
		Model  string `json:"model"`
	} `json:"device"`
	Patient *Patient `json:"patient"`
}

// ObservationIn is one observation as a tablet sends it: value, low and
// high may be numbers or strings.
type ObservationIn struct {
	Code  string   `json:"code"`
	Name  string   `json:"name"`
	Value quantity `json:"value"`
	Unit  string   `json:"unit"`
	Low   quantity `json:"low"`
	High  quantity `json:"high"`
	Flag  string   `json:"flag"`
}

// quantity accepts a JSON number or string and keeps it as text.
type quantity string

func (q *quantity) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*q = quantity(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*q = quantity(n.String())
	return nil
}

// ResultCreated is the answer of POST /results.
type ResultCreated struct {
	ResultID string `json:"resultId"`
}

// pairingRequest is the body of POST /pairings.
type pairingRequest struct {
	Code       string `json:"code"`
	Serial     string `json:"serial"`
	Name       string `json:"name"`
	Model      string `json:"model"`
	AppVersion string `json:"appVersion"`
}

// PairingResponse is the answer to a successful POST /pairings.
type PairingResponse struct {
	DeviceID string `json:"deviceId"`
	Token    string `json:"token"`
	Group    string `json:"group"`
	HubID    string `json:"hubId,omitempty"`
}

// HealthResponse is the answer of GET /health.
type HealthResponse struct {
	Status  string `json:"status"`
	HubID   string `json:"hubId"`
	Version string `json:"version"`
	Name    string `json:"name,omitempty"`
	TLS     bool   `json:"tls"`
}

// heartbeatRequest is the body of POST /heartbeat.
type heartbeatRequest struct {
	Battery    *int   `json:"battery"`
	AppVersion string `json:"appVersion"`
	IP         string `json:"ip"`
}

// HeartbeatResponse tells the tablet how the hub sees it.
type HeartbeatResponse struct {
	DeviceID   string    `json:"deviceId"`
	Name       string    `json:"name"`
	Group      string    `json:"group"`
	ServerTime time.Time `json:"serverTime"`
}
