package pushjson

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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
	"github.com/mesi/mconnect/connectors/fakeehr"
	"github.com/mesi/mconnect/connectors/resultjson"
)

func repoFile(parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", ".."}, parts...)...)
}

func quiet() logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		mod  func(c *Config)
		want string // the keys with a problem, comma-separated
	}{
		{"example", func(*Config) {}, ""},
		{"no results URL", func(c *Config) { c.Results.URL = "" }, "join.results.url"},
		{"unknown placeholder", func(c *Config) { c.Results.URL = "https://x/{visit}/r" }, "join.results.url"},
		{"token URL not http", func(c *Config) { c.Results.TokenURL = "ftp://x/token" }, "join.results.tokenURL"},
		{"password in the results URL", func(c *Config) { c.Results.URL = "https://mesi:pw@ehr.example/{externalId}/results" }, "join.results.url"},
		{"API key in the results URL", func(c *Config) { c.Results.URL = "https://ehr.example/{externalId}/results?api_key=k1" }, "join.results.url"},
		{"token in the token URL", func(c *Config) { c.Results.TokenURL = "https://login.example/token?access_token=t" }, "join.results.tokenURL"},
		{"http results URL", func(c *Config) { c.Results.URL = "http://ehr.example/{externalId}/results" }, "join.results.url"},
		{"http token URL", func(c *Config) { c.Results.TokenURL = "http://login.example/token" }, "join.results.tokenURL"},
		{"http allowed explicitly", func(c *Config) {
			c.Results.URL, c.Results.TokenURL, c.Results.AllowInsecure = "http://ehr.example/{externalId}/results", "http://login.example/token", true
		}, ""},
		{"http on loopback", func(c *Config) { c.Results.URL = "http://127.0.0.1:9000/{externalId}/results" }, ""},
		{"a secret in the config", func(c *Config) { c.Results.ClientSecret = "s3cret" }, "join.results.clientSecret"},
		{"no client", func(c *Config) { c.Results.ClientID = " " }, "join.results.clientId"},
		{"bad scope", func(c *Config) { c.Results.Scopes = []string{"a b"} }, "join.results.scopes"},
		{"auth style", func(c *Config) { c.Results.AuthStyle = "jwt" }, "join.results.authStyle"},
		{"report", func(c *Config) { c.Results.Report = "link" }, "join.results.report"},
		{"token param the hub sets", func(c *Config) { c.Results.TokenParams = map[string]string{"scope": "x"} }, "join.results.tokenParams[scope]"},
		{"authorization header", func(c *Config) { c.Results.Headers = map[string]string{"authorization": "Bearer x"} }, "join.results.headers[authorization]"},
		{"api listen", func(c *Config) { c.API.Listen = "8444" }, "join.api.listen"},
		{"group map", func(c *Config) { c.GroupMap = map[string]string{"KARD": "nope"} }, "join.groupMap[KARD]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := example(catalogue.Profile{ID: "join"})
			tc.mod(c)
			c.ApplyDefaults()
			ck := config.NewChecker()
			c.Validate(ck.In("join"))
			var keys []string
			for _, p := range ck.Problems() {
				keys = append(keys, p.Key)
			}
			if strings.Join(keys, ",") != tc.want {
				t.Errorf("problems %v, want %s", ck.Problems(), tc.want)
			}
		})
	}
}

// ---- the outbound against the strict fake EHR ----

type healthLog struct {
	mu  sync.Mutex
	all []domain.Health
}

func (h *healthLog) Report(x domain.Health) {
	h.mu.Lock()
	h.all = append(h.all, x)
	h.mu.Unlock()
}

func (h *healthLog) last() domain.Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.all) == 0 {
		return domain.Health{}
	}
	return h.all[len(h.all)-1]
}

type rig struct {
	ehr    *fakeehr.EHR
	out    *Outbound
	health *healthLog
	pdf    []byte
	dir    string
}

func newRig(t *testing.T, mod func(o *fakeehr.Options, r *ResultsConfig)) *rig {
	t.Helper()
	fo := fakeehr.Options{ClientID: "mconnect-hub", ClientSecret: "ehr-secret-1", Scopes: []string{"results:write"},
		Audience: "https://api.join.test", SchemaFile: repoFile("docs", "result.schema.json"),
		ResultsPath: "/mesi/v1/appointments/{externalId}/results"}
	rc := ResultsConfig{ClientID: "mconnect-hub", ClientSecret: "env:X", Scopes: []string{"results:write"}, Audience: "https://api.join.test",
		Headers: map[string]string{"X-Api-Version": "2026-01"}}
	if mod != nil {
		mod(&fo, &rc)
	}
	ehr, err := fakeehr.Start(fo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ehr.Close)
	if rc.URL == "" {
		rc.URL = ehr.URL + "/mesi/v1/appointments/{externalId}/results"
	}
	if rc.TokenURL == "" {
		rc.TokenURL = ehr.TokenURL()
	}
	c := Config{Results: rc}
	c.ApplyDefaults()
	h := &healthLog{}
	out, err := NewOutbound(OutboundOptions{Name: "join", Results: c.Results, ClientSecret: "ehr-secret-1", HubID: "hub-test", Health: h, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{ehr: ehr, out: out, health: h, dir: t.TempDir()}
	r.pdf = append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("report bytes "), 200)...)
	return r
}

