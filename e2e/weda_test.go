package e2e_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// wedaEndpoint is WEDA's result API: it accepts a POST only with the exact
// API token and content type, and hands the HL7 body to the test.
type wedaEndpoint struct {
	*httptest.Server
	header, value, contentType string
	bodies                     chan []byte

	mu      sync.Mutex
	refused []string
}

func startWEDA(t *testing.T, header, value, contentType string) *wedaEndpoint {
	t.Helper()
	w := &wedaEndpoint{header: header, value: value, contentType: contentType, bodies: make(chan []byte, 8)}
	w.Server = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.Close)
	return w
}

func (w *wedaEndpoint) serve(rw http.ResponseWriter, r *http.Request) {
	refuse := func(code int, format string, args ...any) {
		w.mu.Lock()
		w.refused = append(w.refused, fmt.Sprintf(format, args...))
		w.mu.Unlock()
		http.Error(rw, fmt.Sprintf(format, args...), code)
	}
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/api/mesi/results":
		refuse(http.StatusNotFound, "%s %s", r.Method, r.URL.Path)
		return
	case r.Header.Get(w.header) != w.value:
		refuse(http.StatusUnauthorized, "%s header %q", w.header, r.Header.Get(w.header))
		return
	case r.Header.Get("Content-Type") != w.contentType:
		refuse(http.StatusUnsupportedMediaType, "content type %q", r.Header.Get("Content-Type"))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		refuse(http.StatusBadRequest, "read body: %v", err)
		return
	}
	if ctrl := r.Header.Get("X-Message-Control-Id"); ctrl == "" || !bytes.Contains(body, []byte("|"+ctrl+"|")) {
		refuse(http.StatusBadRequest, "X-Message-Control-Id %q is not the message's MSH-10", ctrl)
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	io.WriteString(rw, `{"status":"received"}`)
	w.bodies <- body
}

func (w *wedaEndpoint) refusals() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.refused...)
}

// TestWEDA runs WEDA's flow: the HL7 order file written into the inbound
// folder is taken and archived, the tablet sees every field of it, and the
// result is POSTed to WEDA with the API token read from the env: secret
// reference; a file that is not HL7 goes to error/ with a note.
func TestWEDA(t *testing.T) {
	const token = "weda-test-token-0123456789"
	raw := readTestdata(t, "connectors", "hl7", "testdata", "weda_orm.hl7")
	orm := parseHL7(t, "sample order", raw)

	c := exampleConfig(t, "weda", t.TempDir())
	api := startWEDA(t, c.get(t, "weda.tokenHeader"), "Bearer "+token, c.get(t, "weda.contentType"))
	c.set(t, "weda.resultURL", api.URL+"/api/mesi/results")
	c.set(t, "weda.token", "env:WEDA_TEST_TOKEN")
	c.set(t, "weda.quietPeriod", "300ms")
	c.save(t)
	inbound := c.get(t, "weda.inboundDir")
	h := startHub(t, c, "WEDA_TEST_TOKEN="+token)
	h.pair()

	dropFile(t, inbound, "order-0812.hl7", raw)
	archived := waitFile(t, filepath.Join(inbound, "archive", "order-0812.hl7"))
	if !bytes.Equal(archived, raw) {
		t.Error("the archived order differs from the file dropped")
	}
	waitGone(t, filepath.Join(inbound, "order-0812.hl7"))

	a := h.onlyAppointment()
	checkHL7Appointment(t, a, orm)
	resultID, ok := h.upload()[a.ID]
	if !ok {
		t.Fatalf("no result uploaded for %s", a.ID)
	}
	var body []byte
	select {
	case body = <-api.bodies:
	case <-deadlineTimer():
		t.Fatalf("no result at WEDA; refused requests: %q", api.refusals())
	}
	oru := parseHL7(t, "ORU^R01 posted to WEDA", body)
	checkORU(t, oru, orm, h.report(resultID), simMeasurement(a.Measurement))
	h.waitWorklistEmpty()
	if r := api.refusals(); len(r) > 0 {
		t.Errorf("WEDA refused requests: %q", r)
	}

	// Not HL7: rejected with a note saying why; nothing reaches the worklist.
	dropFile(t, inbound, "broken.hl7", []byte("this is not an HL7 message\r"))
	note := string(waitFile(t, filepath.Join(inbound, "error", "broken.hl7.error")))
	if !strings.Contains(note, "broken.hl7") || !strings.Contains(note, "MSH") {
		t.Errorf("error note does not name the file and the problem:\n%s", note)
	}
	if _, err := os.Stat(filepath.Join(inbound, "error", "broken.hl7")); err != nil {
		t.Errorf("the rejected file is not kept in error/: %v", err)
	}
	var wl worklist
	if err := h.getJSON("/worklist", &wl); err != nil || len(wl.Appointments) != 0 {
		t.Errorf("worklist after a bad file: %d appointments, %v", len(wl.Appointments), err)
	}
}
