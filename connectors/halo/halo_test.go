package halo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/connectors/halo"
	"github.com/mesi/mconnect/connectors/halo/halofake"
	"github.com/mesi/mconnect/connectors/pull"
)

const (
	siteID = "7d3f0a52-1c1e-4a8e-b1f0-6a3b2c9d4e5f"
	apiKey = "sk-test-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
)

// healthLog keeps every report.
type healthLog struct {
	mu   sync.Mutex
	all  []domain.Health
	last map[string]domain.Health
}

func (h *healthLog) Report(x domain.Health) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil {
		h.last = map[string]domain.Health{}
	}
	h.all = append(h.all, x)
	h.last[x.Component] = x
}

func (h *healthLog) of(c string) domain.Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last[c]
}

func (h *healthLog) text() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, _ := json.Marshal(h.all)
	return string(b)
}

// rig is a HALO connection built against a fake.
type rig struct {
	fake   *halofake.Fake
	cfg    *halo.Config
	parts  connector.Parts
	health *healthLog
	log    *lockedBuffer
	dir    string
}

// lockedBuffer is a log sink safe for the connector's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func fakeOptions() halofake.Options {
	return halofake.Options{SiteID: siteID, Key: apiKey, Catalogue: "BPSPatients", Query: halo.DefaultQuery, Command: halo.DefaultCommand}
}

func newRig(t *testing.T, edit func(*halo.Config)) *rig {
	t.Helper()
	r := &rig{fake: halofake.New(t, fakeOptions()), health: &healthLog{}, log: &lockedBuffer{}, dir: t.TempDir()}
	c := &halo.Config{BaseURL: r.fake.URL(), SiteID: siteID, APIKey: "env:HALO_KEY", Catalogue: "BPSPatients"}
	c.TimeZone = "UTC"
	c.Timeout = config.Duration(2 * time.Second)
	c.Results.PollFor = config.Duration(5 * time.Second)
	c.Results.PollMax = config.Duration(100 * time.Millisecond)
	c.MeasurementMap = map[string]string{"ECG": "ECG"}
	c.ApplyDefaults()
	if edit != nil {
		edit(c)
	}
	ck := config.NewChecker()
	c.Validate(ck.In("halo"))
	if err := ck.Err(); err != nil {
		t.Fatalf("config: %v", err)
	}
	r.cfg = c
	os.WriteFile(filepath.Join(r.dir, "hub-id"), []byte("hub-0123456789abcdef\n"), 0o600)
	l := logrus.New()
	l.SetOutput(r.log)
	l.SetLevel(logrus.DebugLevel)
	env := connector.Env{Name: "bestpractice", Profile: catalogue.Profile{ID: "bestpractice", Name: "Best Practice"},
		DataDir: r.dir, TempDir: r.dir, Health: r.health, Log: l,
		Secret: func(key, ref string) (string, error) {
			if ref != "env:HALO_KEY" {
				return "", fmt.Errorf("unknown secret %s", ref)
			}
			return apiKey, nil
		}}
	parts, err := halo.Kind().Build(env, c)
	if err != nil {
		t.Fatal(err)
	}
	r.parts = parts
	return r
}

// noSecrets fails when the key shows anywhere the hub writes words.
func (r *rig) noSecrets(t *testing.T, errs ...error) {
	t.Helper()
	for _, s := range []string{r.health.text(), r.log.String()} {
		if strings.Contains(s, apiKey) {
			t.Fatalf("the API key leaked into health or the log:\n%s", s)
		}
	}
	for _, err := range errs {
		if err != nil && strings.Contains(err.Error(), apiKey) {
			t.Fatalf("the API key leaked into an error: %v", err)
		}
	}
}

func (r *rig) noViolations(t *testing.T) {
	t.Helper()
	if v := r.fake.Violations(); len(v) > 0 {
		t.Fatalf("the fake saw requests HALO would refuse:\n%s", strings.Join(v, "\n"))
	}
}

// row is a Bp Premier appointment row about now.
func row(id int, patient int, at time.Time) map[string]any {
	return map[string]any{"AppointmentID": id, "InternalID": patient, "Firstname": "Ana", "Surname": "Novak",
		"DOB": "1961-07-14T00:00:00", "Sex": "Female", "Status": "Booked",
		"AppointmentDate": at.Format("2006-01-02") + "T00:00:00", "AppointmentTime": at.Hour()*3600 + at.Minute()*60,
		"Provider": "Dr Frederick Findacure", "AppointmentType": "ECG"}
}

