package leyr_test

import (
	"bytes"
	"context"
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
	"github.com/mesi/mconnect/connectors/leyr"
	"github.com/mesi/mconnect/connectors/leyr/leyrfake"
	"github.com/mesi/mconnect/connectors/pull"
)

const (
	clientID = "mesi-client-7"
	secret   = "lsk_live_5f4e3d2c1b0a99887766554433221100"
	patient  = "se_personal_number:191212121212"
)

type healthLog struct {
	mu   sync.Mutex
	last map[string]domain.Health
	text strings.Builder
}

func (h *healthLog) Report(x domain.Health) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil {
		h.last = map[string]domain.Health{}
	}
	h.last[x.Component] = x
	fmt.Fprintf(&h.text, "%+v\n", x)
}

func (h *healthLog) of(c string) domain.Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last[c]
}

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

type rig struct {
	fake   *leyrfake.Fake
	parts  connector.Parts
	health *healthLog
	log    *lockedBuffer
	dir    string
}

func fakeOptions() leyrfake.Options {
	return leyrfake.Options{EMR: "webdoc", CareUnit: "cu-42", ClientID: clientID, Secret: secret}
}

func newRig(t *testing.T, fo leyrfake.Options, edit func(*leyr.Config)) *rig {
	t.Helper()
	r := &rig{fake: leyrfake.New(t, fo), health: &healthLog{}, log: &lockedBuffer{}, dir: t.TempDir()}
	c := &leyr.Config{BaseURL: r.fake.BaseURL(), EMR: "webdoc", CareUnitID: "cu-42", ClientID: clientID, ClientSecret: "env:LEYR_SECRET"}
	c.TimeZone = "Europe/Stockholm"
	c.Timeout = config.Duration(2 * time.Second)
	c.GroupMap = map[string]string{}
	c.MeasurementMap = map[string]string{"hs-ecg": "ECG"}
	c.ApplyDefaults()
	if edit != nil {
		edit(c)
	}
	ck := config.NewChecker()
	c.Validate(ck.In("leyr"))
	if err := ck.Err(); err != nil {
		t.Fatalf("config: %v", err)
	}
	os.WriteFile(filepath.Join(r.dir, "hub-id"), []byte("hub-feedfacecafebeef\n"), 0o600)
	l := logrus.New()
	l.SetOutput(r.log)
	l.SetLevel(logrus.DebugLevel)
	parts, err := leyr.Kind().Build(connector.Env{Name: "webdoc", Profile: catalogue.Profile{ID: "webdoc", Name: "Webdoc"},
		DataDir: r.dir, TempDir: r.dir, Health: r.health, Log: l,
		Secret: func(key, ref string) (string, error) {
			if key != "leyr.clientSecret" || ref != "env:LEYR_SECRET" {
				return "", fmt.Errorf("unknown secret %s %s", key, ref)
			}
			return secret, nil
		}}, c)
	if err != nil {
		t.Fatal(err)
	}
	r.parts = parts
	return r
}

func (r *rig) noViolations(t *testing.T) {
	t.Helper()
	if v := r.fake.Violations(); len(v) > 0 {
		t.Fatalf("the fake saw requests Leyr would refuse:\n%s", strings.Join(v, "\n"))
	}
}

func (r *rig) noSecrets(t *testing.T, errs ...error) {
	t.Helper()
	r.health.mu.Lock()
	h := r.health.text.String()
	r.health.mu.Unlock()
	for _, s := range []string{h, r.log.String()} {
		if strings.Contains(s, secret) {
			t.Fatalf("the client secret leaked into health or the log:\n%s", s)
		}
	}
	for _, err := range errs {
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Fatalf("the client secret leaked into an error: %v", err)
		}
	}
}

