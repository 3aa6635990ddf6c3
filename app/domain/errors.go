package domain

import "errors"

// Errors the store returns (wrapped with context) and its consumers — the
// LAN endpoint, the hub, the outbox — test for with errors.Is. They live
// here, beside the types they speak of, so that a consumer need not import
// the store to recognise them.
var (
	// ErrNotFound: the looked-up object (order, result, device, group,
	// delivery) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrPairingCodeInvalid: a pairing code is unknown, was used already or
	// has expired.
	ErrPairingCodeInvalid = errors.New("pairing code is unknown, used or expired")
	// ErrNotOnWorklist: an order cannot be started because it is done,
	// cancelled, deleted or on another group's worklist.
	ErrNotOnWorklist = errors.New("order is not on this worklist")
)
