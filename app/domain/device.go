package domain

import "time"

// Group is a tablet group: tablets of a group share one worklist.
type Group struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Default bool   `json:"default"`
}

// DefaultGroupID is the ID of the group that always exists.
const DefaultGroupID = "default"

// Device is a paired mTABLET.
type Device struct {
	ID         string    `json:"id"`
	Serial     string    `json:"serial"`
	Name       string    `json:"name"`
	Model      string    `json:"model,omitempty"`
	AppVersion string    `json:"appVersion,omitempty"`
	Group      string    `json:"group"`
	PairedAt   time.Time `json:"pairedAt"`
	LastSeen   time.Time `json:"lastSeen,omitempty"`
	Battery    int       `json:"battery,omitempty"` // percent, -1 unknown
	IP         string    `json:"ip,omitempty"`
	Revoked    bool      `json:"revoked"`
}

// OnlineWindow is how recently a device must have been heard from to count as online.
const OnlineWindow = 2 * time.Minute

// Online reports whether the device was heard from within OnlineWindow of now.
func (d Device) Online(now time.Time) bool {
	return !d.Revoked && !d.LastSeen.IsZero() && now.Sub(d.LastSeen) < OnlineWindow
}