// outgoing is a stored result with its PDF, answering appointment APT-9.
func (r *rig) outgoing(t *testing.T, deliveryID int64) domain.Outgoing {
	t.Helper()
	path := filepath.Join(r.dir, "res_1.pdf")
	if err := os.WriteFile(path, r.pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(r.pdf)
	o := &domain.Order{ID: "ord_1", Connection: "join", PlacerNumber: "APT-9", Meta: map[string]string{"externalId": "APT-9"},
		Patient: domain.Patient{ID: "12345", Name: domain.PersonName{Given: "Ana", Family: "Novak"}, BirthDate: "1960-03-15", Sex: domain.SexFemale},
		Visit:   domain.Visit{Number: domain.Identifier{Value: "V-889"}}}
	return domain.Outgoing{
		Delivery: domain.Delivery{ID: deliveryID, ResultID: "res_1", Connection: "join"},
		Order:    o,
		Result: domain.Result{ID: "res_1", OrderID: "ord_1", DeviceID: "dev_7", Measurement: "ECG",
			PerformedAt: time.Date(2026, 3, 2, 9, 41, 12, 0, time.UTC), Operator: "nurse",
			Observations: []domain.Observation{{Code: "HR", Name: "Heart rate", Value: "72", Unit: "bpm", Low: "60", High: "100", Flag: "N"},
				{Code: "ABI_L", Value: "1.05"}},
			Interpretation: "Sinus rhythm.", Device: domain.DeviceInfo{Serial: "MT-1", Model: "mTABLET ECG"},
			Report: &domain.Attachment{Path: path, ContentType: "application/pdf", Size: int64(len(r.pdf)), SHA256: hex.EncodeToString(sum[:])}},
	}
}

// TestDeliverFieldByField: the EHR gets its token, the headers and the
// result JSON as documented, with the PDF's bytes; the token is reused.
func TestDeliverFieldByField(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	answer, err := r.out.Deliver(ctx, r.outgoing(t, 41))
	if err != nil {
		t.Fatalf("deliver: %v (refusals %q)", err, r.ehr.Refusals())
	}
	if !strings.HasPrefix(answer, "HTTP 201: ") || !strings.Contains(answer, "ehr-result-1") {
		t.Errorf("answer %q", answer)
	}
	got, err := r.ehr.Next(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	h := got.Header
	if !strings.HasPrefix(got.Token, "ehr-") || h.Get("Authorization") != "Bearer "+got.Token || h.Get("Content-Type") != "application/json" ||
		h.Get("Accept") != "application/json" || h.Get("Idempotency-Key") != "res_1.41" || h.Get("X-Api-Version") != "2026-01" ||
		h.Get("User-Agent") != "mCONNECT-Hub" || got.Path != "/mesi/v1/appointments/APT-9/results" {
		t.Errorf("request: path %s headers %v", got.Path, h)
	}
	d := got.Doc
	if d.Schema != resultjson.SchemaVersion || d.HubID != "hub-test" || d.ResultID != "res_1" || d.Measurement != "ECG" ||
		!d.PerformedAt.Equal(time.Date(2026, 3, 2, 9, 41, 12, 0, time.UTC)) || d.Operator != "nurse" || d.Interpretation != "Sinus rhythm." {
		t.Errorf("document: %+v", d)
	}
	if a := d.Appointment; a == nil || a.ID != "ord_1" || a.ExternalID != "APT-9" || a.PlacerNumber != "APT-9" || a.VisitNumber != "V-889" || a.Source != "join" {
		t.Errorf("appointment: %+v", d.Appointment)
	}
	if p := d.Patient; p.ID != "12345" || p.GivenName != "Ana" || p.FamilyName != "Novak" || p.BirthDate != "1960-03-15" || p.Sex != "female" {
		t.Errorf("patient: %+v", p)
	}
	if dv := d.Device; dv.TabletID != "dev_7" || dv.Serial != "MT-1" || dv.Model != "mTABLET ECG" {
		t.Errorf("device: %+v", dv)
	}
	if len(d.Observations) != 2 {
		t.Fatalf("observations: %+v", d.Observations)
	}
	if o := d.Observations[0]; o.Code != "8867-4" || o.System != resultjson.SystemLOINC || o.LocalCode != "HR" || o.Value != "72" ||
		o.Unit != "/min" || o.Low != "60" || o.High != "100" || o.Flag != "N" || o.Display != "Heart rate" {
		t.Errorf("HR: %+v", o)
	}
	if o := d.Observations[1]; o.Code != "ABI_L" || o.System != resultjson.SystemMESI || o.Value != "1.05" {
		t.Errorf("ABI_L: %+v", o)
	}
	if rep := d.Report; rep == nil || rep.ContentType != "application/pdf" || rep.Size != int64(len(r.pdf)) || !bytes.Equal(got.PDF, r.pdf) {
		t.Errorf("report: %+v, %d bytes", d.Report, len(got.PDF))
	}
	// A second result: the same token, no second token request.
	if _, err := r.out.Deliver(ctx, r.outgoing(t, 42)); err != nil {
		t.Fatal(err)
	}
	if n := r.ehr.TokenRequests.Load(); n != 1 {
		t.Errorf("%d token requests for two results", n)
	}
	if h := r.health.last(); h.Code != "delivering" || h.Component != "conn:join/results" {
		t.Errorf("health: %+v", h)
	}
}

// TestRetryOfOneDeliveryIsNotASecondResult: the same delivery sent again
// (after an ambiguous send) carries the same Idempotency-Key and the EHR
// stores it once.
func TestRetryOfOneDeliveryIsNotASecondResult(t *testing.T) {
	r := newRig(t, nil)
	out := r.outgoing(t, 7)
	for i := 0; i < 2; i++ {
		if _, err := r.out.Deliver(context.Background(), out); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if n := len(r.ehr.Received()); n != 1 {
		t.Errorf("the EHR stored %d results for one delivery sent twice", n)
	}
	if _, err := r.out.Deliver(context.Background(), r.outgoing(t, 8)); err != nil {
		t.Fatal(err)
	}
	if n := len(r.ehr.Received()); n != 2 {
		t.Errorf("another delivery: %d stored", n)
	}
}

// TestRefreshAndRetryOn401: a token the EHR stopped accepting is replaced
// and the result sent once more; a second 401 is permanent.
func TestRefreshAndRetryOn401(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	if _, err := r.out.Deliver(ctx, r.outgoing(t, 1)); err != nil {
		t.Fatal(err)
	}
	r.ehr.RevokeTokens()
	if _, err := r.out.Deliver(ctx, r.outgoing(t, 2)); err != nil {
		t.Fatalf("after revocation: %v (refusals %q)", err, r.ehr.Refusals())
	}
	if n := r.ehr.TokenRequests.Load(); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
	r.ehr.RevokeTokens()
	r.ehr.ForceStatus(http.StatusUnauthorized)
	_, err := r.out.Deliver(ctx, r.outgoing(t, 3))
	if !domain.IsPermanent(err) || !strings.Contains(domain.AnswerOf(err), "HTTP 401") {
		t.Errorf("401 after a new token: %v", err)
	}
	if n := r.ehr.ResultRequests.Load(); n != 5 {
		t.Errorf("%d result requests, want 5 (1, 2 for the refresh, 2 for the second)", n)
	}
}

// TestClassification: which answers are retried.
func TestClassification(t *testing.T) {
	tests := []struct {
		status    int
		permanent bool
	}{
		{400, true}, {403, true}, {404, true}, {422, true},
		{408, false}, {409, false}, {429, false}, {500, false}, {502, false}, {503, false},
	}
	r := newRig(t, nil)
	for i, tc := range tests {
		r.ehr.ForceStatus(tc.status)
		_, err := r.out.Deliver(context.Background(), r.outgoing(t, int64(100+i)))
		if err == nil || domain.IsPermanent(err) != tc.permanent || !strings.Contains(domain.AnswerOf(err), "HTTP ") {
			t.Errorf("%d: %v (permanent %v)", tc.status, err, domain.IsPermanent(err))
		}
	}
	// A report that vanished from the data folder needs a person.
	out := r.outgoing(t, 200)
	os.Remove(out.Result.Report.Path)
	if _, err := r.out.Deliver(context.Background(), out); !domain.IsPermanent(err) {
		t.Errorf("missing report: %v", err)
	}
	// A results URL naming {externalId} for a result without an appointment.
	out = r.outgoing(t, 201)
	out.Order = nil
	out.Result.Report = nil
	if _, err := r.out.Deliver(context.Background(), out); !domain.IsPermanent(err) || !strings.Contains(err.Error(), "{externalId}") {
		t.Errorf("no external ID for the URL: %v", err)
	}
}

// TestTokenURLDown: deliveries are retried and the health turns amber
// naming the cause; wrong credentials turn it red; a token again clears it.
func TestTokenURLDown(t *testing.T) {
	r := newRig(t, nil)
	r.ehr.TokenDown.Store(true)
	_, err := r.out.Deliver(context.Background(), r.outgoing(t, 1))
	if err == nil || domain.IsPermanent(err) || !strings.Contains(err.Error(), "no token") {
		t.Fatalf("token URL down: %v", err)
	}
	h := r.health.last()
	if h.Code != "token-unavailable" || h.Severity != domain.SeverityWarning || h.Args["url"] != r.ehr.TokenURL() || !strings.Contains(h.Detail, "EOF") {
		t.Errorf("health: %+v", h)
	}
	r.ehr.TokenDown.Store(false)
	if _, err := r.out.Deliver(context.Background(), r.outgoing(t, 1)); err != nil {
		t.Fatalf("token URL back: %v", err)
	}
	if h := r.health.last(); h.Code != "delivering" || h.Severity != domain.SeverityOK || h.LastError == "" {
		t.Errorf("health after recovery: %+v", h)
	}

	bad := newRig(t, func(o *fakeehr.Options, _ *ResultsConfig) { o.ClientSecret = "another" })
	_, err = bad.out.Deliver(context.Background(), bad.outgoing(t, 1))
	if err == nil || domain.IsPermanent(err) || !strings.Contains(domain.AnswerOf(err), "invalid_client") {
		t.Errorf("wrong secret: %v", err)
	}
	if h := bad.health.last(); h.Code != "token-refused" || h.Severity != domain.SeverityError || h.Args["status"] != "401" {
		t.Errorf("health: %+v", h)
	}
}

// TestAuthStyleAndReference: client_secret_post and a result by reference
// (no PDF bytes), to a results URL without placeholders.
func TestAuthStyleAndReference(t *testing.T) {
	r := newRig(t, func(o *fakeehr.Options, rc *ResultsConfig) {
		o.AuthStyle, rc.AuthStyle = "post", "post"
		o.ResultsPath = "/results"
		rc.Report = "reference"
		o.Audience, rc.Audience = "", ""
	})
	r.out.opts.Results.URL = r.ehr.URL + "/results"
	if _, err := r.out.Deliver(context.Background(), r.outgoing(t, 1)); err != nil {
		t.Fatalf("%v (refusals %q)", err, r.ehr.Refusals())
	}
	got, _ := r.ehr.Next(time.Second)
	if got.Doc.Report == nil || got.Doc.Report.Base64 != "" || got.Doc.Report.Size != int64(len(r.pdf)) {
		t.Errorf("report by reference: %+v", got.Doc.Report)
	}
}

// TestTimeout: an EHR that does not answer within the timeout is retried.
func TestTimeout(t *testing.T) {
	r := newRig(t, nil)
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { <-block }))
	defer slow.Close()
	defer close(block)
	r.out.opts.Results.URL = slow.URL + "/r"
	r.out.opts.Results.Timeout = config.Duration(300 * time.Millisecond)
	_, err := r.out.Deliver(context.Background(), r.outgoing(t, 1))
	if err == nil || domain.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v", err)
	}
}

