package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// NewID returns an opaque ID with the given prefix ("ord", "res" ...): 48
// bits of the time in milliseconds, then 48 random bits, in hex. IDs made
// one after another sort near each other, so an index on them grows at its
// end instead of changing a page picked at random for every new row (a
// page written to the journal at every commit).
func NewID(prefix string) string {
	var b [12]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := rand.Read(b[6:]); err != nil {
		panic("store: no randomness: " + err.Error())
	}
	return prefix + "_" + hex.EncodeToString(b[:])
}

// ApplyOrder stores an incoming order message durably and returns what
// became of it. In one transaction it:
//   - recognises a source message seen before (connection + SourceMessageID)
//     and returns the first answer with Duplicate set, storing nothing;
//   - sets ControlIDReused when SourceControlID came before with other
//     content (another key "<control ID>@<hash>"), and stores the order;
//   - for ActionNew inserts the order, or updates it when the connection's
//     order with the same placer number is still on a worklist;
//   - for ActionUpdate updates that order (or inserts it when the hub never saw it);
//   - for ActionCancel takes it off the worklist (ErrUnknownOrder if there is none).
//
// An empty or unknown Group puts the order in the default group.
func (s *Store) ApplyOrder(ctx context.Context, o domain.Order) (domain.Accepted, error) {
	var acc domain.Accepted
	if o.Connection == "" {
		return acc, fmt.Errorf("store: order without connection: %w", domain.ErrInvalidOrder)
	}
	if o.Action == "" {
		o.Action = domain.ActionNew
	}
	if o.Action != domain.ActionCancel && strings.TrimSpace(o.Patient.ID) == "" {
		return acc, fmt.Errorf("store: order %q from %s has no patient ID: %w", o.PlacerNumber, o.Connection, domain.ErrInvalidOrder)
	}
	return s.commits.apply(ctx, o)
}

// preparedOrder is what can be done for a new order before it reaches the
// store's one writer, on the sender's own goroutine: its ID and its stored
// form, encoded for the group it is most likely in.
type preparedOrder struct {
	id    string
	group string
	at    time.Time
	data  []byte
}

// prepareOrder prepares o as a new order (nil when it cannot be: a
// cancellation, or the groups not loaded yet). The writer uses it only if
// o is new and its group is the one guessed.
func (s *Store) prepareOrder(o domain.Order) *preparedOrder {
	if o.Action == domain.ActionCancel {
		return nil
	}
	grp, ok := s.groups.guess(o.Group)
	if !ok {
		return nil
	}
	now := s.now().UTC()
	o.ID, o.Group, o.State, o.ReceivedAt, o.UpdatedAt = NewID("ord"), grp, domain.OrderScheduled, now, now
	data, err := encodeOrder(&o)
	if err != nil {
		return nil // the writer encodes it again and reports the error
	}
	return &preparedOrder{id: o.ID, group: grp, at: now, data: data}
}

