package integration

import (
	"context"
	"encoding/json"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
)

// AppointmentState is what PUT, GET and DELETE answer: the appointment as
// the hub holds it, its state on the worklist, and the results measured
// for it with the state of their delivery back to the EHR, so that the EHR
// can reconcile.
type AppointmentState struct {
	ExternalID string `json:"externalId"`
	// AppointmentID is the hub's own ID (appointment.id of the result JSON).
	AppointmentID string `json:"appointmentId"`
	// State is scheduled, in_progress, done, cancelled or deleted.
	State       string    `json:"state"`
	TabletGroup string    `json:"tabletGroup"`
	Measurement string    `json:"measurement"`
	StartedBy   string    `json:"startedBy,omitempty"`
	ReceivedAt  time.Time `json:"receivedAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	// Appointment is the body as accepted (trimmed, gender spelt out).
	Appointment json.RawMessage `json:"appointment,omitempty"`
	Results     []ResultState   `json:"results"`
	// Warnings name what the hub read leniently in this request.
	Warnings []string `json:"warnings,omitempty"`
}

// ResultState is one result of the appointment.
type ResultState struct {
	ResultID    string         `json:"resultId"`
	Measurement string         `json:"measurement"`
	PerformedAt time.Time      `json:"performedAt"`
	ReceivedAt  time.Time      `json:"receivedAt"`
	Delivery    *DeliveryState `json:"delivery,omitempty"`
}

// DeliveryState is where the result's delivery to the EHR is.
type DeliveryState struct {
	// State is queued, inflight, retrying, delivered, failed, ambiguous or cancelled.
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	UpdatedAt     time.Time  `json:"updatedAt"`
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`
	LastError     string     `json:"lastError,omitempty"`
}

// StateStore is what the state of an appointment is read from.
type StateStore interface {
	OrderByPlacer(ctx context.Context, conn, placer string) (domain.Order, error)
	ResultsOfOrder(ctx context.Context, orderID string) ([]domain.Result, error)
	Deliveries(ctx context.Context, f store.DeliveryFilter) ([]domain.Delivery, error)
	Groups(ctx context.Context) ([]domain.Group, error)
}

// stateOf reads the state of an order of connection conn.
func stateOf(ctx context.Context, st StateStore, conn string, o domain.Order) (AppointmentState, error) {
	s := AppointmentState{
		ExternalID: o.PlacerNumber, AppointmentID: o.ID, State: string(o.State), TabletGroup: o.Group,
		Measurement: o.Measurement, StartedBy: o.StartedBy, ReceivedAt: o.ReceivedAt, UpdatedAt: o.UpdatedAt,
		Results: []ResultState{},
	}
	if b := o.Meta[metaBody]; b != "" && json.Valid([]byte(b)) {
		s.Appointment = json.RawMessage(b)
	}
	results, err := st.ResultsOfOrder(ctx, o.ID)
	if err != nil {
		return s, err
	}
	for _, r := range results {
		rs := ResultState{ResultID: r.ID, Measurement: r.Measurement, PerformedAt: r.PerformedAt, ReceivedAt: r.ReceivedAt}
		ds, err := st.Deliveries(ctx, store.DeliveryFilter{ResultID: r.ID, Connection: conn, Limit: 1})
		if err != nil {
			return s, err
		}
		if len(ds) > 0 {
			d := ds[0]
			rs.Delivery = &DeliveryState{State: string(d.State), Attempts: d.Attempts, UpdatedAt: d.UpdatedAt, LastError: d.LastError}
			if !d.State.Final() && !d.NextAt.IsZero() {
				next := d.NextAt
				rs.Delivery.NextAttemptAt = &next
			}
		}
		s.Results = append(s.Results, rs)
	}
	return s, nil
}
