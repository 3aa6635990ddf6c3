// Package problem writes RFC 9457 problem details (application/problem+json),
// the error answers of the hub's HTTP APIs: the tablets' LAN API and the
// Integration API. A problem names what went wrong for a person (title,
// detail) and for a program (a stable type URI, the field at fault, when to
// retry); it never carries an internal error chain.
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// ContentType is the media type of a problem document.
const ContentType = "application/problem+json"

// TypeBase prefixes the problem type URIs. The URIs are stable: clients
// branch on them, and docs/lan-api.yaml lists them.
const TypeBase = "https://mesi.example/mconnect/problems/"

// Problem is an RFC 9457 problem details object with two extension members.
type Problem struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Field names the request field at fault, where there is one
	// ("code", "result.observations[0].value", "Idempotency-Key").
	Field string `json:"field,omitempty"`
	// RetryAfter is in seconds; Write also sends it as the Retry-After header.
	RetryAfter int `json:"retryAfter,omitempty"`
}

// New returns a problem of HTTP status with the type TypeBase+slug (no type
// when slug is empty), a short title and a detail saying what to do.
func New(status int, slug, title, detail string) *Problem {
	p := &Problem{Title: title, Status: status, Detail: detail}
	if slug != "" {
		p.Type = TypeBase + slug
	}
	return p
}

// WithField sets the field at fault and returns p.
func (p *Problem) WithField(field string) *Problem {
	p.Field = field
	return p
}

// Error makes a problem usable as an error: "title: detail".
func (p *Problem) Error() string {
	if p.Detail == "" {
		return p.Title
	}
	return p.Title + ": " + p.Detail
}

// Write sends p as the answer: status, Content-Type, Cache-Control no-store,
// Retry-After when set, and the JSON document. Headers the caller set before
// (WWW-Authenticate for a 401) are kept.
func Write(w http.ResponseWriter, p *Problem) {
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Cache-Control", "no-store")
	if p.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