// TestCheckToken: Test connection gets a token, or says why not.
func TestCheckToken(t *testing.T) {
	r := newRig(t, nil)
	res := r.out.CheckToken(context.Background())
	if !res.OK || res.Code != "token-issued" || res.Args["url"] != r.ehr.TokenURL() || res.Args["expires"] == "" {
		t.Errorf("check: %+v", res)
	}
	bad := newRig(t, func(o *fakeehr.Options, _ *ResultsConfig) { o.Scopes = []string{"other"} })
	if res := bad.out.CheckToken(context.Background()); res.OK || res.Code != "auth-refused" || res.Args["status"] != "400" {
		t.Errorf("refused: %+v", res)
	}
	r.ehr.TokenDown.Store(true)
	if res := r.out.CheckToken(context.Background()); res.OK || res.Code != "unreachable" {
		t.Errorf("down: %+v", res)
	}
}

// TestBuildNeedsTheHubsStore: without the hub's store the connection is
// not built, and the error names the section.
func TestBuildNeedsTheHubsStore(t *testing.T) {
	c := example(catalogue.Profile{ID: "join"})
	env := connector.Env{Name: "join", Orders: sinkWithoutStore{}, Secret: func(string, string) (string, error) { return "s", nil }}
	_, err := JoinKind().Build(env, c)
	var ke *config.KeyError
	if !errors.As(err, &ke) || ke.Key != "join" {
		t.Errorf("build: %v", err)
	}
}

type sinkWithoutStore struct{}

func (sinkWithoutStore) AcceptOrder(context.Context, domain.Order) (domain.Accepted, error) {
	return domain.Accepted{}, nil
}
