package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
)

// TestEveryRouteDocumented: the server serves exactly the operations
// docs/integration-api.yaml documents (the token endpoint in the built-in
// mode only), each with the authentication the spec says.
func TestEveryRouteDocumented(t *testing.T) {
	e := newEnv(t, nil)
	ext, err := New(Options{Name: testConn, Config: externalConfig("http://127.0.0.1:1/jwks"), Orders: e.sink, Store: e.st})
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, srv := range []*Server{e.srv, ext} {
		for _, rt := range srv.routeTable() {
			k := rt.method + " " + rt.path
			served[k] = true
			pi := specDoc.Paths.Find(rt.path)
			if pi == nil || pi.GetOperation(rt.method) == nil {
				t.Errorf("%s is served but not documented in docs/integration-api.yaml", k)
				continue
			}
			op := pi.GetOperation(rt.method)
			sec := specDoc.Security
			if op.Security != nil {
				sec = *op.Security
			}
			var documented []string
			for _, req := range sec {
				documented = append(documented, req["oauth2"]...)
			}
			have := append([]string(nil), rt.scopes...)
			sort.Strings(documented)
			sort.Strings(have)
			if strings.Join(documented, " ") != strings.Join(have, " ") {
				t.Errorf("%s: served with scopes %v, documented %v", k, rt.scopes, documented)
			}
		}
	}
	for _, rt := range ext.routeTable() {
		if rt.path == "/oauth/token" {
			t.Error("the external mode serves a token endpoint")
		}
	}
	for path, pi := range specDoc.Paths.Map() {
		for method := range pi.Operations() {
			if !served[method+" "+path] {
				t.Errorf("%s %s is documented but not served", method, path)
			}
		}
	}
}

