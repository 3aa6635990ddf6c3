package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mconfig "github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	mhub "github.com/mesi/mconnect/app/hub"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/connectors/fakeehr"
	"github.com/mesi/mconnect/connectors/integration"
	"github.com/mesi/mconnect/connectors/pushjson"
	"github.com/mesi/mconnect/connectors/registry"
	"github.com/mesi/mconnect/connectors/resultjson"
	"github.com/mesi/mconnect/device/sim"
)

// secretMap resolves the secret references of a test config.
type secretMap map[string]string

func (m secretMap) Resolve(ref string) (string, error) {
	if v, ok := m[ref]; ok {
		return v, nil
	}
	return "", fmt.Errorf("no secret %s", ref)
}

// pushProfile is one pushing EHR as the test drives it.
type pushProfile struct {
	ehr  string
	kind connector.Kind
	// external: the EHR's identity provider issues the Integration API's
	// tokens; else the hub's own token endpoint does.
	external  bool
	authStyle string
	path      string // the EHR's results path
}

// TestIntegrationAPIProfiles drives Join (tokens from the EHR's identity
// provider, JWKS) and ZipLaneRx (tokens from the hub's token endpoint with
// a client registered in the hub) through a real hub: the EHR gets a token,
// PUTs an appointment, a tablet takes it and measures, and the EHR receives
// the result with its own token, the headers and the body as documented,
// the PDF byte for byte; GET then shows the appointment done and the result
// delivered. With the EHR's token URL down, the delivery waits and the
// health turns amber naming the cause, then the result arrives.
func TestIntegrationAPIProfiles(t *testing.T) {
	for _, p := range []pushProfile{
		{ehr: "join", kind: pushjson.JoinKind(), external: true, authStyle: "basic", path: "/mesi/v1/appointments/{externalId}/results"},
		{ehr: "ziplanerx", kind: pushjson.ZipLaneRxKind(), authStyle: "post", path: "/api/results"},
	} {
		t.Run(p.ehr, func(t *testing.T) { runPushProfile(t, p) })
	}
}

