package e2e_test

// The cloud EHRs the hub asks for appointments (catalogue 3.1 Best
// Practice through HALO Connect, 3.10 Vena and 3.11 Webdoc through Leyr),
// end to end: a real hub (in this process, or a child process that is
// killed) with the connectors in its registry, each against its strict
// fake on loopback, and a simulated tablet on the LAN API.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appconfig "github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	apphub "github.com/mesi/mconnect/app/hub"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/connectors/halo"
	"github.com/mesi/mconnect/connectors/halo/halofake"
	"github.com/mesi/mconnect/connectors/leyr"
	"github.com/mesi/mconnect/connectors/leyr/leyrfake"
	"github.com/mesi/mconnect/connectors/registry"
	"github.com/mesi/mconnect/device"
	"github.com/mesi/mconnect/device/sim"
)

const (
	haloSite   = "7d3f0a52-1c1e-4a8e-b1f0-6a3b2c9d4e5f"
	haloKey    = "sk-e2e-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	leyrID     = "mesi-e2e"
	leyrSecret = "lsk_e2e_5f4e3d2c1b0a99887766554433221100"
	swede      = "se_personal_number:191212121212"
	karin      = "hsa_id:SE2321000016-1003"
)

func cloudRegistry() *registry.Registry {
	return registry.Default.With(halo.Kind()).With(leyr.Kind())
}

// cloudSecrets resolves the env: references of the tests' configs.
type cloudSecrets map[string]string

func (s cloudSecrets) Resolve(ref string) (string, error) {
	v, ok := s[strings.TrimPrefix(ref, "env:")]
	if !ok {
		return "", fmt.Errorf("secret %q is not set", ref)
	}
	return v, nil
}

var testSecrets = cloudSecrets{"E2E_HALO_KEY": haloKey, "E2E_LEYR_SECRET": leyrSecret}

// `mconnect config example --ehr bestpractice|vena|webdoc` with the kinds
// registered: each example is complete and valid as written.
func TestCloudConfigExamples(t *testing.T) {
	reg := cloudRegistry()
	for _, ehr := range []string{"bestpractice", "vena", "webdoc"} {
		c, err := reg.Example(ehr, t.TempDir())
		if err != nil {
			t.Fatalf("%s: %v", ehr, err)
		}
		b, err := c.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := appconfig.Parse(b, reg); err != nil {
			t.Fatalf("%s: the example does not validate: %v\n%s", ehr, err, b)
		}
		if strings.Contains(string(b), haloKey) || !strings.Contains(string(b), "keyring:") {
			t.Fatalf("%s: the example holds no secret reference:\n%s", ehr, b)
		}
	}
}

