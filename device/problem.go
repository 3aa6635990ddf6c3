package device

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Field names the request field at fault, where there is one
	// ("code", "result.observations[0].value", "Idempotency-Key").
	Field string `json:"field,omitempty"`
	// RetryAfter is in seconds; also sent as the Retry-After header.
	RetryAfter int `json:"retryAfter,omitempty"`
}

// problemTypeBase prefixes the problem type URIs (stable, documented in docs/lan-api.yaml).
const problemTypeBase = "https://mesi.example/mconnect/problems/"

func problem(status int, slug, title, detail string) *Problem {
	return &Problem{Type: problemTypeBase + slug, Title: title, Status: status, Detail: detail}
}

func (p *Problem) field(f string) *Problem { p.Field = f; return p }

func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

func writeProblem(w http.ResponseWriter, p *Problem) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if p.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	if p.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="mconnect"`)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, problem(http.StatusInternalServerError, "internal", "Internal error", "the answer could not be encoded"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
