package domain

import "time"

// AuditEntry records a deletion or manual action: who did what, when, and why.
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`  // "dashboard:<os user>", "device:<id>", "cli", "system"
	Action string    `json:"action"` // "order.delete", "delivery.resend", "device.revoke" ...
	Target string    `json:"target"` // the object's ID
	Reason string    `json:"reason,omitempty"`
	Detail string    `json:"detail,omitempty"`
}
