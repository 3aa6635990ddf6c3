package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/mesi/mconnect/app/domain"
)

// hashLen is the length of the content hash in a source key
// "<control ID>@<hash>[#n]" (hl7.SourceKey).
const hashLen = 32

// lookupSource looks o's source key up among the keys stored for its
// connection: id is the order of the same key (a message seen before), and
// reused tells that another message with o's control ID but other content
// was stored before: a key "<control ID>@<other hash>" (or "…#n" of its
// later orders) of the same connection; keys stored before keys carried a
// content hash (the bare control ID) are not compared. A key
// "<control ID>@<hash>" is looked up with one read of the keys of its
// control ID; another key (a GDT file's) with one exact read.
func lookupSource(ctx context.Context, t execer, o domain.Order) (id string, reused bool, err error) {
	ctl := o.SourceControlID
	if ctl == "" || !strings.HasPrefix(o.SourceMessageID, ctl+"@") || len(o.SourceMessageID) < len(ctl)+1+hashLen {
		err := t.QueryRowContext(ctx, `SELECT order_id FROM inbound_messages WHERE connection=? AND message_id=?`,
			o.Connection, o.SourceMessageID).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", false, fmt.Errorf("look up message: %w", err)
		}
		return id, false, nil
	}
	own := o.SourceMessageID[:len(ctl)+1+hashLen]
	rows, err := t.QueryContext(ctx, `SELECT message_id, order_id FROM inbound_messages WHERE connection=? AND message_id >= ? AND message_id < ?`,
		o.Connection, ctl+"@", ctl+"A")
	if err != nil {
		return "", false, fmt.Errorf("look up message: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, oid string
		if err := rows.Scan(&key, &oid); err != nil {
			return "", false, fmt.Errorf("look up message: %w", err)
		}
		if key == o.SourceMessageID {
			return oid, false, nil
		}
		// Another key of this control ID: "<ctl>@<hash>" or "<ctl>@<hash>#n"
		// with another hash is other content.
		if len(key) >= len(own) && key[:len(own)] != own && (len(key) == len(own) || key[len(own)] == '#') {
			reused = true
		}
	}
	if err := rows.Err(); err != nil {
		return "", false, fmt.Errorf("look up message: %w", err)
	}
	return "", reused, nil
}