// applyOrderTx is ApplyOrder's work inside a transaction t.
// pre, when not nil, is the order prepared before the transaction
// (prepareOrder); it is used when the order turns out new and in the group
// it was prepared for.
//
// keys, when not nil, holds the order's de-duplication key for its
// transaction to write at its end (the committer's batchKeys), and is
// searched along with the stored keys.
func (s *Store) applyOrderTx(ctx context.Context, t execer, o domain.Order, now time.Time, pre *preparedOrder, keys *batchKeys) (acc domain.Accepted, err error) {
	err = func() error {
		var existing *domain.Order
		placerRead := false
		if o.SourceMessageID != "" {
			id, reused, open, both, err := lookupSourceAndPlacer(ctx, t, o)
			if err == nil && !both {
				id, reused, err = lookupSource(ctx, t, o)
			}
			if err != nil {
				return err
			}
			if keys != nil && id == "" {
				// A key of an order before it in this transaction.
				pid, preused := keys.pending(o)
				id, reused = pid, reused || preused
			}
			existing, placerRead = open, both
			if id != "" {
				acc = domain.Accepted{OrderID: id, Duplicate: true}
				_ = t.QueryRowContext(ctx, `SELECT state FROM orders WHERE id=?`, id).Scan(&acc.State)
				return nil
			}
			acc.ControlIDReused = reused
		}
		grp, err := s.groups.resolve(ctx, t, o.Group)
		if err != nil {
			return err
		}
		o.Group = grp
		if !placerRead {
			if existing, err = findOpenByPlacer(ctx, t, o.Connection, o.PlacerNumber); err != nil {
				return err
			}
		}
		switch o.Action {
		case domain.ActionCancel:
			if existing == nil {
				return fmt.Errorf("store: cancel of order %q from %s: %w", o.PlacerNumber, o.Connection, domain.ErrUnknownOrder)
			}
			existing.State = domain.OrderCancelled
			existing.UpdatedAt = now
			existing.ControlCode = o.ControlCode
			if err := putOrder(ctx, t, existing, false); err != nil {
				return err
			}
			acc = domain.Accepted{OrderID: existing.ID, State: existing.State, Groups: []string{existing.Group}, ControlIDReused: acc.ControlIDReused}
		default:
			if existing != nil && existing.State == domain.OrderCancelled {
				existing = nil // an order placed again after its cancellation is a new appointment
			}
			acc.Groups = []string{o.Group}
			if existing != nil {
				if existing.Group != o.Group {
					acc.Groups = append(acc.Groups, existing.Group)
				}
				o.ID = existing.ID
				o.State = existing.State
				o.StartedBy = existing.StartedBy
				o.ReceivedAt = existing.ReceivedAt
				o.UpdatedAt = now
				if err := putOrder(ctx, t, &o, false); err != nil {
					return err
				}
			} else if pre != nil && pre.group == o.Group {
				o.ID, o.State, o.ReceivedAt, o.UpdatedAt = pre.id, domain.OrderScheduled, pre.at, pre.at
				if err := writeOrder(ctx, t, &o, true, pre.data); err != nil {
					return err
				}
			} else {
				o.ID = NewID("ord")
				o.State = domain.OrderScheduled
				o.ReceivedAt = now
				o.UpdatedAt = now
				if err := putOrder(ctx, t, &o, true); err != nil {
					return err
				}
			}
			acc.OrderID, acc.State = o.ID, o.State
		}
		if o.SourceMessageID != "" {
			if keys != nil {
				keys.add(keyRow{conn: o.Connection, msgID: o.SourceMessageID, orderID: acc.OrderID, action: string(o.Action), at: ts(now)})
			} else if _, err := t.ExecContext(ctx, `INSERT INTO inbound_messages(connection, message_id, order_id, action, received_at) VALUES (?,?,?,?,?)`,
				o.Connection, o.SourceMessageID, acc.OrderID, string(o.Action), ts(now)); err != nil {
				return fmt.Errorf("record message: %w", err)
			}
		}
		return nil
	}()
	if err != nil {
		if errors.Is(err, domain.ErrUnknownOrder) || errors.Is(err, domain.ErrInvalidOrder) {
			return acc, err
		}
		return acc, fmt.Errorf("store: apply order from %s: %w", o.Connection, err)
	}
	return acc, nil
}

// openByPlacer reads the order a connection's placer number stands for:
// the open one, else the cancelled one, newest first. Its parameters are
// the connection (?1) and the placer number (?2; ?4 in
// lookupSourceAndPlacer's statement, which holds it).
func openByPlacer(placerParam int) string {
	return `SELECT data FROM orders WHERE connection=?1 AND placer_number=?` + strconv.Itoa(placerParam) + ` AND state IN ('scheduled','in_progress','cancelled')
		ORDER BY CASE state WHEN 'cancelled' THEN 1 ELSE 0 END, received_at DESC LIMIT 1`
}

var openByPlacerQuery = openByPlacer(2)

func findOpenByPlacer(ctx context.Context, t execer, conn, placer string) (*domain.Order, error) {
	if placer == "" {
		return nil, nil
	}
	var data string
	err := t.QueryRowContext(ctx, openByPlacerQuery, conn, placer).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up order by placer number: %w", err)
	}
	o, err := decodeOrder(data)
	if err != nil {
		return nil, fmt.Errorf("decode stored order: %w", err)
	}
	return o, nil
}

