package device

import (
	"encoding/json"
	"net/http"

	"github.com/mesi/mconnect/app/problem"
)

// writeProblem answers with p; a 401 also names the bearer scheme.
func writeProblem(w http.ResponseWriter, p *problem.Problem) {
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mconnect"`)
	}
	problem.Write(w, p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, problem.New(http.StatusInternalServerError, "internal", "Internal error", "the answer could not be encoded"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
