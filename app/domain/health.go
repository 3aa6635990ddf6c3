package domain

import (
	"fmt"
	"maps"
	"sync"
	"time"
)

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
// device endpoint, the store). It carries no prose: the UI renders the
// words for people from Code and Args in the person's language, and shows
// Detail (technical, English) behind "Details".
type Health struct {
	// Component names the part: "store", "device", "conn:birpis/gdt-in" ...
	Component string `json:"component"`
	// Code is the stable reason ("listening", "peer-refused",
	// "ehr-unreachable"): the key of the text the UI shows.
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	// Args are the values the text is rendered with ("addr", "folder" ...).
	Args map[string]string `json:"args,omitempty"`
	// Detail is the technical text for support (an error's message).
	Detail string `json:"detail,omitempty"`
	// LastMessageAt is when the component last moved a message; LastError
	// the last error it met (kept even after recovery, for support).
	LastMessageAt time.Time `json:"lastMessageAt,omitempty"`
	LastError     string    `json:"lastError,omitempty"`
	At            time.Time `json:"at"`
}

// Arg returns the value of one argument ("" when absent).
func (h Health) Arg(name string) string { return h.Args[name] }

// HealthReporter receives health updates from components. Report must be
// cheap and safe for concurrent use.
type HealthReporter interface {
	Report(h Health)
}

// HealthFunc adapts a function to HealthReporter.
type HealthFunc func(Health)

// Report calls f(h).
func (f HealthFunc) Report(h Health) { f(h) }

// Reporter reports the health of one component and keeps, for every report,
// when the component last moved a message and the last error it met: the
// one place this bookkeeping lives. Safe for concurrent use.
type Reporter struct {
	rep       HealthReporter
	component string
	now       func() time.Time

	mu   sync.Mutex
	last Health
}

// NewReporter returns a reporter for component (rep may be nil: reports go
// nowhere).
func NewReporter(rep HealthReporter, component string) *Reporter {
	if rep == nil {
		rep = HealthFunc(func(Health) {})
	}
	return &Reporter{rep: rep, component: component, now: time.Now, last: Health{Component: component}}
}

// Component is the name reported under.
func (r *Reporter) Component() string { return r.component }

// Set reports a state. args may be nil.
func (r *Reporter) Set(sev Severity, code string, args map[string]string, detail string) {
	r.mu.Lock()
	r.last.Severity, r.last.Code, r.last.Args, r.last.Detail = sev, code, args, detail
	r.last.At = r.now()
	h := r.last
	r.mu.Unlock()
	r.rep.Report(h)
}

// Failed reports a state caused by err, which becomes the last error.
func (r *Reporter) Failed(sev Severity, code string, args map[string]string, err error) {
	r.mu.Lock()
	if err != nil {
		r.last.LastError = err.Error()
	}
	r.mu.Unlock()
	detail := ""
	if err != nil {
		detail = err.Error()
	}
	r.Set(sev, code, args, detail)
}

// Moved records that the component moved a message now and reports state
// (code with args) with it.
// Reports less than a second apart that change nothing else are skipped.
func (r *Reporter) Moved(code string, args map[string]string) {
	r.mu.Lock()
	now := r.now()
	prev := r.last
	r.last.LastMessageAt = now
	quiet := prev.Code == code && prev.Severity == SeverityOK && maps.Equal(prev.Args, args) && prev.Detail == "" &&
		now.Sub(prev.At) < time.Second
	r.mu.Unlock()
	if !quiet {
		r.Set(SeverityOK, code, args, "")
	}
}

// Seed sets when the component last moved a message (after a restart, from
// the store) without reporting.
func (r *Reporter) Seed(at time.Time) {
	r.mu.Lock()
	if at.After(r.last.LastMessageAt) {
		r.last.LastMessageAt = at
	}
	r.mu.Unlock()
}

// Last returns the last report.
func (r *Reporter) Last() Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// UnmarshalText reads a severity written by MarshalText.
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "ok":
		*s = SeverityOK
	case "warning":
		*s = SeverityWarning
	case "error":
		*s = SeverityError
	default:
		return fmt.Errorf("severity %q is not ok, warning or error", b)
	}
	return nil
}
