package hub

import (
	"context"
	"errors"
	"strings"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
)

// Results implements control.API: the newest results, each with its
// patient (from the appointment it answers, or its own for an unsolicited
// result), the tablet that measured it and its deliveries.
func (h *Hub) Results(ctx context.Context, q control.ResultQuery) ([]control.ResultSummary, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 200
	}
	limit = min(limit, 2000)
	rs, err := h.store.Results(ctx, limit)
	if err != nil {
		return nil, typed(err)
	}
	devs, err := h.store.Devices(ctx)
	if err != nil {
		return nil, typed(err)
	}
	names := make(map[string]string, len(devs))
	for _, d := range devs {
		names[d.ID] = d.Name
	}
	text := strings.ToLower(strings.TrimSpace(q.Text))
	out := make([]control.ResultSummary, 0, len(rs))
	for _, r := range rs {
		s := control.ResultSummary{ID: r.ID, OrderID: r.OrderID, Measurement: r.Measurement,
			PerformedAt: r.PerformedAt, ReceivedAt: r.ReceivedAt, DeviceID: r.DeviceID,
			DeviceName: names[r.DeviceID], HasReport: r.Report != nil}
		if s.DeviceName == "" {
			s.DeviceName = r.Device.Serial
		}
		p := r.Patient
		if p == nil && r.OrderID != "" {
			o, err := h.store.OrderSummary(ctx, r.OrderID) // the patient only
			switch {
			case err == nil:
				p = &o.Patient
			case !errors.Is(err, domain.ErrNotFound):
				return nil, typed(err)
			}
		}
		if p != nil {
			s.PatientName, s.PatientID = p.Name.Full(), p.ID
		}
		if text != "" && !matchesAny(text, s.PatientName, s.PatientID, s.Measurement, s.DeviceName, s.OrderID) {
			continue
		}
		s.Deliveries, err = h.store.Deliveries(ctx, store.DeliveryFilter{ResultID: r.ID})
		if err != nil {
			return nil, typed(err)
		}
		out = append(out, s)
	}
	return out, nil
}

func matchesAny(lower string, fields ...string) bool {
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), lower) {
			return true
		}
	}
	return false
}
