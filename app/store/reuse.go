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
	if !rangedKey(o) {
		err := t.QueryRowContext(ctx, `SELECT order_id FROM inbound_messages WHERE connection=? AND message_id=?`,
			o.Connection, o.SourceMessageID).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", false, fmt.Errorf("look up message: %w", err)
		}
		return id, false, nil
	}
	id, reused, _, err = lookupKeys(ctx, t, o, `SELECT 0, message_id, order_id FROM inbound_messages WHERE connection=?1 AND message_id >= ?2 AND message_id < ?3`,
		o.Connection, ctl+"@", ctl+"A")
	return id, reused, err
}

// rangedKey reports whether o's source key is "<control ID>@<hash>…",
// looked up with the keys of its control ID.
func rangedKey(o domain.Order) bool {
	ctl := o.SourceControlID
	return ctl != "" && strings.HasPrefix(o.SourceMessageID, ctl+"@") && len(o.SourceMessageID) >= len(ctl)+1+hashLen
}

// lookupSourceAndPlacer is lookupSource and findOpenByPlacer in one read,
// for an order with a ranged source key and a placer number (done reports
// that it was; else nothing was read): a statement less for every order
// of the one writer.
func lookupSourceAndPlacer(ctx context.Context, t execer, o domain.Order) (id string, reused bool, open *domain.Order, done bool, err error) {
	if !rangedKey(o) || o.PlacerNumber == "" {
		return "", false, nil, false, nil
	}
	ctl := o.SourceControlID
	id, reused, open, err = lookupKeys(ctx, t, o, sourceAndPlacerQuery,
		o.Connection, ctl+"@", ctl+"A", o.PlacerNumber)
	return id, reused, open, err == nil, err
}

var sourceAndPlacerQuery = `SELECT 0, message_id, order_id FROM inbound_messages WHERE connection=?1 AND message_id >= ?2 AND message_id < ?3
		UNION ALL
		SELECT 1, '', data FROM (` + openByPlacer(4) + `)`

// lookupKeys runs query, whose rows are (0, key, order ID) for the stored
// source keys of o's control ID and (1, "", data) for an open order by
// placer number, and reads them as lookupSource and findOpenByPlacer do.
func lookupKeys(ctx context.Context, t execer, o domain.Order, query string, args ...any) (id string, reused bool, open *domain.Order, err error) {
	own := o.SourceMessageID[:len(o.SourceControlID)+1+hashLen]
	rows, err := t.QueryContext(ctx, query, args...)
	if err != nil {
		return "", false, nil, fmt.Errorf("look up message: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind int
		var key, val string
		if err := rows.Scan(&kind, &key, &val); err != nil {
			return "", false, nil, fmt.Errorf("look up message: %w", err)
		}
		if kind == 1 {
			if open, err = decodeOrder(val); err != nil {
				return "", false, nil, fmt.Errorf("decode stored order: %w", err)
			}
			continue
		}
		if key == o.SourceMessageID {
			id = val
			continue
		}
		reused = reused || otherContent(key, own)
	}
	if err := rows.Err(); err != nil {
		return "", false, nil, fmt.Errorf("look up message: %w", err)
	}
	if id != "" {
		reused = false // the same message again
	}
	return id, reused, open, nil
}

// otherContent reports whether key, a stored key of a control ID, is
// another message's content than own ("<ctl>@<hash>"): "<ctl>@<hash>" or
// "<ctl>@<hash>#n" with another hash.
func otherContent(key, own string) bool {
	return len(key) >= len(own) && key[:len(own)] != own && (len(key) == len(own) || key[len(own)] == '#')
}