func TestAppointmentsReachOrders(t *testing.T) {
	r := newRig(t, nil)
	at := time.Now().UTC().Add(time.Hour).Truncate(time.Minute)
	r.fake.SetRows([]map[string]any{row(1001, 7, at)})
	orders, err := r.parts.Pull.Pull(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	r.noViolations(t)
	if len(orders) != 1 {
		t.Fatalf("%d orders", len(orders))
	}
	o := orders[0]
	if o.PlacerNumber != "1001" || o.Patient.ID != "7" || o.Patient.Name.Given != "Ana" || o.Patient.Name.Family != "Novak" ||
		o.Patient.BirthDate != "1961-07-14" || o.Patient.Sex != domain.SexFemale || o.OrderStatus != "Booked" ||
		!o.ScheduledAt.Equal(at) || o.Measurement != "ECG" {
		t.Fatalf("order %+v", o)
	}
	reqs := r.fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	q := reqs[0]
	if q.Method != "POST" || q.Path != "/integrator/sites/"+siteID+"/queries/immediate" || q.Header.Get("Ocp-Apim-Subscription-Key") != apiKey ||
		q.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %s %v", q.Method, q.Path, q.Header)
	}
	var body struct {
		MaxTimeInQueue int
		Catalogue      string
		Command        struct {
			Text, ExecutionMode, Type string
			Parameters                []struct{ Name, Value, Direction, Type string }
		}
	}
	if err := json.Unmarshal(q.Body, &body); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	from, _ := time.Parse("2006-01-02T15:04:05", body.Command.Parameters[0].Value)
	to, _ := time.Parse("2006-01-02T15:04:05", body.Command.Parameters[1].Value)
	if body.MaxTimeInQueue != 15000 || body.Catalogue != "BPSPatients" || body.Command.ExecutionMode != "reader" ||
		body.Command.Parameters[0].Name != "@from" || body.Command.Parameters[0].Type != "DateTime" ||
		from.Sub(now.Add(-2*time.Hour)).Abs() > time.Minute || to.Sub(now.Add(12*time.Hour)).Abs() > time.Minute {
		t.Fatalf("body %+v (from %v to %v)", body, from, to)
	}
	r.noSecrets(t)
}

// Every fault of a site: the pull fails with the cause health names (and
// the hub serves the stored worklist, stale); nothing leaks the key.
func TestAppointmentFaults(t *testing.T) {
	tests := []struct {
		name  string
		setup func(r *rig)
		edit  func(*halo.Config)
		code  string
		sev   domain.Severity
		kind  pull.Kind
	}{
		{"forbidden", func(r *rig) {
			r.fake.SetFault(halofake.OpImmediate, halofake.Fault{HTTP: 403, Message: "Caller Ip Not Allowed"})
		}, nil, pull.CodeAuthRefused, domain.SeverityError, pull.KindAuth},
		{"unknown site", nil, func(c *halo.Config) { c.SiteID = "00000000-0000-0000-0000-000000000000" }, halo.CodeSiteNotFound, domain.SeverityError, pull.KindRefused},
		{"site offline (503)", func(r *rig) {
			r.fake.SetFault(halofake.OpImmediate, halofake.Fault{HTTP: 503, Message: "Site could not be contacted"})
		}, nil, halo.CodeSiteOffline, domain.SeverityWarning, pull.KindUnavailable},
		{"site offline (status)", func(r *rig) {
			r.fake.SetFault(halofake.OpImmediate, halofake.Fault{QueryStatus: "initialisationFailedSiteOffline"})
		}, nil, halo.CodeSiteOffline, domain.SeverityWarning, pull.KindUnavailable},
		{"site unreachable (504)", func(r *rig) {
			r.fake.SetFault(halofake.OpImmediate, halofake.Fault{HTTP: 504, Message: "Site is unreachable"})
		}, nil, halo.CodeSiteUnreachable, domain.SeverityWarning, pull.KindUnavailable},
		{"queue expired", func(r *rig) {
			r.fake.SetFault(halofake.OpImmediate, halofake.Fault{QueryStatus: "expiredInQueue"})
		}, nil, halo.CodeQueueExpired, domain.SeverityWarning, pull.KindUnavailable},
		{"SQL fails", func(r *rig) {
			r.fake.SetFault(halofake.OpImmediate, halofake.Fault{HTTP: 400, QueryStatus: "executionFailed", ErrorType: "mssql", ErrorMessage: "Invalid column name 'RecordID'."})
		}, nil, halo.CodeQueryFailed, domain.SeverityError, pull.KindRefused},
		{"500", func(r *rig) {
			r.fake.SetFault(halofake.OpImmediate, halofake.Fault{HTTP: 500, Message: "Failed to create query container in CosmosDB."})
		}, nil, pull.CodeServerError, domain.SeverityWarning, pull.KindUnavailable},
		{"malformed JSON", func(r *rig) {
			r.fake.SetFault(halofake.OpImmediate, halofake.Fault{HTTP: 200, Body: `{"id": "x", "status": "successful", "result": {`})
		}, nil, pull.CodeBadAnswer, domain.SeverityWarning, pull.KindBadAnswer},
		{"rows not JSON", func(r *rig) { r.fake.SetRawData([]byte(`[{"AppointmentID": 1,`)) }, nil, pull.CodeBadAnswer, domain.SeverityWarning, pull.KindBadAnswer},
		{"timeout", func(r *rig) {
			r.fake.SetFault(halofake.OpImmediate, halofake.Fault{Delay: 3 * time.Second})
		}, func(c *halo.Config) { c.Timeout = config.Duration(time.Second) }, pull.CodeTimeout, domain.SeverityWarning, pull.KindTimeout},
		{"413 too large", func(r *rig) {
			r.fake.SetFault(halofake.OpImmediate, halofake.Fault{HTTP: 413, Message: "Immediate query results beyond message size limit (8mb)"})
		}, nil, pull.CodeTooLarge, domain.SeverityError, pull.KindRefused},
		{"over maxAnswerMB", func(r *rig) {
			rows := make([]map[string]any, 6000)
			for i := range rows {
				rows[i] = row(i+1, i+1, time.Now().UTC())
			}
			r.fake.SetRows(rows)
		}, func(c *halo.Config) { c.MaxAnswerMB = 1 }, pull.CodeTooLarge, domain.SeverityError, pull.KindRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.edit)
			if tc.setup != nil {
				tc.setup(r)
			}
			_, err := r.parts.Pull.Pull(context.Background(), "default")
			var e *pull.Error
			if !errors.As(err, &e) || e.Code != tc.code || e.Kind != tc.kind {
				t.Fatalf("err %v (%+v), want %s %s", err, e, tc.kind, tc.code)
			}
			h := r.health.of("conn:bestpractice/pull")
			if h.Code != tc.code || h.Severity != tc.sev || h.Detail == "" {
				t.Fatalf("health %+v, want %s %s", h, tc.code, tc.sev)
			}
			if tc.kind == pull.KindAuth && h.Arg("credential") != "HALO API key (halo.apiKey)" {
				t.Fatalf("health does not name the credential: %+v", h)
			}
			r.noSecrets(t, err)
		})
	}
}

