package device

import (
	"time"
	"unicode/utf8"

	"github.com/mesi/mconnect/app/domain"
)

// Limits of GET /worklist (docs/lan-api.yaml): the worklist carries what a
// tablet shows in its list, the details come from GET /appointments/{id}.
const (
	// MaxSummaryText bounds each text of an appointment summary, in
	// characters; a longer one is cut and ends with "…".
	MaxSummaryText = 200
	// DefaultMaxWorklist is how many appointments a worklist holds unless
	// Options.MaxWorklist says otherwise: the oldest first, the rest
	// counted in Worklist.Omitted.
	DefaultMaxWorklist = 500
)

// AppointmentSummary is an appointment as the worklist lists it: who,
// what, when and its state. Texts are at most MaxSummaryText characters;
// Truncated says one was cut. GET /appointments/{id} has every field.
type AppointmentSummary struct {
	ID               string           `json:"id"`
	State            AppointmentState `json:"state"`
	Group            string           `json:"group"`
	Source           string           `json:"source,omitempty"`
	Measurement      string           `json:"measurement,omitempty"`
	ServiceCode      string           `json:"serviceCode,omitempty"`
	ServiceText      string           `json:"serviceText,omitempty"`
	Priority         string           `json:"priority,omitempty"`
	PlacerNumber     string           `json:"placerNumber,omitempty"`
	ScheduledAt      time.Time        `json:"scheduledAt,omitzero"`
	RequestedAt      time.Time        `json:"requestedAt,omitzero"`
	OrderingProvider *Provider        `json:"orderingProvider,omitempty"`
	Patient          PatientSummary   `json:"patient"`
	Location         string           `json:"location,omitempty"`
	StartedBy        string           `json:"startedBy,omitempty"`
	ReceivedAt       time.Time        `json:"receivedAt"`
	UpdatedAt        time.Time        `json:"updatedAt"`
	Truncated        bool             `json:"truncated,omitempty"`
}

// PatientSummary is the patient of an appointment summary.
type PatientSummary struct {
	ID        string     `json:"id"`
	Name      PersonName `json:"name"`
	BirthDate string     `json:"birthDate,omitempty"`
	Sex       string     `json:"sex,omitempty"`
}

// SummaryOf maps a stored order to its worklist entry.
func SummaryOf(o domain.Order) AppointmentSummary {
	a := AppointmentOf(o)
	c := capper{}
	s := AppointmentSummary{
		ID: a.ID, State: a.State, Group: a.Group, Source: c.cut(a.Source), Measurement: c.cut(a.Measurement),
		ServiceCode: c.cut(a.ServiceCode), ServiceText: c.cut(a.ServiceText), Priority: c.cut(a.Priority),
		PlacerNumber: c.cut(a.PlacerNumber), ScheduledAt: a.ScheduledAt, RequestedAt: a.RequestedAt,
		Patient:   PatientSummary{ID: c.cut(a.Patient.ID), Name: c.name(a.Patient.Name), BirthDate: c.cut(a.Patient.BirthDate), Sex: a.Patient.Sex},
		StartedBy: a.StartedBy, ReceivedAt: a.ReceivedAt, UpdatedAt: a.UpdatedAt,
	}
	if p := a.OrderingProvider; p != (Provider{}) {
		s.OrderingProvider = &Provider{ID: c.cut(p.ID), Name: c.name(p.Name)}
	}
	if l := a.Visit.AssignedLocation; l != nil {
		s.Location = c.cut(l.Text)
	} else {
		s.Location = c.cut(a.Visit.Location)
	}
	s.Truncated = c.cutSome
	return s
}

// capper cuts texts to MaxSummaryText characters and remembers whether it
// cut any.
type capper struct{ cutSome bool }

func (c *capper) cut(s string) string {
	if utf8.RuneCountInString(s) <= MaxSummaryText {
		return s
	}
	c.cutSome = true
	n := 0
	for i := range s {
		if n == MaxSummaryText-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

func (c *capper) name(n PersonName) PersonName {
	return PersonName{Family: c.cut(n.Family), Given: c.cut(n.Given), Middle: c.cut(n.Middle),
		Suffix: c.cut(n.Suffix), Prefix: c.cut(n.Prefix), Degree: c.cut(n.Degree)}
}
