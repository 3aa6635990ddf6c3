package device

import (
	"net/http"
	"testing"
)

func TestSmoke(t *testing.T) {
	e := newEnv(t, nil)
	var h HealthResponse
	if r := e.do(http.MethodGet, "/health", "", nil, "", nil, &h); r.StatusCode != 200 {
		t.Fatal(r.StatusCode)
	}
	pr := e.pair("default", "S1")
	id := e.addOrder("default", "A1")
	var wl Worklist
	r := e.do(http.MethodGet, "/worklist", pr.Token, nil, "", nil, &wl)
	if r.StatusCode != 200 || len(wl.Appointments) != 1 || wl.Appointments[0].ID != id {
		t.Fatal(r.StatusCode, wl)
	}
	resp, rc := e.upload(pr.Token, "k1", part{"result", "application/json", resultJSON(id)}, part{"report", "application/pdf", testPDF(t)})
	if resp.StatusCode != 201 {
		t.Fatal(resp.StatusCode, problemOf(t, resp))
	}
	t.Log(rc, e.cov.keys())
}