func putOrder(ctx context.Context, t execer, o *domain.Order, insert bool) error {
	data, err := encodeOrder(o)
	if err != nil {
		return fmt.Errorf("encode order: %w", err)
	}
	return writeOrder(ctx, t, o, insert, data)
}

// writeOrder inserts or updates o's row with data, its encoding.
func writeOrder(ctx context.Context, t execer, o *domain.Order, insert bool, data []byte) (err error) {
	if insert {
		_, err = t.ExecContext(ctx, `INSERT INTO orders(id, connection, placer_number, state, grp, patient_id, measurement, received_at, updated_at, data)
			VALUES (?,?,?,?,?,?,?,?,?,?)`, o.ID, o.Connection, o.PlacerNumber, string(o.State), o.Group, o.Patient.ID, o.Measurement,
			ts(o.ReceivedAt), ts(o.UpdatedAt), string(data))
	} else {
		_, err = t.ExecContext(ctx, `UPDATE orders SET placer_number=?, state=?, grp=?, patient_id=?, measurement=?, updated_at=?, data=? WHERE id=?`,
			o.PlacerNumber, string(o.State), o.Group, o.Patient.ID, o.Measurement, ts(o.UpdatedAt), string(data), o.ID)
	}
	if err != nil {
		return fmt.Errorf("write order %s: %w", o.ID, err)
	}
	return nil
}

func getOrder(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) (*domain.Order, error) {
	var data string
	err := q.QueryRowContext(ctx, `SELECT data FROM orders WHERE id=?`, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: order %s: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: read order %s: %w", id, err)
	}
	o, err := decodeOrder(data)
	if err != nil {
		return nil, fmt.Errorf("store: decode order %s: %w", id, err)
	}
	return o, nil
}

// OrderSummary returns one order by ID without its source fields and
// connection data (as OrderFilter.Summary), for lists that name its
// patient.
func (s *Store) OrderSummary(ctx context.Context, id string) (domain.Order, error) {
	var data string
	err := s.db.QueryRowContext(ctx, `SELECT json_remove(data,'$.fields','$.meta') FROM orders WHERE id=?`, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Order{}, fmt.Errorf("store: order %s: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return domain.Order{}, fmt.Errorf("store: read order %s: %w", id, err)
	}
	o, err := decodeOrder(data)
	if err != nil {
		return domain.Order{}, fmt.Errorf("store: decode order %s: %w", id, err)
	}
	return *o, nil
}

// Order returns one order by ID.
func (s *Store) Order(ctx context.Context, id string) (domain.Order, error) {
	o, err := getOrder(ctx, s.db, id)
	if err != nil {
		return domain.Order{}, err
	}
	return *o, nil
}

// Worklist returns the orders on a group's worklist, oldest first, as
// summaries (without Fields and Meta, as OrderFilter.Summary): what a
// tablet's list shows; Order has the rest.
func (s *Store) Worklist(ctx context.Context, group string) ([]domain.Order, error) {
	return s.queryOrders(ctx, `SELECT json_remove(data,'$.fields','$.meta') FROM orders
		WHERE grp=? AND state IN ('scheduled','in_progress') ORDER BY received_at, id`, group)
}

// OrderFilter selects orders for the Dashboard. Empty fields match all.
type OrderFilter struct {
	States []domain.OrderState
	Group  string
	// Search matches patient ID, placer number, measurement, names and other text.
	Search string
	Limit  int
	// Summary leaves out the orders' source fields and connection data
	// (Fields, Meta: most of a stored order, about 14 KB of a Birpis one),
	// which a list of orders does not show; SQLite drops them before the
	// rows are decoded.
	Summary bool
}

// Orders lists orders matching f, newest first.
func (s *Store) Orders(ctx context.Context, f OrderFilter) ([]domain.Order, error) {
	where, args := f.where()
	col := "data"
	if f.Summary {
		col = "json_remove(data,'$.fields','$.meta')"
	}
	q := "SELECT " + col + " FROM orders"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY received_at DESC, id DESC"
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	q += fmt.Sprintf(" LIMIT %d", limit)
	return s.queryOrders(ctx, q, args...)
}

// CountOrders counts the orders matching f (its Limit and Summary aside)
// by group.
func (s *Store) CountOrders(ctx context.Context, f OrderFilter) (map[string]int, error) {
	where, args := f.where()
	q := "SELECT grp, count(*) FROM orders"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " GROUP BY grp"
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: count orders: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var grp string
		var n int
		if err := rows.Scan(&grp, &n); err != nil {
			return nil, fmt.Errorf("store: count orders: %w", err)
		}
		out[grp] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: count orders: %w", err)
	}
	return out, nil
}