// TestAppointmentLifecycle drives one appointment from PUT to done and a
// second through cancellation, checking the answers, the stored order and
// what GET reports at each step.
func TestAppointmentLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	tok := e.token("")

	a := e.put(tok, "APT-1", sample())
	if a.status != http.StatusCreated || a.header.Get("Location") != Prefix+"/appointments/APT-1" {
		t.Fatalf("first PUT: %d %s %s", a.status, a.header.Get("Location"), a.body)
	}
	st := a.state(t)
	if st.ExternalID != "APT-1" || st.State != "scheduled" || st.TabletGroup != "cardiology" || st.Measurement != "ECG" ||
		len(st.Results) != 0 || !strings.HasPrefix(st.AppointmentID, "ord_") {
		t.Errorf("state after create: %+v", st)
	}
	var echoed map[string]any
	if err := json.Unmarshal(st.Appointment, &echoed); err != nil || echoed["patient"].(map[string]any)["lastName"] != "Novak" {
		t.Errorf("appointment echoed: %s %v", st.Appointment, err)
	}

	o, err := e.st.OrderByPlacer(ctx, testConn, "APT-1")
	if err != nil {
		t.Fatal(err)
	}
	p := o.Patient
	if o.ID != st.AppointmentID || o.Connection != testConn || o.Group != "cardiology" || o.Measurement != "ECG" || o.ServiceCode != "ECG" ||
		p.ID != "12345" || p.Name.Given != "Ana" || p.Name.Family != "Novak" || p.BirthDate != "1960-03-15" || p.Sex != domain.SexFemale ||
		o.Visit.Number.Value != "V-889" || o.Visit.Number.Authority != "urn:join:encounter" || o.Meta[MetaExternalID] != "APT-1" ||
		o.Meta[metaClient] != e.creds.ClientID || !o.ScheduledAt.Equal(time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)) {
		t.Errorf("stored order: %+v", o)
	}
	var keys []string
	for _, f := range o.Fields {
		keys = append(keys, f.Key+"="+f.Value)
	}
	want := "externalId=APT-1 patient.id=12345 patient.firstName=Ana patient.lastName=Novak patient.birthDate=1960-03-15 patient.gender=female " +
		"measurement=ECG tabletGroup=cardiology scheduledAt=2026-03-02T09:30:00+01:00 visitIds[0]=V-889 fields.referrer=Dr. Kovač fields.room=3"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("fields:\n got %s\nwant %s", got, want)
	}
	if f, _ := o.Field("fields.room"); f != "3" {
		t.Errorf("free field room = %q", f)
	}

	// The same body again is a retry: 200, nothing stored.
	before := e.sink.n.Load()
	if a := e.put(tok, "APT-1", sample()); a.status != http.StatusOK || a.state(t).AppointmentID != st.AppointmentID {
		t.Fatalf("repeat: %d %s", a.status, a.body)
	}
	if e.sink.n.Load() != before {
		t.Error("an identical PUT was stored again")
	}
	// A change updates the same appointment.
	changed := sample()
	changed["patient"].(map[string]any)["lastName"] = "Novak-Kranjc"
	changed["measurement"] = "ekg-12" // through the measurement map
	changed["tabletGroup"] = "KARD"   // through the group map
	if a := e.put(tok, "APT-1", changed); a.status != http.StatusOK || a.state(t).AppointmentID != st.AppointmentID {
		t.Fatalf("update: %d %s", a.status, a.body)
	}
	if o, _ = e.st.OrderByPlacer(ctx, testConn, "APT-1"); o.Patient.Name.Family != "Novak-Kranjc" || o.ServiceCode != "ekg-12" || o.Measurement != "ECG" {
		t.Errorf("after update: %+v", o)
	}

	// A tablet takes it, measures, the result is delivered.
	if _, err := e.st.StartOrder(ctx, o.ID, "cardiology", "dev_1"); err != nil {
		t.Fatal(err)
	}
	g := e.do(http.MethodGet, "/appointments/APT-1", nil, bearer(tok))
	if s := g.state(t); g.status != http.StatusOK || s.State != "in_progress" || s.StartedBy != "dev_1" {
		t.Errorf("GET in progress: %d %+v", g.status, s)
	}
	res, _, err := e.st.SaveResult(ctx, domain.Result{OrderID: o.ID, Measurement: "ECG", DeviceID: "dev_1", IdempotencyKey: "k",
		PerformedAt: time.Date(2026, 3, 2, 9, 41, 0, 0, time.UTC)}, []string{testConn})
	if err != nil {
		t.Fatal(err)
	}
	s := e.do(http.MethodGet, "/appointments/APT-1", nil, bearer(tok)).state(t)
	if len(s.Results) != 1 || s.Results[0].ResultID != res.ID || s.Results[0].Delivery == nil || s.Results[0].Delivery.State != "queued" {
		t.Fatalf("GET with a queued result: %+v", s)
	}
	d, err := e.st.ClaimDelivery(ctx, mustDelivery(t, e.st, res.ID), []domain.DeliveryState{domain.DeliveryQueued})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.CompleteDelivery(ctx, d, store.Outcome{State: domain.DeliveryDelivered, Answer: "HTTP 201"}); err != nil {
		t.Fatal(err)
	}
	s = e.do(http.MethodGet, "/appointments/APT-1", nil, bearer(tok)).state(t)
	if s.State != "done" || s.Results[0].Delivery.State != "delivered" || s.Results[0].Delivery.Attempts != 1 {
		t.Errorf("GET after delivery: %+v %+v", s, s.Results[0].Delivery)
	}
	if a := e.put(tok, "APT-1", sample()); a.status != http.StatusConflict || a.problem(t).Title != "Appointment closed" {
		t.Errorf("PUT of a done appointment: %d %s", a.status, a.body)
	}
	if a := e.put(tok, "APT-1", changed); a.status != http.StatusOK {
		t.Errorf("the done appointment's own content again: %d %s", a.status, a.body)
	}
	if a := e.do(http.MethodDelete, "/appointments/APT-1", nil, bearer(tok)); a.status != http.StatusConflict {
		t.Errorf("DELETE of a done appointment: %d %s", a.status, a.body)
	}

	// Cancellation, twice; then placed again: a new appointment.
	first := e.put(tok, "APT-2", sample()).state(t)
	for i := 0; i < 2; i++ {
		a := e.do(http.MethodDelete, "/appointments/APT-2", nil, bearer(tok))
		if a.status != http.StatusOK || a.state(t).State != "cancelled" {
			t.Fatalf("DELETE %d: %d %s", i, a.status, a.body)
		}
	}
	if wl, _ := e.st.Worklist(ctx, "cardiology"); len(wl) != 0 {
		t.Errorf("worklist after cancel: %d", len(wl))
	}
	again := e.put(tok, "APT-2", sample())
	if again.status != http.StatusCreated || again.state(t).AppointmentID == first.AppointmentID {
		t.Errorf("placed again after cancel: %d %s", again.status, again.body)
	}
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		if a := e.do(m, "/appointments/NOPE", nil, bearer(tok)); a.status != http.StatusNotFound || a.problem(t).Field != "externalId" {
			t.Errorf("%s of an unknown appointment: %d %s", m, a.status, a.body)
		}
	}
}

func mustDelivery(t *testing.T, st *store.Store, resultID string) int64 {
	t.Helper()
	ds, err := st.Deliveries(context.Background(), store.DeliveryFilter{ResultID: resultID})
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries of %s: %v %v", resultID, ds, err)
	}
	return ds[0].ID
}