// cloudConfig is the profile's example with the fake's address, short
// intervals and a free tablet port.
func cloudConfig(t *testing.T, ehr, dir string, edit func(*appconfig.Config)) *appconfig.Config {
	t.Helper()
	reg := cloudRegistry()
	c, err := reg.Example(ehr, filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	c.Device.Listen = loopback(freePort(t))
	c.Delivery.InitialBackoff = appconfig.Duration(200 * time.Millisecond)
	c.Delivery.MaxBackoff = appconfig.Duration(time.Second)
	c.Log.Level = "info"
	edit(c)
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if c, err = appconfig.Parse(b, reg); err != nil {
		t.Fatalf("config: %v", err)
	}
	return c
}

func haloEdit(f *halofake.Fake) func(*appconfig.Config) {
	return func(c *appconfig.Config) {
		h := appconfig.SectionOf[*halo.Config](c, halo.Section)
		h.BaseURL, h.SiteID, h.APIKey, h.Catalogue = f.URL(), haloSite, "env:E2E_HALO_KEY", "BPSPatients"
		h.TimeZone = "UTC"
		h.MinInterval = appconfig.Duration(time.Second)
		h.PollInterval = appconfig.Duration(5 * time.Second)
		h.Results.PollMax = appconfig.Duration(200 * time.Millisecond)
		h.MeasurementMap = map[string]string{"ECG": "ECG"}
	}
}

func leyrEdit(f *leyrfake.Fake, emr string) func(*appconfig.Config) {
	return func(c *appconfig.Config) {
		c.Groups = []appconfig.GroupConfig{{ID: "cardio", Name: "Cardiology"}}
		l := appconfig.SectionOf[*leyr.Config](c, leyr.Section)
		l.BaseURL, l.EMR, l.CareUnitID, l.ClientID, l.ClientSecret = f.BaseURL(), emr, "cu-42", leyrID, "env:E2E_LEYR_SECRET"
		l.TimeZone = "Europe/Stockholm"
		l.MinInterval = appconfig.Duration(time.Second)
		l.PollInterval = appconfig.Duration(5 * time.Second)
		l.GroupMap = map[string]string{"hs-ecg": "cardio"}
		l.MeasurementMap = map[string]string{"hs-ecg": "ECG"}
	}
}

func newHALOFake(t *testing.T) *halofake.Fake {
	return halofake.New(t, halofake.Options{SiteID: haloSite, Key: haloKey, Catalogue: "BPSPatients",
		Query: halo.DefaultQuery, Command: halo.DefaultCommand})
}

func newLeyrFake(t *testing.T, emr string) *leyrfake.Fake {
	f := leyrfake.New(t, leyrfake.Options{EMR: emr, CareUnit: "cu-42", ClientID: leyrID, Secret: leyrSecret})
	f.AddPatient(leyrfake.Patient{ID: swede, FirstName: "Tolvan", LastName: "Tolvansson", BirthDate: "1912-12-12", Gender: "male",
		Address: &leyrfake.Address{Street: "Storgatan 1", PostalCode: "111 22", City: "Stockholm", Country: "SE"}})
	f.AddResource(leyrfake.Resource{ID: karin, FirstName: "Karin", LastName: "Lind", Title: "Dr"})
	return f
}

// bpRow is a Bp Premier appointment an hour from now.
func bpRow(at time.Time) map[string]any {
	return map[string]any{"AppointmentID": 1001, "InternalID": 7, "Firstname": "Ana", "Surname": "Novak",
		"DOB": "1961-07-14T00:00:00", "Sex": "Female", "Status": "Booked",
		"AppointmentDate": at.Format("2006-01-02") + "T00:00:00", "AppointmentTime": at.Hour()*3600 + at.Minute()*60,
		"Provider": "Dr Frederick Findacure", "AppointmentType": "ECG"}
}

func leyrAppointment(at time.Time) leyrfake.Appointment {
	return leyrfake.Appointment{ID: "apt-77", Start: at.Format(time.RFC3339), End: at.Add(30 * time.Minute).Format(time.RFC3339),
		PatientID: swede, ResourceID: karin, HealthcareServiceID: "hs-ecg", Status: "booked", Comment: "Fasting"}
}

// inProcessHub runs a hub in this process until the test ends.
type inProcessHub struct {
	h   *apphub.Hub
	cfg *appconfig.Config
	log *bytes.Buffer
}

func runCloudHub(t *testing.T, c *appconfig.Config) *inProcessHub {
	t.Helper()
	ih := &inProcessHub{cfg: c, log: &bytes.Buffer{}}
	var mu sync.Mutex
	h, err := apphub.New(c, apphub.Options{Registry: cloudRegistry(), Secrets: testSecrets, LogStderr: lockedWriter{&mu, ih.log}})
	if err != nil {
		t.Fatal(err)
	}
	ih.h = h
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		h.Close()
		mu.Lock()
		defer mu.Unlock()
		if t.Failed() {
			t.Logf("hub log:\n%s", ih.log)
		}
		if strings.Contains(ih.log.String(), haloKey) || strings.Contains(ih.log.String(), leyrSecret) {
			t.Error("a secret is in the hub's log")
		}
	})
	return ih
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// pairTablet pairs a simulated tablet into group with a code from the hub.
func pairTablet(t *testing.T, listen, code, fp string) *sim.Client {
	t.Helper()
	cl, err := sim.NewClient("https://"+listen, fp, "")
	if err != nil {
		t.Fatal(err)
	}
	poll(t, "tablet endpoint up", func() error {
		_, err := cl.Health(context.Background())
		return err
	})
	if _, err := cl.Pair(context.Background(), sim.PairRequest{Code: code, Serial: "MT-E2E-1", Name: "Tablet 1", Model: "mTABLET ECG"}); err != nil {
		t.Fatal(err)
	}
	return cl
}

