package domain

import "time"

// Severity orders health states from fine to needing a person now.
type Severity int

// Severities; the tray colour is that of the worst component:
// OK green, Warning amber, Error red.
const (
	SeverityOK Severity = iota
	SeverityWarning
	SeverityError
)

func (s Severity) String() string {
	switch s {
	case SeverityOK:
		return "ok"
	case SeverityWarning:
		return "warning"
	default:
		return "error"
	}
}

// MarshalText makes severities read as words in JSON and logs.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Health is the state of one component (a listener, watcher, sender, the
// device endpoint, the store), written for a person to read in the Dashboard.
type Health struct {
	// Component names the part: "store", "device", "conn:birpis/mllp-in" ...
	Component string `json:"component"`
	// Code is a stable machine-readable reason ("listening", "peer-refused",
	// "ehr-unreachable"), for support and tests.
	Code     string   `json:"code"`
	Title    string   `json:"title"`
	Text     string   `json:"text,omitempty"`
	Severity Severity `json:"severity"`
	// LastMessageAt is when the component last moved a message; LastError
	// the last error it met (kept even after recovery, for support).
	LastMessageAt time.Time `json:"lastMessageAt,omitempty"`
	LastError     string    `json:"lastError,omitempty"`
	At            time.Time `json:"at"`
}

// HealthReporter receives health updates from components. Report must be
// cheap and safe for concurrent use.
type HealthReporter interface {
	Report(h Health)
}

// HealthFunc adapts a function to HealthReporter.
type HealthFunc func(Health)

// Report calls f(h).
func (f HealthFunc) Report(h Health) { f(h) }
