package store

import (
	"encoding/json"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// Orders and results are kept as JSON documents (the data columns of the
// orders and results tables), beside the columns the store queries by. The
// documents are written from the row types below, not from the domain
// types: their JSON names are the stored format, which databases in the
// field hold, so they must never change. A renamed domain field changes
// only the mapping functions here. New fields get new names; a name is
// never reused for another meaning. testdata/schema1.db holds rows written
// by the first schema, and TestRowsOfSchema1 reads them back.
//
// Struct and time fields have no omitempty: encoding/json writes them
// always, and so do stored rows ("0001-01-01T00:00:00Z" for a zero time).

type orderRow struct {
	ID               string            `json:"id"`
	Connection       string            `json:"connection"`
	SourceMessageID  string            `json:"sourceMessageId,omitempty"`
	SourceControlID  string            `json:"sourceControlId,omitempty"`
	Action           string            `json:"action,omitempty"`
	State            string            `json:"state"`
	PlacerNumber     string            `json:"placerNumber,omitempty"`
	FillerNumber     string            `json:"fillerNumber,omitempty"`
	GroupNumber      string            `json:"groupNumber,omitempty"`
	OrderStatus      string            `json:"orderStatus,omitempty"`
	ResponseFlag     string            `json:"responseFlag,omitempty"`
	ControlCode      string            `json:"controlCode,omitempty"`
	Measurement      string            `json:"measurement,omitempty"`
	ServiceCode      string            `json:"serviceCode,omitempty"`
	ServiceText      string            `json:"serviceText,omitempty"`
	Priority         string            `json:"priority,omitempty"`
	MessageAt        time.Time         `json:"messageAt,omitzero"`
	RequestedAt      time.Time         `json:"requestedAt,omitzero"`
	ScheduledAt      time.Time         `json:"scheduledAt,omitzero"`
	ObservationAt    time.Time         `json:"observationAt,omitzero"`
	TransactionAt    time.Time         `json:"transactionAt,omitzero"`
	EffectiveAt      time.Time         `json:"effectiveAt,omitzero"`
	OrderingProvider providerRow       `json:"orderingProvider,omitzero"`
	Technician       string            `json:"technician,omitempty"`
	EnteredBy        string            `json:"enteredBy,omitempty"`
	CallbackPhone    string            `json:"callbackPhone,omitempty"`
	Patient          patientRow        `json:"patient"`
	Visit            visitRow          `json:"visit"`
	Group            string            `json:"group"`
	Fields           []fieldRow        `json:"fields,omitempty"`
	Meta             map[string]string `json:"meta,omitempty"`
	StartedBy        string            `json:"startedBy,omitempty"`
	ReceivedAt       time.Time         `json:"receivedAt"`
	UpdatedAt        time.Time         `json:"updatedAt"`
}

type providerRow struct {
	ID   string        `json:"id,omitempty"`
	Name personNameRow `json:"name"`
}

type visitRow struct {
	Class         string        `json:"class,omitempty"`
	Location      string        `json:"location,omitempty"`
	AdmissionType string        `json:"admissionType,omitempty"`
	Attending     providerRow   `json:"attending,omitzero"`
	Service       string        `json:"service,omitempty"`
	Number        identifierRow `json:"number,omitzero"`
	AdmitAt       time.Time     `json:"admitAt,omitzero"`
	DischargeAt   time.Time     `json:"dischargeAt,omitzero"`
	// AssignedLocation is PV1-3 read into parts (added in schema 2's
	// rows; absent in older rows).
	AssignedLocation *locationRow `json:"assignedLocation,omitempty"`
}

type locationRow struct {
	PointOfCare string `json:"pointOfCare,omitempty"`
	Room        string `json:"room,omitempty"`
	Bed         string `json:"bed,omitempty"`
	Facility    string `json:"facility,omitempty"`
	Building    string `json:"building,omitempty"`
	Floor       string `json:"floor,omitempty"`
	Description string `json:"description,omitempty"`
}

func locationRowOf(l domain.Location) *locationRow {
	if l.IsZero() {
		return nil
	}
	return &locationRow{PointOfCare: l.PointOfCare, Room: l.Room, Bed: l.Bed, Facility: l.Facility,
		Building: l.Building, Floor: l.Floor, Description: l.Description}
}

func (r *locationRow) location() domain.Location {
	if r == nil {
		return domain.Location{}
	}
	return domain.Location{PointOfCare: r.PointOfCare, Room: r.Room, Bed: r.Bed, Facility: r.Facility,
		Building: r.Building, Floor: r.Floor, Description: r.Description}
}

type fieldRow struct {
	Key   string `json:"key"`
	Label string `json:"label,omitempty"`
	Value string `json:"value"`
	Text  string `json:"text,omitempty"`
}

type identifierRow struct {
	Value     string `json:"value"`
	Authority string `json:"authority,omitempty"`
	Type      string `json:"type,omitempty"`
}

type personNameRow struct {
	Family string `json:"family,omitempty"`
	Given  string `json:"given,omitempty"`
	Middle string `json:"middle,omitempty"`
	Suffix string `json:"suffix,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	Degree string `json:"degree,omitempty"`
}

type addressRow struct {
	Street     string `json:"street,omitempty"`
	Other      string `json:"other,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Country    string `json:"country,omitempty"`
	Type       string `json:"type,omitempty"`
}

type phoneRow struct {
	Number    string `json:"number,omitzero"`
	Use       string `json:"use,omitempty"`
	Equipment string `json:"equipment,omitempty"`
}

type patientRow struct {
	ID              string          `json:"id"`
	IDs             []identifierRow `json:"ids,omitempty"`
	InsuranceNumber string          `json:"insuranceNumber,omitempty"`
	Name            personNameRow   `json:"name"`
	BirthDate       string          `json:"birthDate,omitempty"`
	Sex             string          `json:"sex,omitempty"`
	SexCode         string          `json:"sexCode,omitempty"`
	Race            string          `json:"race,omitempty"`
	RaceCode        string          `json:"raceCode,omitempty"`
	Language        string          `json:"language,omitempty"`
	Address         addressRow      `json:"address,omitzero"`
	Phones          []phoneRow      `json:"phones,omitempty"`
	Email           string          `json:"email,omitempty"`
	HeightCM        string          `json:"heightCm,omitempty"`
	WeightKG        string          `json:"weightKg,omitempty"`
}

type resultRow struct {
	ID             string           `json:"id"`
	OrderID        string           `json:"orderId,omitempty"`
	DeviceID       string           `json:"deviceId,omitempty"`
	IdempotencyKey string           `json:"idempotencyKey,omitempty"`
	Measurement    string           `json:"measurement"`
	PerformedAt    time.Time        `json:"performedAt"`
	Operator       string           `json:"operator,omitempty"`
	Observations   []observationRow `json:"observations"`
	Interpretation string           `json:"interpretation,omitempty"`
	Device         deviceInfoRow    `json:"device"`
	Patient        *patientRow      `json:"patient,omitempty"`
	Report         *attachmentRow   `json:"report,omitempty"`
	ReceivedAt     time.Time        `json:"receivedAt"`
}

type observationRow struct {
	Code  string `json:"code"`
	Name  string `json:"name,omitempty"`
	Value string `json:"value"`
	Unit  string `json:"unit,omitempty"`
	Low   string `json:"low,omitempty"`
	High  string `json:"high,omitempty"`
	Flag  string `json:"flag,omitempty"`
}

type deviceInfoRow struct {
	Serial string `json:"serial,omitempty"`
	Model  string `json:"model,omitempty"`
}

type attachmentRow struct {
	Path        string `json:"path"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

func encodeOrder(o *domain.Order) ([]byte, error) {
	n := 1024 // what an order without source fields takes, about
	for _, f := range o.Fields {
		n += len(f.Key) + len(f.Label) + len(f.Value) + len(f.Text) + 40
	}
	r := orderRowOf(o)
	return appendOrderRow(make([]byte, 0, n), &r)
}

func decodeOrder(data string) (*domain.Order, error) {
	var r orderRow
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		return nil, err
	}
	o := r.order()
	return &o, nil
}

func encodeResult(r *domain.Result) ([]byte, error) { return json.Marshal(resultRowOf(r)) }

func decodeResult(data string) (domain.Result, error) {
	var r resultRow
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		return domain.Result{}, err
	}
	return r.result(), nil
}

func orderRowOf(o *domain.Order) orderRow {
	r := orderRow{
		ID: o.ID, Connection: o.Connection, SourceMessageID: o.SourceMessageID, SourceControlID: o.SourceControlID, Action: string(o.Action), State: string(o.State),
		PlacerNumber: o.PlacerNumber, FillerNumber: o.FillerNumber, GroupNumber: o.GroupNumber, OrderStatus: o.OrderStatus,
		ResponseFlag: o.ResponseFlag, ControlCode: o.ControlCode,
		Measurement: o.Measurement, ServiceCode: o.ServiceCode, ServiceText: o.ServiceText, Priority: o.Priority,
		MessageAt: o.MessageAt, RequestedAt: o.RequestedAt, ScheduledAt: o.ScheduledAt, ObservationAt: o.ObservationAt,
		TransactionAt: o.TransactionAt, EffectiveAt: o.EffectiveAt,
		OrderingProvider: providerRowOf(o.OrderingProvider), Technician: o.Technician, EnteredBy: o.EnteredBy, CallbackPhone: o.CallbackPhone,
		Patient: patientRowOf(o.Patient),
		Visit: visitRow{Class: o.Visit.Class, Location: o.Visit.Location, AdmissionType: o.Visit.AdmissionType,
			Attending: providerRowOf(o.Visit.Attending), Service: o.Visit.Service, Number: identifierRowOf(o.Visit.Number),
			AdmitAt: o.Visit.AdmitAt, DischargeAt: o.Visit.DischargeAt, AssignedLocation: locationRowOf(o.Visit.AssignedLocation)},
		Group: o.Group, StartedBy: o.StartedBy, ReceivedAt: o.ReceivedAt, UpdatedAt: o.UpdatedAt,
	}
	if len(o.Fields) > 0 {
		r.Fields = make([]fieldRow, len(o.Fields))
		for i, f := range o.Fields {
			label := f.Label
			if label != "" && label == domain.FieldLabel(f.Key) {
				label = "" // put back when read (domain.RegisterFieldLabels)
			}
			r.Fields[i] = fieldRow{Key: f.Key, Label: label, Value: f.Value, Text: f.Text}
		}
	}
	if len(o.Meta) > 0 {
		r.Meta = make(map[string]string, len(o.Meta))
		for k, v := range o.Meta {
			r.Meta[k] = v
		}
	}
	return r
}

func (r orderRow) order() domain.Order {
	o := domain.Order{
		ID: r.ID, Connection: r.Connection, SourceMessageID: r.SourceMessageID, SourceControlID: r.SourceControlID, Action: domain.OrderAction(r.Action), State: domain.OrderState(r.State),
		PlacerNumber: r.PlacerNumber, FillerNumber: r.FillerNumber, GroupNumber: r.GroupNumber, OrderStatus: r.OrderStatus,
		ResponseFlag: r.ResponseFlag, ControlCode: r.ControlCode,
		Measurement: r.Measurement, ServiceCode: r.ServiceCode, ServiceText: r.ServiceText, Priority: r.Priority,
		MessageAt: r.MessageAt, RequestedAt: r.RequestedAt, ScheduledAt: r.ScheduledAt, ObservationAt: r.ObservationAt,
		TransactionAt: r.TransactionAt, EffectiveAt: r.EffectiveAt,
		OrderingProvider: r.OrderingProvider.provider(), Technician: r.Technician, EnteredBy: r.EnteredBy, CallbackPhone: r.CallbackPhone,
		Patient: r.Patient.patient(),
		Visit: domain.Visit{Class: r.Visit.Class, Location: r.Visit.Location, AdmissionType: r.Visit.AdmissionType,
			Attending: r.Visit.Attending.provider(), Service: r.Visit.Service, Number: r.Visit.Number.identifier(),
			AdmitAt: r.Visit.AdmitAt, DischargeAt: r.Visit.DischargeAt, AssignedLocation: r.Visit.AssignedLocation.location()},
		Group: r.Group, Meta: r.Meta, StartedBy: r.StartedBy, ReceivedAt: r.ReceivedAt, UpdatedAt: r.UpdatedAt,
	}
	if len(r.Fields) > 0 {
		o.Fields = make([]domain.Field, len(r.Fields))
		for i, f := range r.Fields {
			label := f.Label
			if label == "" {
				label = domain.FieldLabel(f.Key)
			}
			o.Fields[i] = domain.Field{Key: f.Key, Label: label, Value: f.Value, Text: f.Text}
		}
	}
	return o
}

func providerRowOf(p domain.Provider) providerRow {
	return providerRow{ID: p.ID, Name: nameRowOf(p.Name)}
}

func (r providerRow) provider() domain.Provider {
	return domain.Provider{ID: r.ID, Name: r.Name.name()}
}

func patientRowOf(p domain.Patient) patientRow {
	r := patientRow{
		ID: p.ID, InsuranceNumber: p.InsuranceNumber, Name: nameRowOf(p.Name), BirthDate: p.BirthDate,
		Sex: string(p.Sex), SexCode: p.SexCode, Race: p.Race, RaceCode: p.RaceCode, Language: p.Language,
		Address: addressRowOf(p.Address), Email: p.Email, HeightCM: p.HeightCM, WeightKG: p.WeightKG,
	}
	if len(p.IDs) > 0 {
		r.IDs = make([]identifierRow, len(p.IDs))
		for i, id := range p.IDs {
			r.IDs[i] = identifierRowOf(id)
		}
	}
	if len(p.Phones) > 0 {
		r.Phones = make([]phoneRow, len(p.Phones))
		for i, ph := range p.Phones {
			r.Phones[i] = phoneRow{Number: ph.Number, Use: ph.Use, Equipment: ph.Equipment}
		}
	}
	return r
}

func (r patientRow) patient() domain.Patient {
	p := domain.Patient{
		ID: r.ID, InsuranceNumber: r.InsuranceNumber, Name: r.Name.name(), BirthDate: r.BirthDate,
		Sex: domain.Sex(r.Sex), SexCode: r.SexCode, Race: r.Race, RaceCode: r.RaceCode, Language: r.Language,
		Address: r.Address.address(), Email: r.Email, HeightCM: r.HeightCM, WeightKG: r.WeightKG,
	}
	if len(r.IDs) > 0 {
		p.IDs = make([]domain.Identifier, len(r.IDs))
		for i, id := range r.IDs {
			p.IDs[i] = id.identifier()
		}
	}
	if len(r.Phones) > 0 {
		p.Phones = make([]domain.Phone, len(r.Phones))
		for i, ph := range r.Phones {
			p.Phones[i] = domain.Phone{Number: ph.Number, Use: ph.Use, Equipment: ph.Equipment}
		}
	}
	return p
}

func resultRowOf(r *domain.Result) resultRow {
	row := resultRow{
		ID: r.ID, OrderID: r.OrderID, DeviceID: r.DeviceID, IdempotencyKey: r.IdempotencyKey, Measurement: r.Measurement,
		PerformedAt: r.PerformedAt, Operator: r.Operator, Interpretation: r.Interpretation,
		Device: deviceInfoRow{Serial: r.Device.Serial, Model: r.Device.Model}, ReceivedAt: r.ReceivedAt,
	}
	if r.Observations != nil {
		row.Observations = make([]observationRow, len(r.Observations))
		for i, o := range r.Observations {
			row.Observations[i] = observationRow{Code: o.Code, Name: o.Name, Value: o.Value, Unit: o.Unit, Low: o.Low, High: o.High, Flag: o.Flag}
		}
	}
	if r.Patient != nil {
		p := patientRowOf(*r.Patient)
		row.Patient = &p
	}
	if r.Report != nil {
		a := attachmentRow{Path: r.Report.Path, ContentType: r.Report.ContentType, Size: r.Report.Size, SHA256: r.Report.SHA256}
		row.Report = &a
	}
	return row
}

func (row resultRow) result() domain.Result {
	r := domain.Result{
		ID: row.ID, OrderID: row.OrderID, DeviceID: row.DeviceID, IdempotencyKey: row.IdempotencyKey, Measurement: row.Measurement,
		PerformedAt: row.PerformedAt, Operator: row.Operator, Interpretation: row.Interpretation,
		Device: domain.DeviceInfo{Serial: row.Device.Serial, Model: row.Device.Model}, ReceivedAt: row.ReceivedAt,
	}
	if row.Observations != nil {
		r.Observations = make([]domain.Observation, len(row.Observations))
		for i, o := range row.Observations {
			r.Observations[i] = domain.Observation{Code: o.Code, Name: o.Name, Value: o.Value, Unit: o.Unit, Low: o.Low, High: o.High, Flag: o.Flag}
		}
	}
	if row.Patient != nil {
		p := row.Patient.patient()
		r.Patient = &p
	}
	if row.Report != nil {
		a := domain.Attachment{Path: row.Report.Path, ContentType: row.Report.ContentType, Size: row.Report.Size, SHA256: row.Report.SHA256}
		r.Report = &a
	}
	return r
}

func nameRowOf(n domain.PersonName) personNameRow {
	return personNameRow{Family: n.Family, Given: n.Given, Middle: n.Middle, Suffix: n.Suffix, Prefix: n.Prefix, Degree: n.Degree}
}

func (r personNameRow) name() domain.PersonName {
	return domain.PersonName{Family: r.Family, Given: r.Given, Middle: r.Middle, Suffix: r.Suffix, Prefix: r.Prefix, Degree: r.Degree}
}

func identifierRowOf(id domain.Identifier) identifierRow {
	return identifierRow{Value: id.Value, Authority: id.Authority, Type: id.Type}
}

func (r identifierRow) identifier() domain.Identifier {
	return domain.Identifier{Value: r.Value, Authority: r.Authority, Type: r.Type}
}

func addressRowOf(a domain.Address) addressRow {
	return addressRow{Street: a.Street, Other: a.Other, City: a.City, State: a.State, PostalCode: a.PostalCode, Country: a.Country, Type: a.Type}
}

func (r addressRow) address() domain.Address {
	return domain.Address{Street: r.Street, Other: r.Other, City: r.City, State: r.State, PostalCode: r.PostalCode, Country: r.Country, Type: r.Type}
}