func (r *rig) seed(n int, at time.Time) {
	var list []leyrfake.Appointment
	for i := range n {
		pid := patient
		if i > 0 {
			pid = fmt.Sprintf("se_personal_number:19%010d", i)
		}
		r.fake.AddPatient(leyrfake.Patient{ID: pid, FirstName: "Tolvan", LastName: "Tolvansson", BirthDate: "1912-12-12", Gender: "male",
			Address: &leyrfake.Address{Street: "Storgatan 1", PostalCode: "111 22", City: "Stockholm", Country: "SE"}})
		list = append(list, leyrfake.Appointment{ID: fmt.Sprintf("apt-%d", i+1), Start: at.Format(time.RFC3339), End: at.Add(30 * time.Minute).Format(time.RFC3339),
			PatientID: pid, ResourceID: "hsa_id:SE2321000016-1003", HealthcareServiceID: "hs-ecg", Status: "booked", Comment: "Fasting"})
	}
	r.fake.AddResource(leyrfake.Resource{ID: "hsa_id:SE2321000016-1003", FirstName: "Karin", LastName: "Lind", Title: "Dr"})
	r.fake.SetAppointments(list)
}

func TestAppointmentsWithDetails(t *testing.T) {
	r := newRig(t, fakeOptions(), func(c *leyr.Config) { c.MinInterval = config.Duration(time.Second) })
	at := time.Now().Add(time.Hour).Truncate(time.Second)
	r.seed(1, at)
	orders, err := r.parts.Pull.Pull(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	r.noViolations(t)
	if len(orders) != 1 {
		t.Fatalf("%d orders", len(orders))
	}
	o := orders[0]
	p := o.Patient
	if o.PlacerNumber != "apt-1" || o.Visit.Number.Value != "apt-1" || p.ID != patient || p.IDs[0].Type != "se_personal_number" ||
		p.Name.Given != "Tolvan" || p.Name.Family != "Tolvansson" || p.BirthDate != "1912-12-12" || p.Sex != domain.SexMale ||
		p.Address.Street != "Storgatan 1" || p.Address.PostalCode != "111 22" || p.Address.City != "Stockholm" ||
		o.OrderingProvider.ID != "hsa_id:SE2321000016-1003" || o.OrderingProvider.Name.Given != "Karin" || o.OrderingProvider.Name.Family != "Lind" ||
		o.Measurement != "ECG" || o.ServiceCode != "hs-ecg" || !o.ScheduledAt.Equal(at) || o.OrderStatus != "booked" {
		t.Fatalf("order %+v", o)
	}
	var list leyrfake.Request
	for _, q := range r.fake.Requests() {
		if strings.HasSuffix(q.Path, "/appointments") {
			list = q
		}
		if q.Header.Get("x-leyr-client-id") != clientID || q.Header.Get("x-leyr-client-secret") != secret {
			t.Fatalf("request %s without the credentials", q.Path)
		}
	}
	from, _ := time.Parse(time.RFC3339, list.Query.Get("from"))
	to, _ := time.Parse(time.RFC3339, list.Query.Get("to"))
	if list.Path != "/api/emrs/webdoc/care-units/cu-42/appointments" ||
		from.Sub(time.Now().Add(-2*time.Hour)).Abs() > time.Minute || to.Sub(time.Now().Add(12*time.Hour)).Abs() > time.Minute {
		t.Fatalf("list request %s %v", list.Path, list.Query)
	}
	// Details are cached across pulls: the next pull reads the list only.
	time.Sleep(1100 * time.Millisecond) // past minInterval
	if _, err := r.parts.Pull.Pull(context.Background(), "default"); err != nil {
		t.Fatal(err)
	}
	if a, p, res := r.fake.Calls(leyrfake.OpAppointments), r.fake.Calls(leyrfake.OpPatient), r.fake.Calls(leyrfake.OpResource); a != 2 || p != 1 || res != 1 {
		t.Fatalf("%d list, %d patient, %d resource reads; want 2, 1, 1", a, p, res)
	}
	r.noSecrets(t)
}

// A cancelled appointment leaves the worklist (an order with action
// cancel); an appointment of an unknown patient is served by ID with a note.
func TestCancelledAndUnknownPatient(t *testing.T) {
	r := newRig(t, fakeOptions(), nil)
	at := time.Now().Add(time.Hour)
	r.seed(1, at)
	r.fake.SetAppointments([]leyrfake.Appointment{
		{ID: "apt-1", Start: at.Format(time.RFC3339), PatientID: patient, ResourceID: "hsa_id:SE2321000016-1003", Status: "cancelled"},
		{ID: "apt-2", Start: at.Format(time.RFC3339), PatientID: "se_personal_number:200001011234", ResourceID: "hsa_id:SE2321000016-1003", Status: "booked"},
		{ID: "apt-3", Start: "2026-02-30T10:00:00+01:00", PatientID: patient, Status: "booked"},
		{ID: "", Start: at.Format(time.RFC3339), PatientID: patient, Status: "booked"},
	})
	orders, err := r.parts.Pull.Pull(context.Background(), "default")
	if err != nil || len(orders) != 2 {
		t.Fatalf("orders %+v, %v", orders, err)
	}
	if orders[0].Action != domain.ActionCancel || orders[1].Patient.ID != "se_personal_number:200001011234" || orders[1].Patient.BirthDate != "2000-01-01" {
		t.Fatalf("orders %+v", orders)
	}
	h := r.health.of("conn:webdoc/pull-rows")
	if h.Code != pull.CodeRowsSkipped || h.Arg("count") != "3" ||
		!strings.Contains(h.Detail, `row 3 (appointment apt-3): start "2026-02-30T10:00:00+01:00" is not a date and time; skipped`) ||
		!strings.Contains(h.Detail, "row 4: no appointment ID; skipped") ||
		!strings.Contains(h.Detail, "row 2 (appointment apt-2): patient se_personal_number:200001011234 could not be read; shown by ID only") {
		t.Fatalf("rows health %+v", h)
	}
}

func TestAppointmentFaults(t *testing.T) {
	tests := []struct {
		name string
		opts func(*leyrfake.Options)
		edit func(*leyr.Config)
		set  func(*leyrfake.Fake)
		code string
		kind pull.Kind
	}{
		{"wrong secret", func(o *leyrfake.Options) { o.Secret = "another" }, nil, nil, pull.CodeAuthRefused, pull.KindAuth},
		{"forbidden", nil, nil, func(f *leyrfake.Fake) {
			f.SetFault(leyrfake.OpAppointments, leyrfake.Fault{HTTP: 403, Detail: "The client has no access to this care unit."})
		}, pull.CodeAuthRefused, pull.KindAuth},
		{"unknown care unit", nil, func(c *leyr.Config) { c.CareUnitID = "cu-0" }, nil, leyr.CodeCareUnitNotFound, pull.KindRefused},
		{"500", nil, nil, func(f *leyrfake.Fake) {
			f.SetFault(leyrfake.OpAppointments, leyrfake.Fault{HTTP: 500, Detail: "upstream EMR error"})
		},
			pull.CodeServerError, pull.KindUnavailable},
		{"malformed JSON", nil, nil, func(f *leyrfake.Fake) { f.SetRaw([]byte(`[{"id": "apt-1", "start": `)) }, pull.CodeBadAnswer, pull.KindBadAnswer},
		{"not an array", nil, nil, func(f *leyrfake.Fake) { f.SetRaw([]byte(`{"items": 3}`)) }, pull.CodeBadAnswer, pull.KindBadAnswer},
		{"timeout", nil, func(c *leyr.Config) { c.Timeout = config.Duration(time.Second) }, func(f *leyrfake.Fake) {
			f.SetFault(leyrfake.OpAppointments, leyrfake.Fault{Delay: 3 * time.Second})
		}, pull.CodeTimeout, pull.KindTimeout},
		{"over maxAnswerMB", nil, func(c *leyr.Config) { c.MaxAnswerMB = 1 }, func(f *leyrfake.Fake) {
			f.SetRaw([]byte("[" + strings.Repeat(`{"id":"x","start":"2026-03-02T10:00:00Z","patient_id":"p","comment":"`+strings.Repeat("x", 900)+`"},`, 1500) + "{}]"))
		}, pull.CodeTooLarge, pull.KindRefused},
		{"patient lookup refused", nil, nil, func(f *leyrfake.Fake) {
			f.SetFault(leyrfake.OpPatient, leyrfake.Fault{HTTP: 401, Detail: "token revoked"})
		}, pull.CodeAuthRefused, pull.KindAuth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fo := fakeOptions()
			if tc.opts != nil {
				tc.opts(&fo)
			}
			r := newRig(t, fo, tc.edit)
			r.seed(1, time.Now().Add(time.Hour))
			if tc.set != nil {
				tc.set(r.fake)
			}
			_, err := r.parts.Pull.Pull(context.Background(), "default")
			var e *pull.Error
			if !errors.As(err, &e) || e.Code != tc.code || e.Kind != tc.kind {
				t.Fatalf("err %v, want %s %s", err, tc.kind, tc.code)
			}
			h := r.health.of("conn:webdoc/pull")
			if h.Code != tc.code || h.Detail == "" {
				t.Fatalf("health %+v", h)
			}
			if tc.kind == pull.KindAuth && h.Arg("credential") != "Leyr client ID and secret (leyr.clientId, leyr.clientSecret)" {
				t.Fatalf("health does not name the credential: %+v", h)
			}
			r.noSecrets(t, err)
			if tc.kind == pull.KindAuth {
				n := len(r.fake.Requests())
				for range 5 {
					r.parts.Pull.Pull(context.Background(), "default")
				}
				if m := len(r.fake.Requests()); m != n {
					t.Fatalf("%d more requests with refused credentials", m-n)
				}
			}
		})
	}
}