// A key HALO does not know: refused at the gateway, health names the
// credential, and further requests do not reach HALO (no loop).
func TestWrongKey(t *testing.T) {
	f := halofake.New(t, halofake.Options{SiteID: siteID, Key: "another-key", Catalogue: "BPSPatients", Query: halo.DefaultQuery})
	c := &halo.Config{BaseURL: f.URL(), SiteID: siteID, APIKey: "env:HALO_KEY", Catalogue: "BPSPatients"}
	c.ApplyDefaults()
	h := &healthLog{}
	logs := &lockedBuffer{}
	l := logrus.New()
	l.SetOutput(logs)
	parts, err := halo.Kind().Build(connector.Env{Name: "bestpractice", DataDir: t.TempDir(), Health: h, Log: l,
		Secret: func(string, string) (string, error) { return apiKey, nil }}, c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = parts.Pull.Pull(context.Background(), "default")
	var e *pull.Error
	if !errors.As(err, &e) || e.Kind != pull.KindAuth || e.Code != pull.CodeAuthRefused {
		t.Fatalf("err %v", err)
	}
	hh := h.of("conn:bestpractice/pull")
	if hh.Code != pull.CodeAuthRefused || hh.Arg("credential") != "HALO API key (halo.apiKey)" || !strings.Contains(hh.Detail, "invalid subscription key") {
		t.Fatalf("health %+v", hh)
	}
	for i := 0; i < 5; i++ {
		parts.Pull.Pull(context.Background(), "default")
	}
	if n := f.Calls(halofake.OpImmediate); n != 0 {
		t.Fatalf("reached the query endpoint %d times past the gateway", n)
	}
	if n := len(f.Requests()); n != 1 {
		t.Fatalf("%d requests with a refused key, want 1 (no loop)", n)
	}
	if strings.Contains(logs.String()+h.text()+err.Error(), apiKey) {
		t.Fatal("the key leaked")
	}
}

// A 500 storm: after three failures the circuit opens and the fake is not
// asked again while tablets keep asking.
func TestServerErrorStormOpensTheCircuit(t *testing.T) {
	r := newRig(t, func(c *halo.Config) { c.MinInterval = config.Duration(time.Second) })
	r.fake.SetFault(halofake.OpImmediate, halofake.Fault{HTTP: 500})
	for i := 0; r.fake.Calls(halofake.OpImmediate) < 3; i++ {
		r.parts.Pull.Pull(context.Background(), "default")
		if i > 200 {
			t.Fatal("the circuit never let three calls through")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for range 50 {
		if _, err := r.parts.Pull.Pull(context.Background(), "default"); err == nil {
			t.Fatal("served during the storm")
		}
	}
	if n := r.fake.Calls(halofake.OpImmediate); n != 3 {
		t.Fatalf("%d calls to a failing site, want 3 then none while the circuit is open", n)
	}
	if h := r.health.of("conn:bestpractice/pull"); h.Code != pull.CodeServerError || h.Arg("next") == "" {
		t.Fatalf("health %+v", h)
	}
}

// Rows that cannot be appointments are skipped with a note naming them;
// the rest are served.
func TestBadRowsAreSkippedAndNamed(t *testing.T) {
	r := newRig(t, nil)
	now := time.Now().UTC()
	bad := row(2002, 8, now)
	bad["AppointmentDate"] = "2026-02-30T00:00:00"
	noID := row(0, 9, now)
	noID["AppointmentID"] = nil
	r.fake.SetRows([]map[string]any{row(2001, 7, now), bad, noID})
	orders, err := r.parts.Pull.Pull(context.Background(), "default")
	if err != nil || len(orders) != 1 || orders[0].PlacerNumber != "2001" {
		t.Fatalf("orders %+v, %v", orders, err)
	}
	h := r.health.of("conn:bestpractice/pull-rows")
	if h.Code != pull.CodeRowsSkipped || h.Arg("count") != "2" ||
		h.Arg("first") != `row 2 (appointment 2002): AppointmentDate "2026-02-30T00:00:00" is not a date; skipped` ||
		!strings.Contains(h.Detail, "row 3: no appointment ID") {
		t.Fatalf("rows health %+v", h)
	}
}

// 10,000 appointments in one answer: read within bounded memory (the
// decoded data is streamed, never held whole beside the orders) and time.
func TestTenThousandAppointments(t *testing.T) {
	r := newRig(t, func(c *halo.Config) { c.Timeout = config.Duration(30 * time.Second) })
	rows := make([]map[string]any, 10000)
	at := time.Now().UTC().Add(time.Hour)
	for i := range rows {
		rows[i] = row(100000+i, i+1, at)
	}
	r.fake.SetRows(rows)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	orders, err := r.parts.Pull.Pull(context.Background(), "default")
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil || len(orders) != 10000 {
		t.Fatalf("%d orders, %v", len(orders), err)
	}
	// Peak allocation is not measured by the heap in use after the call,
	// but TotalAlloc bounds everything allocated: body, rows and orders.
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("10,000 appointments read in %v, %.1f MB allocated", took, float64(alloc)/1e6)
	if alloc > 160<<20 {
		t.Fatalf("%.1f MB allocated for 10,000 appointments", float64(alloc)/1e6)
	}
}

func TestExampleValidates(t *testing.T) {
	p, _ := catalogue.Lookup("bestpractice")
	c := halo.Kind().Example(p, t.TempDir()).(*halo.Config)
	ck := config.NewChecker()
	c.Validate(ck.In("halo"))
	if err := ck.Err(); err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "https://api.haloconnect.io" || c.APIKey != "keyring:bestpractice-halo-api-key" {
		t.Fatalf("example %+v", c)
	}
}

func TestConfigValidation(t *testing.T) {
	c := &halo.Config{BaseURL: "http://halo.example.com", APIKey: "sk-plain", Appointments: halo.AppointmentsConfig{Query: "SELECT 1"}}
	c.ApplyDefaults()
	c.Results.CommandType = "batch"
	ck := config.NewChecker()
	c.Validate(ck.In("halo"))
	got := map[string]bool{}
	for _, p := range ck.Problems() {
		got[p.Key] = true
	}
	for _, k := range []string{"halo.baseURL", "halo.siteId", "halo.apiKey", "halo.appointments.query", "halo.results.commandType"} {
		if !got[k] {
			t.Errorf("%s not reported: %v", k, ck.Problems())
		}
	}
}

// TestBaseURLWithCredentialsRefused: a user and password in the base URL
// would sit in the config file and the support bundle.
func TestBaseURLWithCredentialsRefused(t *testing.T) {
	p, _ := catalogue.Lookup("bestpractice")
	c := halo.Kind().Example(p, t.TempDir()).(*halo.Config)
	c.BaseURL = "https://mesi:s3cret@api.haloconnect.io"
	ck := config.NewChecker()
	c.Validate(ck.In("halo"))
	ps := ck.Problems()
	if len(ps) != 1 || ps[0].Key != "halo.baseURL" || !strings.Contains(ps[0].Problem, "keyring") || strings.Contains(ps[0].Problem, "s3cret") {
		t.Fatalf("problems %v, want one under halo.baseURL pointing to the keyring", ps)
	}
}
