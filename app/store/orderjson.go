package store

import (
	"slices"
	"time"

	"github.com/mesi/mconnect/internal/jsonstr"
)

// appendOrderRow appends the JSON of r exactly as json.Marshal writes it,
// byte for byte (fields in declaration order, omitempty and omitzero as
// tagged, Meta's keys sorted, strings escaped as encoding/json escapes
// them), without reflection: an order is encoded on every write, and
// reflection was most of that cost (docs/BENCHMARKS.md, "Where the time
// goes"). TestOrderJSONMatchesEncodingJSON and FuzzOrderJSON hold it to
// json.Marshal.
func appendOrderRow(b []byte, r *orderRow) ([]byte, error) {
	w := jsonWriter{b: b}
	w.open()
	w.str("id", r.ID, false)
	w.str("connection", r.Connection, false)
	w.str("sourceMessageId", r.SourceMessageID, true)
	w.str("sourceControlId", r.SourceControlID, true)
	w.str("action", r.Action, true)
	w.str("state", r.State, false)
	w.str("placerNumber", r.PlacerNumber, true)
	w.str("fillerNumber", r.FillerNumber, true)
	w.str("groupNumber", r.GroupNumber, true)
	w.str("orderStatus", r.OrderStatus, true)
	w.str("responseFlag", r.ResponseFlag, true)
	w.str("controlCode", r.ControlCode, true)
	w.str("measurement", r.Measurement, true)
	w.str("serviceCode", r.ServiceCode, true)
	w.str("serviceText", r.ServiceText, true)
	w.str("priority", r.Priority, true)
	w.time("messageAt", r.MessageAt, true)
	w.time("requestedAt", r.RequestedAt, true)
	w.time("scheduledAt", r.ScheduledAt, true)
	w.time("observationAt", r.ObservationAt, true)
	w.time("transactionAt", r.TransactionAt, true)
	w.time("effectiveAt", r.EffectiveAt, true)
	if r.OrderingProvider != (providerRow{}) {
		w.key("orderingProvider")
		w.provider(&r.OrderingProvider)
	}
	w.str("technician", r.Technician, true)
	w.str("enteredBy", r.EnteredBy, true)
	w.str("callbackPhone", r.CallbackPhone, true)
	w.key("patient")
	w.patient(&r.Patient)
	w.key("visit")
	w.visit(&r.Visit)
	w.str("group", r.Group, false)
	if len(r.Fields) > 0 {
		w.key("fields")
		w.b = append(w.b, '[')
		for i := range r.Fields {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			f := &r.Fields[i]
			w.open()
			w.str("key", f.Key, false)
			w.str("label", f.Label, true)
			w.str("value", f.Value, false)
			w.str("text", f.Text, true)
			w.close()
		}
		w.b = append(w.b, ']')
	}
	if len(r.Meta) > 0 {
		w.key("meta")
		keys := make([]string, 0, len(r.Meta))
		for k := range r.Meta {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		w.open()
		for _, k := range keys {
			w.keyEscaped(k)
			w.b = jsonstr.Append(w.b, r.Meta[k])
		}
		w.close()
	}
	w.str("startedBy", r.StartedBy, true)
	w.time("receivedAt", r.ReceivedAt, false)
	w.time("updatedAt", r.UpdatedAt, false)
	w.close()
	return w.b, w.err
}

// jsonWriter appends one JSON document; first tracks, per open object,
// whether a member was written yet.
type jsonWriter struct {
	b     []byte
	err   error
	first []bool
}

func (w *jsonWriter) open() {
	w.b = append(w.b, '{')
	w.first = append(w.first, true)
}

func (w *jsonWriter) close() {
	w.b = append(w.b, '}')
	w.first = w.first[:len(w.first)-1]
}

func (w *jsonWriter) comma() {
	top := &w.first[len(w.first)-1]
	if !*top {
		w.b = append(w.b, ',')
	}
	*top = false
}

// key writes a member name that needs no escaping (the tags' names).
func (w *jsonWriter) key(k string) {
	w.comma()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

// keyEscaped writes a member name from data (Meta's keys).
func (w *jsonWriter) keyEscaped(k string) {
	w.comma()
	w.b = jsonstr.Append(w.b, k)
	w.b = append(w.b, ':')
}

func (w *jsonWriter) str(k, v string, omitEmpty bool) {
	if omitEmpty && v == "" {
		return
	}
	w.key(k)
	w.b = jsonstr.Append(w.b, v)
}

func (w *jsonWriter) time(k string, t time.Time, omitZero bool) {
	if omitZero && t.IsZero() {
		return
	}
	w.key(k)
	m, err := t.MarshalJSON()
	if err != nil {
		if w.err == nil {
			w.err = err
		}
		return
	}
	w.b = append(w.b, m...)
}

func (w *jsonWriter) provider(p *providerRow) {
	w.open()
	w.str("id", p.ID, true)
	w.key("name")
	w.name(&p.Name)
	w.close()
}

func (w *jsonWriter) name(n *personNameRow) {
	w.open()
	w.str("family", n.Family, true)
	w.str("given", n.Given, true)
	w.str("middle", n.Middle, true)
	w.str("suffix", n.Suffix, true)
	w.str("prefix", n.Prefix, true)
	w.str("degree", n.Degree, true)
	w.close()
}

func (w *jsonWriter) identifier(id *identifierRow) {
	w.open()
	w.str("value", id.Value, false)
	w.str("authority", id.Authority, true)
	w.str("type", id.Type, true)
	w.close()
}

func (w *jsonWriter) patient(p *patientRow) {
	w.open()
	w.str("id", p.ID, false)
	if len(p.IDs) > 0 {
		w.key("ids")
		w.b = append(w.b, '[')
		for i := range p.IDs {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.identifier(&p.IDs[i])
		}
		w.b = append(w.b, ']')
	}
	w.str("insuranceNumber", p.InsuranceNumber, true)
	w.key("name")
	w.name(&p.Name)
	w.str("birthDate", p.BirthDate, true)
	w.str("sex", p.Sex, true)
	w.str("sexCode", p.SexCode, true)
	w.str("race", p.Race, true)
	w.str("raceCode", p.RaceCode, true)
	w.str("language", p.Language, true)
	if p.Address != (addressRow{}) {
		a := &p.Address
		w.key("address")
		w.open()
		w.str("street", a.Street, true)
		w.str("other", a.Other, true)
		w.str("city", a.City, true)
		w.str("state", a.State, true)
		w.str("postalCode", a.PostalCode, true)
		w.str("country", a.Country, true)
		w.str("type", a.Type, true)
		w.close()
	}
	if len(p.Phones) > 0 {
		w.key("phones")
		w.b = append(w.b, '[')
		for i := range p.Phones {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			ph := &p.Phones[i]
			w.open()
			w.str("number", ph.Number, true)
			w.str("use", ph.Use, true)
			w.str("equipment", ph.Equipment, true)
			w.close()
		}
		w.b = append(w.b, ']')
	}
	w.str("email", p.Email, true)
	w.str("heightCm", p.HeightCM, true)
	w.str("weightKg", p.WeightKG, true)
	w.close()
}

func (w *jsonWriter) visit(v *visitRow) {
	w.open()
	w.str("class", v.Class, true)
	w.str("location", v.Location, true)
	w.str("admissionType", v.AdmissionType, true)
	if v.Attending != (providerRow{}) {
		w.key("attending")
		w.provider(&v.Attending)
	}
	w.str("service", v.Service, true)
	if v.Number != (identifierRow{}) {
		w.key("number")
		w.identifier(&v.Number)
	}
	w.time("admitAt", v.AdmitAt, true)
	w.time("dischargeAt", v.DischargeAt, true)
	if l := v.AssignedLocation; l != nil {
		w.key("assignedLocation")
		w.open()
		w.str("pointOfCare", l.PointOfCare, true)
		w.str("room", l.Room, true)
		w.str("bed", l.Bed, true)
		w.str("facility", l.Facility, true)
		w.str("building", l.Building, true)
		w.str("floor", l.Floor, true)
		w.str("description", l.Description, true)
		w.close()
	}
	w.close()
}