// where is the filter's SQL condition and its arguments.
func (f OrderFilter) where() ([]string, []any) {
	var where []string
	var args []any
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, st := range f.States {
			ph[i] = "?"
			args = append(args, string(st))
		}
		where = append(where, "state IN ("+strings.Join(ph, ",")+")")
	}
	if f.Group != "" {
		where = append(where, "grp=?")
		args = append(args, f.Group)
	}
	if f.Search != "" {
		where = append(where, "data LIKE ? ESCAPE '\\'")
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.Search)
		args = append(args, "%"+esc+"%")
	}
	return where, args
}

func (s *Store) queryOrders(ctx context.Context, q string, args ...any) ([]domain.Order, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list orders: %w", err)
	}
	defer rows.Close()
	var out []domain.Order
	// One buffer and one row for every order: a list of 10,000 leaves
	// only the orders themselves behind.
	var data sql.RawBytes
	var r orderRow
	for rows.Next() {
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("store: list orders: %w", err)
		}
		r = orderRow{}
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("store: decode order: %w", err)
		}
		out = append(out, r.order())
	}
	return out, rows.Err()
}

// SetOrderState moves an order to state. For deleted, actor and reason are
// written to the audit log in the same transaction. It returns the order as
// it is now.
func (s *Store) SetOrderState(ctx context.Context, id string, state domain.OrderState, actor, reason string) (domain.Order, error) {
	var out domain.Order
	err := s.tx(ctx, func(t *sql.Tx) error {
		o, err := getOrder(ctx, t, id)
		if err != nil {
			return err
		}
		if state == domain.OrderDeleted && strings.TrimSpace(reason) == "" {
			return fmt.Errorf("store: deleting order %s needs a reason", id)
		}
		o.State = state
		o.UpdatedAt = s.now().UTC()
		if err := putOrder(ctx, t, o, false); err != nil {
			return err
		}
		if actor != "" {
			if err := insertAudit(ctx, t, domain.AuditEntry{At: o.UpdatedAt, Actor: actor, Action: "order." + string(state),
				Target: id, Reason: reason, Detail: fmt.Sprintf("patient %s, placer %s, group %s", o.Patient.ID, o.PlacerNumber, o.Group)}); err != nil {
				return err
			}
		}
		out = *o
		return nil
	})
	return out, err
}

// StartOrder marks an order of group as in progress on device. An order
// that is done, cancelled, deleted or in another group gives an error
// wrapping domain.ErrNotOnWorklist; a missing one domain.ErrNotFound.
func (s *Store) StartOrder(ctx context.Context, id, group, deviceID string) (domain.Order, error) {
	var out domain.Order
	err := s.tx(ctx, func(t *sql.Tx) error {
		o, err := getOrder(ctx, t, id)
		if err != nil {
			return err
		}
		if o.Group != group || !o.State.OnWorklist() {
			return fmt.Errorf("store: start order %s: %w", id, domain.ErrNotOnWorklist)
		}
		o.State = domain.OrderInProgress
		o.StartedBy = deviceID
		o.UpdatedAt = s.now().UTC()
		if err := putOrder(ctx, t, o, false); err != nil {
			return err
		}
		out = *o
		return nil
	})
	return out, err
}

// LastOrderAt returns, per connection, when it last brought an order that
// was stored (for "last message" in the Dashboard after a restart): one
// row per connection, written by the commit that stored the order.
func (s *Store) LastOrderAt(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT connection, last_at FROM connection_orders`)
	if err != nil {
		return nil, fmt.Errorf("store: last order times: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var c string
		var at int64
		if err := rows.Scan(&c, &at); err != nil {
			return nil, fmt.Errorf("store: last order times: %w", err)
		}
		out[c] = fromTS(at)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: last order times: %w", err)
	}
	return out, nil
}
