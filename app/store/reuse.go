package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mesi/mconnect/app/domain"
)

// hashLen is the length of the content hash in a source key
// "<control ID>@<hash>[#n]" (hl7.SourceKey).
const hashLen = 32

// controlIDReused reports whether another message with o's SourceControlID
// but other content was stored before: a key "<control ID>@<other hash>"
// (or "…#n" of its later orders) of the same connection. Keys stored before
// keys carried a content hash (the bare control ID) are not compared.
func controlIDReused(ctx context.Context, t execer, o domain.Order) (bool, error) {
	ctl := o.SourceControlID
	if ctl == "" || !strings.HasPrefix(o.SourceMessageID, ctl+"@") || len(o.SourceMessageID) < len(ctl)+1+hashLen {
		return false, nil
	}
	own := o.SourceMessageID[:len(ctl)+1+hashLen]
	n := utf8.RuneCountInString(own) // SQLite counts characters
	var one int
	err := t.QueryRowContext(ctx, `SELECT 1 FROM inbound_messages WHERE connection=? AND message_id >= ? AND message_id < ?
		AND substr(message_id, 1, ?) <> ? AND (length(message_id) = ? OR substr(message_id, ?, 1) = '#') LIMIT 1`,
		o.Connection, ctl+"@", ctl+"A", n, own, n, n+1).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up control ID: %w", err)
	}
	return true, nil
}