func TestTenThousandAppointments(t *testing.T) {
	r := newRig(t, fakeOptions(), func(c *leyr.Config) { c.Timeout = config.Duration(60 * time.Second); c.Appointments.Concurrency = 8 })
	r.seed(10000, time.Now().Add(time.Hour))
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
	t.Logf("10,000 appointments with 10,000 patients read in %v, %.1f MB allocated", took, float64(after.TotalAlloc-before.TotalAlloc)/1e6)
	if n := r.fake.Calls(leyrfake.OpPatient); n != 10000 {
		t.Fatalf("%d patient reads, want one each", n)
	}
}

func TestExampleValidates(t *testing.T) {
	for _, id := range []string{"webdoc", "vena"} {
		p, _ := catalogue.Lookup(id)
		c := leyr.Kind().Example(p, t.TempDir()).(*leyr.Config)
		ck := config.NewChecker()
		c.Validate(ck.In("leyr"))
		if err := ck.Err(); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if c.EMR != id || c.BaseURL != "https://api.leyr.io/api" || c.ClientSecret != "keyring:"+id+"-leyr-client-secret" {
			t.Fatalf("%s example %+v", id, c)
		}
	}
}

// TestBaseURLWithCredentialsRefused: a user and password in the base URL
// would sit in the config file and the support bundle.
func TestBaseURLWithCredentialsRefused(t *testing.T) {
	p, _ := catalogue.Lookup("webdoc")
	c := leyr.Kind().Example(p, t.TempDir()).(*leyr.Config)
	c.BaseURL = "https://mesi:s3cret@api.leyr.io/api"
	ck := config.NewChecker()
	c.Validate(ck.In("leyr"))
	ps := ck.Problems()
	if len(ps) != 1 || ps[0].Key != "leyr.baseURL" || !strings.Contains(ps[0].Problem, "keyring") || strings.Contains(ps[0].Problem, "s3cret") {
		t.Fatalf("problems %v, want one under leyr.baseURL pointing to the keyring", ps)
	}
}
