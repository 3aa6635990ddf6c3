package integration

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/problem"
)

func (s *Server) handleHealth(*call) reply {
	return reply{status: http.StatusOK, body: map[string]string{"status": "ok"}}
}

// storeProblem is the answer when the hub cannot read or write its store:
// nothing was done, retry.
func (s *Server) storeProblem(err error) reply {
	s.log.WithError(err).Error("integration: store")
	s.rep.Failed(domain.SeverityError, "store-failed", nil, err)
	p := problem.New(http.StatusServiceUnavailable, "store-unavailable", "Hub storage unavailable",
		"the hub cannot store or read appointments just now; nothing was changed: retry later")
	p.RetryAfter = 5
	return problemReply(p)
}

// current returns the connection's newest order with the external ID (nil
// when there is none).
func (s *Server) current(ctx context.Context, id string) (*domain.Order, error) {
	o, err := s.opts.Store.OrderByPlacer(ctx, s.opts.Name, id)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &o, nil
}

func (s *Server) stateReply(ctx context.Context, status int, id string, warnings []string) reply {
	o, err := s.current(ctx, id)
	if err != nil {
		return s.storeProblem(err)
	}
	if o == nil {
		return s.notFound(id)
	}
	st, err := stateOf(ctx, s.opts.Store, s.opts.Name, *o)
	if err != nil {
		return s.storeProblem(err)
	}
	st.Warnings = warnings
	rep := reply{status: status, body: st, note: "order " + o.ID}
	if status == http.StatusCreated {
		rep.header = http.Header{"Location": {Prefix + "/appointments/" + url.PathEscape(id)}}
	}
	return rep
}

func (s *Server) notFound(id string) reply {
	return problemReply(problem.New(http.StatusNotFound, "appointment-unknown", "No such appointment",
		fmt.Sprintf("the hub has no appointment %q from this connection", cut(id, 60))).WithField("externalId"))
}

func (s *Server) handleGet(c *call) reply {
	if p := checkExternalID(c.target); p != nil {
		return problemReply(p)
	}
	return s.stateReply(c.r.Context(), http.StatusOK, c.target, nil)
}

// handlePut creates or updates an appointment. The answer comes only after
// the order is durably stored: 201 when it is new on the worklist, 200
// when an appointment on it was updated or the same content arrived again.
func (s *Server) handlePut(c *call) reply {
	ctx := c.r.Context()
	id := c.target
	if p := checkExternalID(id); p != nil {
		return problemReply(p)
	}
	body, p := s.readBody(c)
	if p != nil {
		return problemReply(p)
	}
	now := s.opts.Now()
	a, warnings, p := decodeAppointment(body, now)
	if p != nil {
		return problemReply(p)
	}
	meas, p := measurementOf(a.Measurement, s.opts.Mapping.MeasurementMap)
	if p != nil {
		return problemReply(p)
	}
	groups, err := s.opts.Store.Groups(ctx)
	if err != nil {
		return s.storeProblem(err)
	}
	group, p := groupOf(a.TabletGroup, s.opts.Mapping.GroupMap, groups)
	if p != nil {
		return problemReply(p)
	}
	o := a.order(s.opts.Name, id, meas, group, c.client, now.UTC())

	unlock := s.locks.lock(id)
	defer unlock()
	cur, err := s.current(ctx, id)
	if err != nil {
		return s.storeProblem(err)
	}
	same := cur != nil && cur.Meta[metaHash] == o.Meta[metaHash]
	switch {
	case cur == nil:
	case same && cur.State != domain.OrderCancelled:
		// The same content again (a retry): nothing to store.
		return s.stateReply(ctx, http.StatusOK, id, warnings)
	case cur.State == domain.OrderDone || cur.State == domain.OrderDeleted:
		what := "was measured and its result delivered"
		if cur.State == domain.OrderDeleted {
			what = "was deleted on the hub by its staff"
		}
		return problemReply(problem.New(http.StatusConflict, "appointment-closed", "Appointment closed",
			fmt.Sprintf("appointment %q %s; it cannot change any more: send a new appointment under a new ID", cut(id, 60), what)).WithField("externalId"))
	}
	acc, err := s.opts.Orders.AcceptOrder(ctx, o)
	if err != nil {
		if domain.Refused(err) {
			return problemReply(problem.New(http.StatusUnprocessableEntity, "appointment-refused", "Appointment refused", err.Error()))
		}
		return s.storeProblem(err)
	}
	status := http.StatusOK
	if cur == nil || !cur.State.OnWorklist() || acc.OrderID != cur.ID {
		status = http.StatusCreated
	}
	return s.stateReply(ctx, status, id, warnings)
}

// handleDelete cancels an appointment: it leaves the worklist.
func (s *Server) handleDelete(c *call) reply {
	ctx := c.r.Context()
	id := c.target
	if p := checkExternalID(id); p != nil {
		return problemReply(p)
	}
	unlock := s.locks.lock(id)
	defer unlock()
	cur, err := s.current(ctx, id)
	if err != nil {
		return s.storeProblem(err)
	}
	switch {
	case cur == nil:
		return s.notFound(id)
	case cur.State == domain.OrderDone:
		return problemReply(problem.New(http.StatusConflict, "appointment-closed", "Appointment closed",
			fmt.Sprintf("appointment %q was measured and its result delivered; it cannot be cancelled", cut(id, 60))).WithField("externalId"))
	case !cur.State.OnWorklist():
		// Cancelled already (a retried DELETE) or deleted by staff: it is off the worklist.
		return s.stateReply(ctx, http.StatusOK, id, nil)
	}
	_, err = s.opts.Orders.AcceptOrder(ctx, domain.Order{Connection: s.opts.Name, Action: domain.ActionCancel, PlacerNumber: id,
		ControlCode: "DELETE", Meta: map[string]string{MetaExternalID: id, metaClient: c.client}})
	if err != nil {
		if errors.Is(err, domain.ErrUnknownOrder) {
			return s.notFound(id)
		}
		return s.storeProblem(err)
	}
	return s.stateReply(ctx, http.StatusOK, id, nil)
}
