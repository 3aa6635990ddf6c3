package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/mesi/mconnect/app/domain"
)

// keyRow is one de-duplication key: a source message and its order.
type keyRow struct {
	conn, msgID, orderID, action string
	at                           int64
}

// batchKeys holds the de-duplication keys of the orders of one of the
// writer's transactions until its commit, when they are written with one
// statement instead of one each (the writer runs every order's
// statements one after the other: each saved is saved for all). The
// orders of the transaction that come after see them through pending, as
// if they were written.
type batchKeys struct {
	rows []keyRow
	args []any
}

func (b *batchKeys) reset() { b.rows = b.rows[:0] }

func (b *batchKeys) add(k keyRow) { b.rows = append(b.rows, k) }

// pending reports what o's source key finds among the keys held: the order
// of the same key, and whether another message with o's control ID was
// held (as lookupSource).
func (b *batchKeys) pending(o domain.Order) (id string, reused bool) {
	ranged := rangedKey(o)
	var ctl, own string
	if ranged {
		ctl = o.SourceControlID + "@"
		own = o.SourceMessageID[:len(ctl)+hashLen]
	}
	for _, k := range b.rows {
		if k.conn != o.Connection {
			continue
		}
		if k.msgID == o.SourceMessageID {
			return k.orderID, false
		}
		if ranged && strings.HasPrefix(k.msgID, ctl) && otherContent(k.msgID, own) {
			reused = true
		}
	}
	return "", reused
}

// keysInsert is the statement that writes n keys.
func keysInsert(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO inbound_messages(connection, message_id, order_id, action, received_at) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?)")
	}
	return b.String()
}

// write writes the keys held, in statements of at most maxBatch keys.
func (b *batchKeys) write(ctx context.Context, t execer) error {
	for rows := b.rows; len(rows) > 0; {
		n := min(len(rows), maxBatch)
		b.args = b.args[:0]
		for _, k := range rows[:n] {
			b.args = append(b.args, k.conn, k.msgID, k.orderID, k.action, k.at)
		}
		if _, err := t.ExecContext(ctx, keysInsert(n), b.args...); err != nil {
			return fmt.Errorf("record messages: %w", err)
		}
		rows = rows[n:]
	}
	clear(b.args)
	b.reset()
	return nil
}