func (ih *inProcessHub) tablet(t *testing.T, group string) *sim.Client {
	t.Helper()
	p, err := ih.h.NewPairingCode(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	return pairTablet(t, ih.cfg.Device.Listen, p.Code, p.Fingerprint)
}

// oneAppointment waits for a worklist of exactly one appointment.
func oneAppointment(t *testing.T, cl *sim.Client) (device.Worklist, device.Appointment) {
	t.Helper()
	var wl device.Worklist
	poll(t, "one appointment on the tablet", func() error {
		var err error
		wl, _, _, err = cl.Worklist(context.Background(), "", 0)
		if err != nil {
			return err
		}
		if len(wl.Appointments) != 1 {
			return fmt.Errorf("%d appointments", len(wl.Appointments))
		}
		return nil
	})
	a, err := cl.Appointment(context.Background(), wl.Appointments[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return wl, a
}

// measure starts the appointment and uploads an ECG with its PDF; it
// returns the result's ID, the result as sent and the PDF.
func measure(t *testing.T, cl *sim.Client, a device.Appointment) (string, sim.Result, []byte) {
	t.Helper()
	ctx := context.Background()
	if _, err := cl.Start(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	r, err := sim.Measure("ECG", rand.New(rand.NewPCG(1, 2)), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r.AppointmentID, r.Operator = a.ID, "Nurse Ana"
	r.Device = map[string]any{"serial": "MT-E2E-1", "model": "mTABLET ECG"}
	pdf, err := sim.ReportPDF(r, &a, "MT-E2E-1")
	if err != nil {
		t.Fatal(err)
	}
	id, err := cl.Upload(ctx, r, pdf, "e2e-"+a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return id, r, pdf
}

func fieldOf(a device.Appointment, key string) string {
	for _, f := range a.Fields {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

func waitEmpty(t *testing.T, cl *sim.Client) {
	t.Helper()
	poll(t, "worklist empty (order done)", func() error {
		wl, _, _, err := cl.Worklist(context.Background(), "", 0)
		if err != nil {
			return err
		}
		if n := len(wl.Appointments); n != 0 {
			return fmt.Errorf("%d appointments, first %s", n, wl.Appointments[0].State)
		}
		return nil
	})
}

// Best Practice: the tablet sees the Bp Premier appointment with the
// catalogue's fields, marked stale while HALO's site is offline; its
// result reaches HALO as one async nonQuery command with the result JSON
// and the PDF, byte for byte.
func TestBestPracticeThroughHALO(t *testing.T) {
	f := newHALOFake(t)
	at := time.Now().UTC().Add(time.Hour).Truncate(time.Minute)
	f.SetRows([]map[string]any{bpRow(at)})
	ih := runCloudHub(t, cloudConfig(t, "bestpractice", t.TempDir(), haloEdit(f)))
	cl := ih.tablet(t, "default")
	wl, a := oneAppointment(t, cl)
	p := a.Patient
	// Catalogue 3.1: patient ID, name, surname, date of birth, gender, status.
	if wl.Stale || p.ID != "7" || p.Name.Given != "Ana" || p.Name.Family != "Novak" || p.BirthDate != "1961-07-14" ||
		p.Sex != "F" || a.OrderStatus != "Booked" || fieldOf(a, "Status") != "Booked" || a.PlacerNumber != "1001" ||
		a.Measurement != "ECG" || !a.ScheduledAt.Equal(at) || a.Source != "bestpractice" {
		t.Fatalf("appointment %+v (stale %v)", a, wl.Stale)
	}

	// The site goes offline: the stored worklist at once, marked stale.
	f.SetFault(halofake.OpImmediate, halofake.Fault{HTTP: 503, Message: "Site could not be contacted"})
	poll(t, "stale worklist", func() error {
		wl, _, _, err := cl.Worklist(context.Background(), "", 0)
		if err != nil {
			return err
		}
		if !wl.Stale || len(wl.Appointments) != 1 || wl.StaleSince.IsZero() {
			return fmt.Errorf("stale %v, %d appointments", wl.Stale, len(wl.Appointments))
		}
		return nil
	})
	if h := healthOf(ih.h, "conn:bestpractice/pull"); h.Code != halo.CodeSiteOffline {
		t.Fatalf("health %+v, want site-offline", h)
	}
	f.SetFault(halofake.OpImmediate, halofake.Fault{})
	poll(t, "fresh worklist", func() error {
		wl, _, _, err := cl.Worklist(context.Background(), "", 0)
		if err != nil {
			return err
		}
		if wl.Stale {
			return fmt.Errorf("still stale")
		}
		return nil
	})

	rid, sent, pdf := measure(t, cl, a)
	poll(t, "result written through HALO", func() error {
		if n := len(f.Written()); n != 1 {
			return fmt.Errorf("%d written", n)
		}
		return nil
	})
	waitEmpty(t, cl)
	if v := f.Violations(); len(v) > 0 {
		t.Fatalf("HALO would refuse:\n%s", strings.Join(v, "\n"))
	}
	w := f.Written()[0]
	if w.ResultID != rid || w.AppointmentID != "1001" || w.PatientID != "7" || w.PDFType != "VarBinary" || !bytes.Equal(w.PDF, pdf) {
		t.Fatalf("written %+v (PDF %d bytes, want %d)", w, len(w.PDF), len(pdf))
	}
	var doc struct {
		Schema, HubID, ResultID, Measurement, Operator string
		PerformedAt                                    time.Time
		Appointment                                    struct{ ID, ExternalID, PlacerNumber, VisitNumber, Source string }
		Patient                                        struct{ ID, GivenName, FamilyName, BirthDate, Sex string }
		Device                                         struct{ TabletID, Serial, Model string }
		Observations                                   []struct{ Code, System, LocalCode, Value, Unit string }
		Report                                         struct {
			ContentType, SHA256 string
			Size                int
		}
	}
	if err := json.Unmarshal(w.ResultJSON, &doc); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(pdf)
	if doc.Schema != "mesi-result/1" || doc.HubID != ih.h.HubID() || doc.ResultID != rid || doc.Measurement != "ECG" ||
		doc.Operator != "Nurse Ana" || !doc.PerformedAt.Equal(sent.PerformedAt) ||
		doc.Appointment.ID != a.ID || doc.Appointment.ExternalID != "1001" || doc.Appointment.VisitNumber != "1001" ||
		doc.Patient.ID != "7" || doc.Patient.GivenName != "Ana" || doc.Patient.FamilyName != "Novak" ||
		doc.Patient.BirthDate != "1961-07-14" || doc.Patient.Sex != "female" || doc.Device.Serial != "MT-E2E-1" ||
		len(doc.Observations) != len(sent.Observations) || doc.Report.Size != len(pdf) || doc.Report.SHA256 != hex.EncodeToString(sum[:]) ||
		doc.Report.ContentType != "application/pdf" {
		t.Fatalf("result JSON %s", w.ResultJSON)
	}
	for i, o := range doc.Observations {
		if o.LocalCode != sent.Observations[i].Code && o.Code != sent.Observations[i].Code {
			t.Errorf("observation %d %+v for %+v", i, o, sent.Observations[i])
		}
		if o.Code == "8867-4" && (o.System != "http://loinc.org" || o.Unit != "/min") {
			t.Errorf("heart rate %+v", o)
		}
	}
	var asyncs, reads int
	for _, q := range f.Requests() {
		switch {
		case strings.HasSuffix(q.Path, "/queries/async"):
			asyncs++
		case strings.HasSuffix(q.Path, "/queries/"+w.QueryID):
			reads++
		}
		if q.Header.Get("Ocp-Apim-Subscription-Key") != haloKey {
			t.Fatalf("%s %s without the key", q.Method, q.Path)
		}
	}
	if asyncs != 1 || reads < 1 {
		t.Fatalf("%d async submissions, %d status reads; want one submission", asyncs, reads)
	}
}

func healthOf(h *apphub.Hub, comp string) domain.Health {
	for _, x := range h.Health() {
		if x.Component == comp {
			return x
		}
	}
	return domain.Health{}
}

// Vena and Webdoc: the tablet of the mapped group sees the appointment
// with the catalogue's fields (patient with address, practitioner, visit
// ID, group, measurement); its result reaches Leyr as a medical note and
// the PDF as the patient's document.
func TestVenaAndWebdocThroughLeyr(t *testing.T) {
	for _, tc := range []struct{ ehr, emr string }{{"webdoc", "webdoc"}, {"vena", "vena-emr"}} {
		t.Run(tc.ehr, func(t *testing.T) {
			f := newLeyrFake(t, tc.emr)
			at := time.Now().Add(time.Hour).Truncate(time.Minute)
			f.SetAppointments([]leyrfake.Appointment{leyrAppointment(at)})
			ih := runCloudHub(t, cloudConfig(t, tc.ehr, t.TempDir(), leyrEdit(f, tc.emr)))
			cl := ih.tablet(t, "cardio")
			wl, a := oneAppointment(t, cl)
			p := a.Patient
			// Catalogue 3.10/3.11: patient ID, name, surname, date of birth,
			// address, practitioner name/surname, gender, visit unique
			// identifiers, tablet group, measurement.
			if wl.Group != "cardio" || a.Group != "cardio" || a.Measurement != "ECG" || p.ID != swede || p.Name.Given != "Tolvan" ||
				p.Name.Family != "Tolvansson" || p.BirthDate != "1912-12-12" || p.Sex != "M" || p.Address.Street != "Storgatan 1" ||
				p.Address.PostalCode != "111 22" || p.Address.City != "Stockholm" || a.OrderingProvider.Name.Given != "Karin" ||
				a.OrderingProvider.Name.Family != "Lind" || a.Visit.Number.Value != "apt-77" || a.PlacerNumber != "apt-77" ||
				!a.ScheduledAt.Equal(at) || fieldOf(a, "comment") != "Fasting" {
				t.Fatalf("appointment %+v", a)
			}
			rid, _, pdf := measure(t, cl, a)
			poll(t, "note and document in the EHR", func() error {
				if n, d := len(f.Notes()), len(f.Documents()); n != 1 || d != 1 {
					return fmt.Errorf("%d notes, %d documents", n, d)
				}
				return nil
			})
			waitEmpty(t, cl)
			if v := f.Violations(); len(v) > 0 {
				t.Fatalf("Leyr would refuse:\n%s", strings.Join(v, "\n"))
			}
			n, d := f.Notes()[0], f.Documents()[0]
			if n.PatientID != swede || n.TemplateID != "leyr_unstructured" || n.CreatedByID != karin || !strings.HasPrefix(n.Title, "MESI mTABLET ECG ") ||
				!strings.Contains(n.Content, "Result "+rid) || !strings.Contains(n.Content, "Heart rate") {
				t.Fatalf("note %+v", n)
			}
			if d.PatientID != swede || d.MimeType != "application/pdf" || d.FileName != rid+".pdf" || d.MedicalNoteID != n.ID || !bytes.Equal(d.Bytes, pdf) {
				t.Fatalf("document %+v (%d bytes, want %d)", d, len(d.Bytes), len(pdf))
			}
			for _, q := range f.Requests() {
				if q.Header.Get("x-leyr-client-id") != leyrID || q.Header.Get("x-leyr-client-secret") != leyrSecret {
					t.Fatalf("%s %s without the credentials", q.Method, q.Path)
				}
				if !strings.HasPrefix(q.Path, "/api/emrs/"+tc.emr+"/care-units/cu-42/") {
					t.Fatalf("path %s", q.Path)
				}
			}
		})
	}
}

// childHub is cloudhub (e2e/testdata/cloudhub) serving a config in a child
// process, killed with SIGKILL and restarted.
type childHub struct {
	t    *testing.T
	bin  string
	cfg  string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

var (
	cloudhubOnce sync.Once
	cloudhubBin  string
	cloudhubErr  error
)

func buildCloudhub(t *testing.T) string {
	cloudhubOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cloudhub-")
		if err != nil {
			cloudhubErr = err
			return
		}
		cloudhubBin = filepath.Join(dir, "cloudhub")
		out, err := exec.Command("go", "build", "-o", cloudhubBin, "./testdata/cloudhub").CombinedOutput()
		if err != nil {
			cloudhubErr = fmt.Errorf("build cloudhub: %v\n%s", err, out)
		}
	})
	if cloudhubErr != nil {
		t.Fatal(cloudhubErr)
	}
	return cloudhubBin
}

func startChild(t *testing.T, c *appconfig.Config, pair bool) (*childHub, string, string) {
	t.Helper()
	dir := filepath.Dir(c.Hub.DataDir)
	path := filepath.Join(dir, "appconfig.json")
	if err := c.Save(path, cloudRegistry()); err != nil {
		t.Fatal(err)
	}
	ch := &childHub{t: t, bin: buildCloudhub(t), cfg: path, log: filepath.Join(dir, "cloudhub.log")}
	t.Cleanup(func() {
		ch.kill()
		if t.Failed() {
			b, _ := os.ReadFile(ch.log)
			t.Logf("cloudhub output:\n%s", b)
		}
		b, _ := os.ReadFile(ch.log)
		if bytes.Contains(b, []byte(haloKey)) || bytes.Contains(b, []byte(leyrSecret)) {
			t.Error("a secret is in the hub's log")
		}
	})
	code, fp := ch.start(pair)
	return ch, code, fp
}

// start runs the child; with pair it returns the pairing code it printed.
func (ch *childHub) start(pair bool) (code, fp string) {
	t := ch.t
	t.Helper()
	f, err := os.OpenFile(ch.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ch.bin, ch.cfg)
	cmd.Env = append(os.Environ(), "E2E_HALO_KEY="+haloKey, "E2E_LEYR_SECRET="+leyrSecret)
	if pair {
		cmd.Env = append(cmd.Env, "CLOUDHUB_PAIR=1")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch.cmd, ch.done = cmd, make(chan struct{})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			fmt.Fprintln(f, sc.Text())
			if strings.HasPrefix(sc.Text(), "PAIR ") {
				lines <- sc.Text()
			}
		}
	}()
	go func() { cmd.Wait(); f.Close(); close(ch.done) }()
	if !pair {
		return "", ""
	}
	select {
	case l := <-lines:
		parts := strings.Fields(l)
		return parts[1], parts[2]
	case <-ch.done:
		t.Fatal("cloudhub exited before it was ready")
	case <-time.After(deadline):
		t.Fatal("cloudhub printed no pairing code")
	}
	return "", ""
}

func (ch *childHub) kill() {
	if ch.cmd == nil {
		return
	}
	_ = ch.cmd.Process.Signal(syscall.SIGKILL)
	<-ch.done
	ch.cmd = nil
}

// deliveries reads the deliveries of the (stopped) hub's database.
func deliveries(t *testing.T, c *appconfig.Config) []domain.Delivery {
	t.Helper()
	st, err := store.Open(filepath.Join(c.Hub.DataDir, "mconnect.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ds, err := st.Deliveries(context.Background(), store.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// SIGKILL while the hub reads the status of the HALO query that carries
// a result: after the restart it reads the same query's outcome, writes
// nothing twice, and the result is delivered.
func TestHALOKillDuringDelivery(t *testing.T) {
	f := newHALOFake(t)
	f.SetRows([]map[string]any{bpRow(time.Now().UTC().Add(time.Hour))})
	f.Hold(true)
	c := cloudConfig(t, "bestpractice", t.TempDir(), haloEdit(f))
	ch, code, fp := startChild(t, c, true)
	cl := pairTablet(t, c.Device.Listen, code, fp)
	_, a := oneAppointment(t, cl)
	rid, _, pdf := measure(t, cl, a)
	poll(t, "query submitted and its status read", func() error {
		if len(f.Submitted()) != 1 || f.Calls(halofake.OpStatus) < 2 {
			return fmt.Errorf("%d submitted, %d status reads", len(f.Submitted()), f.Calls(halofake.OpStatus))
		}
		return nil
	})
	ch.kill()
	if ds := deliveries(t, c); len(ds) != 1 || ds[0].State != domain.DeliveryInflight {
		t.Fatalf("after the kill: %+v, want the delivery in flight", ds)
	}
	if p := progressOf(t, c); p != (domain.Progress{Step: "halo-query:" + f.Submitted()[0], Resumable: true}) {
		t.Fatalf("recorded progress %+v, want the submitted query", p)
	}
	f.Hold(false)
	ch.start(false)
	poll(t, "written after the restart", func() error {
		if n := len(f.Written()); n != 1 {
			return fmt.Errorf("%d written", n)
		}
		return nil
	})
	waitEmpty(t, cl)
	ch.kill()
	if n := len(f.Submitted()); n != 1 {
		t.Fatalf("%d queries submitted; the result was written twice", n)
	}
	if w := f.Written()[0]; w.ResultID != rid || !bytes.Equal(w.PDF, pdf) {
		t.Fatalf("written %s with %d PDF bytes", w.ResultID, len(w.PDF))
	}
	ds := deliveries(t, c)
	if len(ds) != 1 || ds[0].State != domain.DeliveryDelivered {
		t.Fatalf("deliveries %+v", ds)
	}
}

// SIGKILL while the PDF goes to Leyr (the note is filed): whether Leyr got
// the document is unknown, so the restarted hub holds the delivery for a
// person instead of sending anything again; the person's resend sends the
// document only.
func TestLeyrKillDuringDelivery(t *testing.T) {
	f := newLeyrFake(t, "webdoc")
	f.SetAppointments([]leyrfake.Appointment{leyrAppointment(time.Now().Add(time.Hour))})
	f.SetFault(leyrfake.OpDocument, leyrfake.Fault{Delay: 10 * time.Minute, Times: 1})
	c := cloudConfig(t, "webdoc", t.TempDir(), leyrEdit(f, "webdoc"))
	c.Groups = nil
	appconfig.SectionOf[*leyr.Config](c, leyr.Section).GroupMap = nil
	ch, code, fp := startChild(t, c, true)
	cl := pairTablet(t, c.Device.Listen, code, fp)
	_, a := oneAppointment(t, cl)
	_, _, pdf := measure(t, cl, a)
	poll(t, "note filed, document under way", func() error {
		if len(f.Notes()) != 1 || f.Calls(leyrfake.OpDocument) != 1 {
			return fmt.Errorf("%d notes, %d document calls", len(f.Notes()), f.Calls(leyrfake.OpDocument))
		}
		return nil
	})
	ch.kill()
	if p := progressOf(t, c); p != (domain.Progress{Step: "leyr-note:" + f.Notes()[0].ID}) {
		t.Fatalf("recorded progress %+v, want the filed note", p)
	}
	ch.start(false)
	// The restarted hub runs: the delivery is held (ambiguous), not sent.
	var held domain.Delivery
	poll(t, "delivery held for a person", func() error {
		if err := onlyDelivery(c, &held); err != nil {
			return err
		}
		if held.State != domain.DeliveryAmbiguous {
			return fmt.Errorf("delivery %s", held.State)
		}
		return nil
	})
	ch.kill()
	if n, d := len(f.Notes()), len(f.Documents()); n != 1 || d != 0 {
		t.Fatalf("%d notes, %d documents while held", n, d)
	}
	st, err := store.Open(filepath.Join(c.Hub.DataDir, "mconnect.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ResendDelivery(context.Background(), held.ID, "dashboard:ana", "checked Webdoc: the report is missing"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	ch.start(false)
	poll(t, "document sent after the resend", func() error {
		if d := len(f.Documents()); d != 1 {
			return fmt.Errorf("%d documents", d)
		}
		return nil
	})
	waitEmpty(t, cl)
	ch.kill()
	if n, d := f.Notes(), f.Documents(); len(n) != 1 || len(d) != 1 || d[0].MedicalNoteID != n[0].ID || !bytes.Equal(d[0].Bytes, pdf) {
		t.Fatalf("%d notes, %d documents; want the one note and its document", len(n), len(d))
	}
	if c := f.Calls(leyrfake.OpNote); c != 1 {
		t.Fatalf("%d note calls: the note was created twice", c)
	}
}

// progressOf reads the recorded progress of the (stopped) hub's one delivery.
func progressOf(t *testing.T, c *appconfig.Config) domain.Progress {
	t.Helper()
	ds := deliveries(t, c)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries", len(ds))
	}
	st, err := store.Open(filepath.Join(c.Hub.DataDir, "mconnect.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := st.DeliveryProgress(context.Background(), ds[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// onlyDelivery reads the one delivery from the running hub's database
// (SQLite in WAL mode lets a reader in beside the hub).
func onlyDelivery(c *appconfig.Config, d *domain.Delivery) error {
	st, err := store.Open(filepath.Join(c.Hub.DataDir, "mconnect.db"), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	ds, err := st.Deliveries(context.Background(), store.DeliveryFilter{})
	if err != nil {
		return err
	}
	if len(ds) != 1 {
		return fmt.Errorf("%d deliveries", len(ds))
	}
	*d = ds[0]
	return nil
}