func runPushProfile(t *testing.T, p pushProfile) {
	ctx := context.Background()
	ehr, err := fakeehr.Start(fakeehr.Options{ClientID: "mconnect-hub", ClientSecret: "results-secret-" + p.ehr, AuthStyle: p.authStyle,
		Scopes: []string{"results:write", "patients:read"}, Audience: "https://api." + p.ehr + ".test", ResultsPath: p.path,
		SchemaFile: filepath.Join("..", "docs", "result.schema.json"), IDPIssuer: "https://login." + p.ehr + ".test", IDPAudience: "api://mconnect-hub"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ehr.Close)

	reg := registry.Default.With(p.kind)
	dir := t.TempDir()
	cfg, err := reg.Example(p.ehr, filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Device.Listen = loopback(freePort(t))
	cfg.Delivery.InitialBackoff = mconfig.Duration(200 * time.Millisecond)
	cfg.Delivery.MaxBackoff = mconfig.Duration(time.Second)
	cfg.Groups = []mconfig.GroupConfig{{ID: "cardiology", Name: "Cardiology"}}
	sec := mconfig.SectionOf[*pushjson.Config](cfg, p.ehr)
	sec.API.Listen = loopback(freePort(t))
	sec.Results.URL = ehr.URL + p.path
	sec.Results.TokenURL = ehr.TokenURL()
	sec.Results.Scopes = []string{"results:write", "patients:read"}
	sec.Results.Audience = "https://api." + p.ehr + ".test"
	sec.Results.AuthStyle = p.authStyle
	sec.Results.ClientSecret = "env:RESULTS_SECRET"
	sec.GroupMap = map[string]string{"KARD": "cardiology"}
	if p.external {
		sec.API.Auth = integration.AuthConfig{Mode: integration.ModeExternal, Issuer: "https://login." + p.ehr + ".test",
			Audience: "api://mconnect-hub", JWKSURL: ehr.JWKSURL()}
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(reg); err != nil {
		t.Fatalf("config: %v", err)
	}
	logf, err := os.Create(filepath.Join(dir, "hub.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("hub log:\n%s", b)
		}
	})
	h, err := mhub.New(cfg, mhub.Options{Registry: reg, Secrets: secretMap{"env:RESULTS_SECRET": "results-secret-" + p.ehr}, LogStderr: logf})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { h.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; h.Close() })
	waitListening(t, "Integration API", sec.API.Listen)
	waitListening(t, "tablet endpoint", cfg.Device.Listen)

	// The EHR's side: a client pinned to the hub's certificate.
	fp := h.Fingerprint()
	base := "https://" + sec.API.Listen + integration.Prefix
	var push *fakeehr.Pusher
	if p.external {
		push = ehr.ExternalPusher(base, fakeehr.PinnedClient(fp), p.ehr+"-backend")
	} else {
		creds, err := integration.AddClient(ctx, h.Store(), p.ehr, p.ehr+" e2e", "e2e")
		if err != nil {
			t.Fatal(err)
		}
		push = fakeehr.BuiltinPusher(base, fakeehr.PinnedClient(fp), creds.ClientID, creds.ClientSecret, integration.ScopeWrite)
	}
	tok, err := push.Token(ctx)
	if err != nil || strings.Count(tok, ".") != 2 {
		t.Fatalf("the EHR's token for the Integration API: %q %v", tok, err)
	}

	// A tablet of the cardiology group.
	pair, err := h.NewPairingCode(ctx, "cardiology")
	if err != nil {
		t.Fatal(err)
	}
	tab, err := sim.NewClient("https://"+cfg.Device.Listen, fp, "")
	if err != nil {
		t.Fatal(err)
	}
	paired, err := tab.Pair(ctx, sim.PairRequest{Code: pair.Code, Serial: "MT-000123", Model: "mTABLET ECG"})
	if err != nil {
		t.Fatal(err)
	}

	ext := "APT-" + strings.ToUpper(p.ehr) + "-1"
	appt := map[string]any{
		"patient":     map[string]any{"id": "P-4711", "firstName": "Ana", "lastName": "Novak", "birthDate": "1960-03-15", "gender": "female"},
		"measurement": "ECG",
		"tabletGroup": "KARD",
		"scheduledAt": "2026-03-02T09:30:00+01:00",
		"visitIds":    []any{map[string]any{"value": "V-889", "system": "urn:" + p.ehr + ":encounter"}},
		"fields":      map[string]any{"room": "3", "referrer": "Dr. Kovač"},
	}
	a, err := push.Put(ctx, ext, appt)
	if err != nil || a.Status != http.StatusCreated {
		t.Fatalf("PUT: %d %s %v", a.Status, a.Body, err)
	}
	var st integration.AppointmentState
	if err := a.Decode(&st); err != nil || st.State != "scheduled" || st.TabletGroup != "cardiology" {
		t.Fatalf("PUT answer: %+v %v", st, err)
	}
	if a, _ := push.Put(ctx, ext, appt); a.Status != http.StatusOK {
		t.Errorf("the same PUT again: %d %s", a.Status, a.Body)
	}

	// The tablet sees it with every field.
	wl, _, _, err := tab.Worklist(ctx, "", 0)
	if err != nil || len(wl.Appointments) != 1 {
		t.Fatalf("worklist: %+v %v", wl, err)
	}
	seen, err := tab.Appointment(ctx, wl.Appointments[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if seen.ID != st.AppointmentID || seen.Source != p.ehr || seen.PlacerNumber != ext || seen.Measurement != "ECG" ||
		seen.Patient.ID != "P-4711" || seen.Patient.Name.Family != "Novak" || seen.Patient.Name.Given != "Ana" ||
		seen.Patient.BirthDate != "1960-03-15" || seen.Patient.Sex != "F" || seen.Visit.Number.Value != "V-889" {
		t.Errorf("the tablet's appointment: %+v", seen)
	}
	fields := map[string]string{}
	for _, f := range seen.Fields {
		fields[f.Key] = f.Value
	}
	if fields["fields.room"] != "3" || fields["fields.referrer"] != "Dr. Kovač" || fields["externalId"] != ext {
		t.Errorf("the tablet's fields: %+v", seen.Fields)
	}

	// It measures; the EHR receives the result.
	tablet := &sim.Tablet{Client: tab, Serial: "MT-000123", Model: "mTABLET ECG", Operator: "nurse Eva"}
	if n, err := tablet.Once(ctx); err != nil || n != 1 {
		t.Fatalf("tablet: %d %v", n, err)
	}
	resultID := tablet.Uploaded()[st.AppointmentID]
	got, err := ehr.Next(deadline)
	if err != nil {
		t.Fatal(err)
	}
	checkPushedResult(t, h, p, got, resultID, ext, paired.DeviceID)

	// GET tells the EHR the appointment is done and the result delivered.
	poll(t, "GET shows the delivery", func() error {
		a, err := push.Get(ctx, ext)
		if err != nil {
			return err
		}
		var s integration.AppointmentState
		if err := a.Decode(&s); err != nil {
			return err
		}
		if s.State != "done" || len(s.Results) != 1 || s.Results[0].ResultID != resultID || s.Results[0].Delivery == nil ||
			s.Results[0].Delivery.State != "delivered" {
			return fmt.Errorf("state %+v", s)
		}
		return nil
	})

	// The EHR's token URL goes down (and its tokens are revoked): the next
	// delivery waits, the health turns amber naming the cause, and the
	// result arrives once the token URL is back.
	ehr.TokenDown.Store(true)
	ehr.RevokeTokens()
	ext2 := "APT-" + strings.ToUpper(p.ehr) + "-2"
	if a, err := push.Put(ctx, ext2, appt); err != nil || a.Status != http.StatusCreated {
		t.Fatalf("second PUT: %d %v", a.Status, err)
	}
	if n, err := tablet.Once(ctx); err != nil || n != 1 {
		t.Fatalf("tablet, second: %d %v", n, err)
	}
	poll(t, "health amber with the cause", func() error {
		var results, outbox domain.Health
		for _, hh := range h.Health() {
			switch hh.Component {
			case "conn:" + p.ehr + "/results":
				results = hh
			case "conn:" + p.ehr + "/outbox":
				outbox = hh
			}
		}
		if results.Code != "token-unavailable" || results.Severity != domain.SeverityWarning || results.Args["url"] != ehr.TokenURL() || results.Detail == "" {
			return fmt.Errorf("results health %+v", results)
		}
		if outbox.Severity != domain.SeverityWarning || !strings.Contains(outbox.Detail, "no token") {
			return fmt.Errorf("outbox health %+v", outbox)
		}
		return nil
	})
	if n := len(ehr.Received()); n != 1 {
		t.Fatalf("%d results arrived while the token URL was down", n)
	}
	ehr.TokenDown.Store(false)
	second, err := ehr.Next(deadline)
	if err != nil {
		t.Fatal(err)
	}
	if second.Doc.Appointment == nil || second.Doc.Appointment.ExternalID != ext2 {
		t.Errorf("second result: %+v", second.Doc.Appointment)
	}
	poll(t, "health green again", func() error {
		for _, hh := range h.Health() {
			if hh.Component == "conn:"+p.ehr+"/results" && (hh.Code != "delivering" || hh.Severity != domain.SeverityOK) {
				return fmt.Errorf("results health %+v", hh)
			}
		}
		return nil
	})
	// Test connection gets a token from the EHR's token URL.
	outs, err := h.TestConnection(ctx, p.ehr)
	if err != nil || len(outs) != 2 || !outs[0].Result.OK || !outs[1].Result.OK || outs[1].Result.Code != "token-issued" {
		t.Errorf("Test connection: %+v %v", outs, err)
	}
	// Cancelling an appointment takes it off the tablet's worklist.
	ext3 := "APT-" + strings.ToUpper(p.ehr) + "-3"
	push.Put(ctx, ext3, appt)
	if a, err := push.Delete(ctx, ext3); err != nil || a.Status != http.StatusOK {
		t.Fatalf("DELETE: %d %v", a.Status, err)
	}
	if wl, _, _, err := tab.Worklist(ctx, "", 0); err != nil || len(wl.Appointments) != 0 {
		t.Errorf("worklist after DELETE: %+v %v", wl.Appointments, err)
	}
}

// checkPushedResult asserts the result as the EHR received it, field by
// field, against what the hub stored.
func checkPushedResult(t *testing.T, h *mhub.Hub, p pushProfile, got fakeehr.Received, resultID, ext, deviceID string) {
	t.Helper()
	ctx := context.Background()
	stored, err := h.Store().Result(ctx, resultID)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := h.Store().Deliveries(ctx, store.DeliveryFilter{ResultID: resultID, Connection: p.ehr})
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries: %v %v", ds, err)
	}
	hd := got.Header
	if !strings.HasPrefix(got.Token, "ehr-") || hd.Get("Authorization") != "Bearer "+got.Token {
		t.Errorf("token %q, Authorization %q", got.Token, hd.Get("Authorization"))
	}
	if hd.Get("Content-Type") != "application/json" || hd.Get("Accept") != "application/json" ||
		hd.Get("Idempotency-Key") != pushjson.IdempotencyKey(ds[0]) || hd.Get("User-Agent") != "mCONNECT-Hub" {
		t.Errorf("headers: %v", hd)
	}
	wantPath := strings.ReplaceAll(p.path, "{externalId}", ext)
	if got.Path != wantPath {
		t.Errorf("path %s, want %s", got.Path, wantPath)
	}
	d := got.Doc
	if d.Schema != resultjson.SchemaVersion || d.HubID != h.HubID() || d.ResultID != resultID || d.Measurement != "ECG" ||
		!d.PerformedAt.Equal(stored.PerformedAt.UTC()) || d.Operator != "nurse Eva" {
		t.Errorf("document: %+v", d)
	}
	if ap := d.Appointment; ap == nil || ap.ID != stored.OrderID || ap.ExternalID != ext || ap.PlacerNumber != ext || ap.VisitNumber != "V-889" || ap.Source != p.ehr {
		t.Errorf("appointment: %+v", d.Appointment)
	}
	if pt := d.Patient; pt.ID != "P-4711" || pt.GivenName != "Ana" || pt.FamilyName != "Novak" || pt.BirthDate != "1960-03-15" || pt.Sex != "female" {
		t.Errorf("patient: %+v", pt)
	}
	if dv := d.Device; dv.TabletID != deviceID || dv.Serial != stored.Device.Serial || dv.Model != stored.Device.Model {
		t.Errorf("device: %+v, stored %+v", dv, stored.Device)
	}
	if len(d.Observations) != simObservations["ECG"] || len(d.Observations) != len(stored.Observations) {
		t.Fatalf("%d observations, stored %d", len(d.Observations), len(stored.Observations))
	}
	for i, o := range d.Observations {
		so := stored.Observations[i]
		local := o.Code
		if o.System == resultjson.SystemLOINC {
			local = o.LocalCode
		}
		if local != so.Code || o.Value != so.Value || o.Low != so.Low || o.High != so.High || o.Flag != so.Flag {
			t.Errorf("observation %d: %+v, stored %+v", i, o, so)
		}
	}
	if hr := d.Observations[0]; hr.LocalCode != "HR" || hr.Code != "8867-4" || hr.Unit != "/min" {
		t.Errorf("heart rate: %+v", hr)
	}
	pdf, err := os.ReadFile(filepath.Join(h.DataDir(), "reports", resultID+".pdf"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(pdf)
	if rep := d.Report; rep == nil || rep.ContentType != "application/pdf" || rep.Size != int64(len(pdf)) || rep.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("report: %+v", d.Report)
	}
	checkPDF(t, got.PDF, pdf)
}
