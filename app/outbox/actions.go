package outbox

import (
	"context"
	"fmt"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/sirupsen/logrus"
)

// after a manual action on connection: wake its worker and refresh its health.
func (o *Outbox) touched(ctx context.Context, connection string) {
	if w := o.worker(connection); w != nil {
		w.notify()
		w.report(ctx)
	}
}

func (o *Outbox) touchedAll(ctx context.Context) {
	for _, c := range o.Connections() {
		o.touched(ctx, c)
	}
}

// Resend queues delivery id again, due at once: a failed, ambiguous,
// cancelled, retrying or even delivered one (the EHR lost it). A delivery
// in flight cannot be resent (store.ErrDeliveryBusy). actor and reason go
// to the audit log in the same transaction.
func (o *Outbox) Resend(ctx context.Context, id int64, actor, reason string) (domain.Delivery, error) {
	d, err := o.q.ResendDelivery(ctx, id, actor, reason)
	if err != nil {
		return d, fmt.Errorf("outbox: resend: %w", err)
	}
	o.log.WithFields(logrus.Fields{"delivery": id, "connection": d.Connection, "actor": actor, "reason": reason}).Info("delivery resent by a person")
	o.touched(ctx, d.Connection)
	return d, nil
}

// ResendFailed queues again every failed delivery of connection ("" for
// all connections), with an audit entry each, and returns how many.
func (o *Outbox) ResendFailed(ctx context.Context, connection, actor, reason string) (int, error) {
	return o.resendAll(ctx, connection, domain.DeliveryFailed, actor, reason)
}

// ResendAmbiguous queues again every ambiguous delivery of connection (""
// for all): a person decided the EHR should get them even at the risk of a
// duplicate.
func (o *Outbox) ResendAmbiguous(ctx context.Context, connection, actor, reason string) (int, error) {
	return o.resendAll(ctx, connection, domain.DeliveryAmbiguous, actor, reason)
}

func (o *Outbox) resendAll(ctx context.Context, connection string, state domain.DeliveryState, actor, reason string) (int, error) {
	n, err := o.q.ResendDeliveries(ctx, connection, []domain.DeliveryState{state}, actor, reason)
	if err != nil {
		return 0, fmt.Errorf("outbox: resend all %s: %w", state, err)
	}
	o.log.WithFields(logrus.Fields{"connection": connection, "state": state, "deliveries": n, "actor": actor, "reason": reason}).Info("deliveries resent by a person")
	if connection == "" {
		o.touchedAll(ctx)
	} else {
		o.touched(ctx, connection)
	}
	return n, nil
}

// Cancel stops delivery id for good; it needs a reason, and actor and
// reason go to the audit log in the same transaction. A delivery in flight
// cannot be cancelled (store.ErrDeliveryBusy); a delivered one has nothing
// to cancel (store.ErrDeliveryState). When the result's other deliveries
// are delivered, its order becomes done (and OnOrderDone is called).
func (o *Outbox) Cancel(ctx context.Context, id int64, actor, reason string) (domain.Delivery, error) {
	c, err := o.q.CancelDelivery(ctx, id, actor, reason)
	if err != nil {
		return domain.Delivery{}, fmt.Errorf("outbox: cancel: %w", err)
	}
	o.log.WithFields(logrus.Fields{"delivery": id, "connection": c.Delivery.Connection, "actor": actor, "reason": reason}).Info("delivery cancelled by a person")
	if c.OrderDone != nil && o.opts.OnOrderDone != nil {
		o.opts.OnOrderDone(*c.OrderDone)
	}
	o.touched(ctx, c.Delivery.Connection)
	return c.Delivery, nil
}

// Status reports every connection's queue (registered ones even when
// empty): depth per state, oldest undelivered, deliveries per minute over
// the last ten minutes, last error. It is read from the store each time.
func (o *Outbox) Status(ctx context.Context) ([]store.QueueStatus, error) {
	st, err := o.q.OutboxStatus(ctx, o.q.Now(), o.Connections()...)
	if err != nil {
		return nil, fmt.Errorf("outbox: status: %w", err)
	}
	return st, nil
}

// History returns one delivery and all its attempts, oldest first.
func (o *Outbox) History(ctx context.Context, id int64) (domain.Delivery, []domain.Attempt, error) {
	d, err := o.q.Delivery(ctx, id)
	if err != nil {
		return d, nil, fmt.Errorf("outbox: history: %w", err)
	}
	atts, err := o.q.Attempts(ctx, id)
	if err != nil {
		return d, nil, fmt.Errorf("outbox: history: %w", err)
	}
	return d, atts, nil
}

// Deliveries lists deliveries for the Dashboard, newest first: filter by
// result, connection and states, page with BeforeID, cap with Limit.
func (o *Outbox) Deliveries(ctx context.Context, f store.DeliveryFilter) ([]domain.Delivery, error) {
	ds, err := o.q.Deliveries(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("outbox: list deliveries: %w", err)
	}
	return ds, nil
}

// Health returns the last health reported for each registered connection.
func (o *Outbox) Health() []domain.Health {
	var out []domain.Health
	for _, c := range o.Connections() {
		w := o.worker(c)
		w.mu.Lock()
		h := w.reported
		w.mu.Unlock()
		if h.Code != "" {
			out = append(out, h)
		}
	}
	return out
}
