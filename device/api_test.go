package device

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/app/tlscert"
	"github.com/mesi/mconnect/internal/testfs"
)

// clock is a settable clock for Options.Now.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }

// TestEveryRouteDocumented checks that the server serves exactly the
// operations docs/lan-api.yaml documents.
func TestEveryRouteDocumented(t *testing.T) {
	e := newEnv(t, nil)
	_ = e
	served := map[string]bool{}
	for _, rt := range e.srv.routeTable() {
		k := rt.method + " " + rt.path
		served[k] = true
		pi := specDoc.Paths.Find(rt.path)
		if pi == nil || pi.GetOperation(rt.method) == nil {
			t.Errorf("%s is served but not documented in docs/lan-api.yaml", k)
			continue
		}
		op := pi.GetOperation(rt.method)
		documentedOpen := op.Security != nil && len(*op.Security) == 0
		if documentedOpen == rt.auth {
			t.Errorf("%s: served with auth=%v but the spec says open=%v", k, rt.auth, documentedOpen)
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

// TestSpecCoverage drives every documented response of every operation and
// lets the spec-checking transport validate each request and response.
func TestSpecCoverage(t *testing.T) {
	var clk clock
	e := newEnv(t, func(o *Options) {
		o.MaxJSONBytes = 4096
		o.MaxReportBytes = 64 << 10
		o.Now = clk.now
		o.PairingLockout = LockoutOptions{MaxTries: 3, For: time.Minute}
		o.WorklistCacheTTL = -1 // the injected worklist failure must not be answered from a cached read
	})
	ctx := context.Background()
	pdf := testPDF(t)
	big := strings.Repeat("x", 5000)

	// health and pairing
	e.do(http.MethodGet, "/health", "", nil, "", nil, nil)
	tab := e.pair(domain.DefaultGroupID, "S1")
	e.postJSON("/pairings", "", `{"code":`, nil)
	e.postJSON("/pairings", "", map[string]string{"code": "123456", "serial": big}, nil)
	e.do(http.MethodPost, "/pairings", "", strings.NewReader("code=1"), "text/plain", nil, nil)
	e.postJSON("/pairings", "", map[string]string{"code": "123456"}, nil)
	e.fs.fail.Store(true)
	code, _, _ := NewPairingCode(ctx, e.st, time.Minute, "")
	e.postJSON("/pairings", "", map[string]string{"code": code, "serial": "S2"}, nil)
	e.fs.fail.Store(false)
	for i := 0; i < 3; i++ {
		e.postJSON("/pairings", "", map[string]string{"code": "000000", "serial": "S3"}, nil)
	}
	clk.advance(2 * time.Minute)

	// worklist
	id := e.addOrder(domain.DefaultGroupID, "A1")
	resp := e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, nil)
	e.do(http.MethodGet, "/worklist", tab.Token, nil, "", map[string]string{"If-None-Match": resp.Header.Get("ETag")}, nil)
	e.do(http.MethodGet, "/worklist?wait=soon", tab.Token, nil, "", nil, nil)
	e.do(http.MethodGet, "/worklist", "", nil, "", nil, nil)
	e.hub.failWorklist.Store(true)
	e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, nil)
	e.hub.failWorklist.Store(false)

	// one appointment, start
	for _, p := range []string{"/appointments/" + id, "/appointments/" + id + "/start"} {
		m := http.MethodGet
		if strings.HasSuffix(p, "/start") {
			m = http.MethodPost
		}
		e.do(m, p, tab.Token, nil, "", nil, nil)
		e.do(m, p, "", nil, "", nil, nil)
		e.do(m, strings.Replace(p, id, "ord_missing", 1), tab.Token, nil, "", nil, nil)
		e.fs.fail.Store(true)
		e.do(m, p, tab.Token, nil, "", nil, nil)
		e.fs.fail.Store(false)
	}
	closed := e.addOrder(domain.DefaultGroupID, "A2")
	if _, err := e.st.SetOrderState(ctx, closed, domain.OrderCancelled, "", ""); err != nil {
		t.Fatal(err)
	}
	e.do(http.MethodPost, "/appointments/"+closed+"/start", tab.Token, nil, "", nil, nil)

	// results
	ok := []part{{"result", "application/json", resultJSON(id)}, {"report", "application/pdf", pdf}}
	e.upload(tab.Token, "k1", ok...)
	e.upload(tab.Token, "", ok...)
	e.upload("", "k2", ok...)
	e.upload(tab.Token, "k3", part{"result", "application/json", resultJSON(id)}, part{"report", "application/pdf", append([]byte("%PDF-"), make([]byte, 100<<10)...)})
	e.do(http.MethodPost, "/results", tab.Token, strings.NewReader("{}"), "application/json", map[string]string{"Idempotency-Key": "k4"}, nil)
	e.upload(tab.Token, "k5", part{"result", "application/json", resultJSON(id)})
	e.hub.failAccept.Store(true)
	e.upload(tab.Token, "k6", ok...)
	e.hub.failAccept.Store(false)

	// heartbeat
	e.postJSON("/heartbeat", tab.Token, map[string]any{"battery": 80, "appVersion": "2.1", "ip": "10.0.0.7"}, nil)
	e.postJSON("/heartbeat", tab.Token, `{"battery":`, nil)
	e.postJSON("/heartbeat", "", map[string]any{"battery": 80}, nil)
	e.postJSON("/heartbeat", tab.Token, map[string]any{"appVersion": big}, nil)
	e.do(http.MethodPost, "/heartbeat", tab.Token, strings.NewReader("battery=1"), "text/plain", nil, nil)
	e.postJSON("/heartbeat", tab.Token, map[string]any{"battery": 500}, nil)
	e.fs.fail.Store(true)
	e.postJSON("/heartbeat", tab.Token, map[string]any{"battery": 80}, nil)
	e.fs.fail.Store(false)

	seen := map[string]bool{}
	for _, k := range e.cov.keys() {
		seen[k] = true
	}
	var missing []string
	for path, pi := range specDoc.Paths.Map() {
		for method, op := range pi.Operations() {
			for code := range op.Responses.Map() {
				if k := fmt.Sprintf("%s %s %s", method, path, code); !seen[k] {
					missing = append(missing, k)
				}
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("documented responses never produced:\n%s\nseen:\n%s", strings.Join(missing, "\n"), strings.Join(e.cov.keys(), "\n"))
	}
}

// TestSpecTransportCatchesDrift makes sure the spec check is not a no-op:
// an answer that breaks the spec must be reported.
func TestSpecTransportCatchesDrift(t *testing.T) {
	e := newEnv(t, nil)
	rec := &recordingTB{TB: t}
	st := &specTransport{t: rec, base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"status":"fine"}`)), Request: r}, nil
	}), spec: loadSpec(t, e.base), cov: newCoverage()}
	req, _ := http.NewRequest(http.MethodGet, e.base+"/health", nil)
	if _, err := st.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if rec.errors == 0 {
		t.Fatal("a health answer without hubId and with a wrong status passed the spec check")
	}
}

type recordingTB struct {
	testing.TB
	errors int
}

func (r *recordingTB) Errorf(string, ...any) { r.errors++ }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestAuthRules(t *testing.T) {
	e := newEnv(t, nil)
	tab := e.pair(domain.DefaultGroupID, "S1")
	revoked := e.pair(domain.DefaultGroupID, "S2")
	if _, err := e.st.UpdateDevice(context.Background(), revoked.DeviceID, store.DeviceChange{Revoke: true}, "test", "lost"); err != nil {
		t.Fatal(err)
	}
	id := e.addOrder(domain.DefaultGroupID, "A1")
	endpoints := []struct{ method, path string }{
		{http.MethodGet, "/worklist"},
		{http.MethodGet, "/appointments/" + id},
		{http.MethodPost, "/appointments/" + id + "/start"},
		{http.MethodPost, "/results"},
		{http.MethodPost, "/heartbeat"},
	}
	auths := []struct {
		name, header, wantType string
	}{
		{"no header", "", "token-missing"},
		{"not bearer", "Basic dXNlcjpwYXNz", "token-malformed"},
		{"empty bearer", "Bearer ", "token-malformed"},
		{"unknown token", "Bearer " + strings.Repeat("A", 43), "token-unknown"},
		{"revoked token", "Bearer " + revoked.Token, "token-revoked"},
	}
	for _, ep := range endpoints {
		for _, a := range auths {
			t.Run(ep.method+ep.path+"/"+a.name, func(t *testing.T) {
				hdr := map[string]string{}
				if a.header != "" {
					hdr["Authorization"] = a.header
				}
				resp := e.do(ep.method, ep.path, "", nil, "", hdr, nil)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401", resp.StatusCode)
				}
				p := problemOf(t, resp)
				if !strings.HasSuffix(p.Type, "/"+a.wantType) || p.Field != "Authorization" {
					t.Errorf("problem %+v, want type %s naming Authorization", p, a.wantType)
				}
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			})
		}
	}
	// Health and pairing need no token; the valid token works everywhere.
	if r := e.do(http.MethodGet, "/health", "", nil, "", nil, nil); r.StatusCode != http.StatusOK {
		t.Errorf("health without token: %d", r.StatusCode)
	}
	if r := e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, nil); r.StatusCode != http.StatusOK {
		t.Errorf("worklist with token: %d", r.StatusCode)
	}
	// Lower-case scheme is accepted (RFC 7235: case-insensitive).
	if r := e.do(http.MethodGet, "/worklist", "", nil, "", map[string]string{"Authorization": "bearer " + tab.Token}, nil); r.StatusCode != http.StatusOK {
		t.Errorf("lower-case bearer: %d", r.StatusCode)
	}
}

func TestRevokedTokenRefusedAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	tab := e.pair(domain.DefaultGroupID, "S1")
	if r := e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("before revocation: %d", r.StatusCode)
	}
	if _, err := e.st.UpdateDevice(context.Background(), tab.DeviceID, store.DeviceChange{Revoke: true}, "dashboard:test", "stolen"); err != nil {
		t.Fatal(err)
	}
	r := e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, nil)
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after revocation: %d, want 401", r.StatusCode)
	}
	if p := problemOf(t, r); !strings.HasSuffix(p.Type, "/token-revoked") {
		t.Errorf("problem %+v", p)
	}
}

func TestTouchRecordsLastSeen(t *testing.T) {
	var clk clock
	e := newEnv(t, func(o *Options) { o.Now = clk.now })
	tab := e.pair(domain.DefaultGroupID, "S1")
	d0, _ := e.st.Device(context.Background(), tab.DeviceID)
	time.Sleep(5 * time.Millisecond) // the store's clock must move on
	e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, nil)
	d1, _ := e.st.Device(context.Background(), tab.DeviceID)
	if !d1.LastSeen.After(d0.LastSeen) {
		t.Errorf("last seen %v not after pairing %v", d1.LastSeen, d0.LastSeen)
	}
}

func TestPairing(t *testing.T) {
	var clk clock
	e := newEnv(t, func(o *Options) { o.Now = clk.now })
	ctx := context.Background()
	if err := e.st.EnsureGroup(ctx, "ward2", "Ward 2"); err != nil {
		t.Fatal(err)
	}
	code, exp, err := NewPairingCode(ctx, e.st, 0, "ward2")
	if err != nil {
		t.Fatal(err)
	}
	if !validCode(code) {
		t.Fatalf("code %q is not six digits", code)
	}
	if d := time.Until(exp); d < 9*time.Minute || d > 11*time.Minute {
		t.Errorf("default expiry in %s, want 10 min", d)
	}
	var pr PairingResponse
	r := e.postJSON("/pairings", "", map[string]string{"code": code, "serial": "MT-9", "name": "Room 3", "model": "mTABLET", "appVersion": "3.0"}, &pr)
	if r.StatusCode != http.StatusCreated || pr.Group != "ward2" || len(pr.Token) != 43 || pr.DeviceID == "" {
		t.Fatalf("pairing: %d %+v", r.StatusCode, pr)
	}
	d, err := e.st.DeviceByTokenHash(ctx, HashToken(pr.Token))
	if err != nil || d.ID != pr.DeviceID || d.Name != "Room 3" || d.IP != "127.0.0.1" {
		t.Fatalf("stored device %+v, %v", d, err)
	}
	// One-time: the same code again is refused.
	r = e.postJSON("/pairings", "", map[string]string{"code": code, "serial": "MT-10"}, nil)
	if r.StatusCode != http.StatusForbidden {
		t.Fatalf("reused code: %d, want 403", r.StatusCode)
	}
	// Expired codes are refused.
	if err := e.st.AddPairingCode(ctx, HashCode("111111"), time.Now().Add(-time.Second), ""); err != nil {
		t.Fatal(err)
	}
	r = e.postJSON("/pairings", "", map[string]string{"code": "111111", "serial": "MT-11"}, nil)
	if r.StatusCode != http.StatusForbidden {
		t.Fatalf("expired code: %d, want 403", r.StatusCode)
	}
}

func TestPairingLockout(t *testing.T) {
	var clk clock
	e := newEnv(t, func(o *Options) { o.Now = clk.now })
	ctx := context.Background()
	good, _, err := NewPairingCode(ctx, e.st, time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	// Four wrong codes answer 403, the fifth locks pairing.
	for i := 1; i <= 5; i++ {
		r := e.postJSON("/pairings", "", map[string]string{"code": "99999" + fmt.Sprint(i%10), "serial": "X"}, nil)
		want := http.StatusForbidden
		if i == 5 {
			want = http.StatusTooManyRequests
		}
		if r.StatusCode != want {
			t.Fatalf("wrong code %d: %d, want %d", i, r.StatusCode, want)
		}
	}
	r := e.postJSON("/pairings", "", map[string]string{"code": good, "serial": "X"}, nil)
	if r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right code while locked: %d, want 429", r.StatusCode)
	}
	ra := r.Header.Get("Retry-After")
	if ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	if p := problemOf(t, r); !strings.HasSuffix(p.Type, "/pairing-locked") || p.RetryAfter < 1 || p.RetryAfter > 60 {
		t.Errorf("problem %+v", p)
	}
	clk.advance(61 * time.Second)
	r = e.postJSON("/pairings", "", map[string]string{"code": good, "serial": "X"}, nil)
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("right code after the lock: %d, want 201", r.StatusCode)
	}
}

func TestWorklistAndAppointments(t *testing.T) {
	e := newEnv(t, nil)
	tab := e.pair(domain.DefaultGroupID, "S1")
	other := e.pair(domain.DefaultGroupID, "S2")
	first := e.addOrder(domain.DefaultGroupID, "A1")
	second := e.addOrder(domain.DefaultGroupID, "A2")
	var wl Worklist
	r := e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, &wl)
	if r.StatusCode != http.StatusOK || len(wl.Appointments) != 2 || wl.Appointments[0].ID != first || wl.Appointments[1].ID != second {
		t.Fatalf("worklist %d %+v", r.StatusCode, wl)
	}
	sum := wl.Appointments[0]
	if sum.Patient.Name.Family != "Novak" || sum.Patient.BirthDate != "1960-04-02" || sum.Location != "ECG room" ||
		sum.OrderingProvider == nil || sum.OrderingProvider.ID != "D1" || sum.PlacerNumber != "A1" || sum.ServiceCode != "93000" || sum.Truncated {
		t.Errorf("worklist entry lacks the summary fields: %+v", sum)
	}
	var a Appointment
	if r := e.do(http.MethodGet, "/appointments/"+first, tab.Token, nil, "", nil, &a); r.StatusCode != http.StatusOK ||
		a.Patient.Name.Family != "Novak" || a.Visit.Location != "ECG room" || len(a.Fields) != 2 || a.Fields[0].Key != "ORC-7" {
		t.Errorf("appointment lacks parsed fields: %d %+v", r.StatusCode, a)
	}
	etag := r.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Errorf("ETag %q is not strong", etag)
	}
	// Same content, same tag; If-None-Match -> 304.
	r = e.do(http.MethodGet, "/worklist", tab.Token, nil, "", map[string]string{"If-None-Match": etag}, nil)
	if r.StatusCode != http.StatusNotModified || r.Header.Get("ETag") != etag {
		t.Fatalf("If-None-Match: %d %q", r.StatusCode, r.Header.Get("ETag"))
	}
	var ap Appointment
	if r := e.do(http.MethodGet, "/appointments/"+second, tab.Token, nil, "", nil, &ap); r.StatusCode != http.StatusOK || ap.ID != second {
		t.Fatalf("appointment: %d %+v", r.StatusCode, ap)
	}
	// Start: the other tablet of the group sees it in progress.
	if r := e.do(http.MethodPost, "/appointments/"+first+"/start", tab.Token, nil, "", nil, &ap); r.StatusCode != http.StatusOK || ap.State != StateInProgress {
		t.Fatalf("start: %d %+v", r.StatusCode, ap)
	}
	r = e.do(http.MethodGet, "/worklist", other.Token, nil, "", map[string]string{"If-None-Match": etag}, &wl)
	if r.StatusCode != http.StatusOK || wl.Appointments[0].State != StateInProgress || wl.Appointments[0].StartedBy != tab.DeviceID {
		t.Fatalf("other tablet: %d %+v", r.StatusCode, wl.Appointments)
	}
}

func TestGroupIsolation(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if err := e.st.EnsureGroup(ctx, "b", "B"); err != nil {
		t.Fatal(err)
	}
	a := e.pair(domain.DefaultGroupID, "SA")
	b := e.pair("b", "SB")
	idA := e.addOrder(domain.DefaultGroupID, "A1")
	idB := e.addOrder("b", "B1")
	var wl Worklist
	e.do(http.MethodGet, "/worklist", a.Token, nil, "", nil, &wl)
	if len(wl.Appointments) != 1 || wl.Appointments[0].ID != idA {
		t.Fatalf("group A sees %+v", wl.Appointments)
	}
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/appointments/" + idB},
		{http.MethodPost, "/appointments/" + idB + "/start"},
	} {
		r := e.do(c.method, c.path, a.Token, nil, "", nil, nil)
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s with group A token: %d, want 404", c.method, c.path, r.StatusCode)
		}
	}
	if o, _ := e.st.Order(ctx, idB); o.State != domain.OrderScheduled {
		t.Errorf("group B order changed by group A: %s", o.State)
	}
	r, _ := e.upload(a.Token, "k1", part{"result", "application/json", resultJSON(idB)}, part{"report", "application/pdf", testPDF(t)})
	if r.StatusCode != http.StatusUnprocessableEntity || problemOf(t, r).Field != "result.appointmentId" {
		t.Errorf("result for group B's appointment: %d", r.StatusCode)
	}
	if r := e.do(http.MethodGet, "/appointments/"+idB, b.Token, nil, "", nil, nil); r.StatusCode != http.StatusOK {
		t.Errorf("group B's own appointment: %d", r.StatusCode)
	}
}

func TestLongPollWakeUp(t *testing.T) {
	e := newEnv(t, nil)
	tab := e.pair(domain.DefaultGroupID, "S1")
	r := e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, nil)
	etag := r.Header.Get("ETag")

	type answer struct {
		status int
		wl     Worklist
		took   time.Duration
	}
	got := make(chan answer, 1)
	go func() {
		start := time.Now()
		var wl Worklist
		r := e.do(http.MethodGet, "/worklist?wait=50s", tab.Token, nil, "", map[string]string{"If-None-Match": etag}, &wl)
		got <- answer{r.StatusCode, wl, time.Since(start)}
	}()
	eventually(t, 20*time.Second, "the long-poller to wait", func() bool { return e.srv.pollers.Load() == 1 })
	// A change of another group does not answer it.
	e.srv.GroupChanged("other")
	id := e.addOrder(domain.DefaultGroupID, "A1") // calls GroupChanged
	select {
	case a := <-got:
		if a.status != http.StatusOK || len(a.wl.Appointments) != 1 || a.wl.Appointments[0].ID != id {
			t.Fatalf("woken with %d %+v", a.status, a.wl)
		}
		if a.took > 40*time.Second {
			t.Errorf("answered only after %s", a.took)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("long-poller not woken by GroupChanged")
	}
}

func TestLongPollWakeWithoutChangeKeepsWaiting(t *testing.T) {
	e := newEnv(t, nil)
	tab := e.pair(domain.DefaultGroupID, "S1")
	etag := e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, nil).Header.Get("ETag")
	got := make(chan int, 1)
	go func() {
		got <- e.do(http.MethodGet, "/worklist?wait=2", tab.Token, nil, "", map[string]string{"If-None-Match": etag}, nil).StatusCode
	}()
	eventually(t, 20*time.Second, "the long-poller to wait", func() bool { return e.srv.pollers.Load() == 1 })
	calls := e.hub.worklistCalls.Load()
	e.srv.GroupChanged(domain.DefaultGroupID) // nothing changed
	eventually(t, 20*time.Second, "the re-read", func() bool { return e.hub.worklistCalls.Load() > calls })
	select {
	case st := <-got:
		if st != http.StatusNotModified {
			t.Fatalf("status %d, want 304 at the end of wait", st)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("wait did not end")
	}
}

func TestLongPollReleasedOnShutdown(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.LongPollMax = 10 * time.Minute })
	tab := e.pair(domain.DefaultGroupID, "S1")
	etag := e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, nil).Header.Get("ETag")
	got := make(chan int, 1)
	go func() {
		got <- e.do(http.MethodGet, "/worklist?wait=5m", tab.Token, nil, "", map[string]string{"If-None-Match": etag}, nil).StatusCode
	}()
	eventually(t, 20*time.Second, "the long-poller to wait", func() bool { return e.srv.pollers.Load() == 1 })
	start := time.Now()
	e.stop()
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("shutdown took %s with a long-poller", d)
	}
	select {
	case st := <-got:
		if st != http.StatusNotModified {
			t.Errorf("released long-poller got %d, want 304", st)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("long-poller not released on shutdown")
	}
}

func TestLongPollersBounded(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxLongPollers = 1 })
	tab := e.pair(domain.DefaultGroupID, "S1")
	etag := e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, nil).Header.Get("ETag")
	go e.do(http.MethodGet, "/worklist?wait=30s", tab.Token, nil, "", map[string]string{"If-None-Match": etag}, nil)
	eventually(t, 20*time.Second, "the first long-poller to wait", func() bool { return e.srv.pollers.Load() == 1 })
	r := e.do(http.MethodGet, "/worklist?wait=30s", tab.Token, nil, "", map[string]string{"If-None-Match": etag}, nil)
	if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Fatalf("second long-poller: %d, want 503 with Retry-After", r.StatusCode)
	}
	// A plain poll is still served.
	if r := e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, nil); r.StatusCode != http.StatusOK {
		t.Errorf("plain poll: %d", r.StatusCode)
	}
	e.addOrder(domain.DefaultGroupID, "A1") // releases the first
}

func TestHeartbeat(t *testing.T) {
	e := newEnv(t, nil)
	tab := e.pair(domain.DefaultGroupID, "S1")
	var hr HeartbeatResponse
	r := e.postJSON("/heartbeat", tab.Token, map[string]any{"battery": 64, "appVersion": "2.4.1", "ip": "192.168.1.23"}, &hr)
	if r.StatusCode != http.StatusOK || hr.DeviceID != tab.DeviceID || hr.Group != domain.DefaultGroupID {
		t.Fatalf("heartbeat: %d %+v", r.StatusCode, hr)
	}
	d, _ := e.st.Device(context.Background(), tab.DeviceID)
	if d.Battery != 64 || d.AppVersion != "2.4.1" || d.IP != "192.168.1.23" || !d.Online(time.Now()) {
		t.Errorf("device after heartbeat: %+v", d)
	}
	for _, c := range []struct {
		body  string
		code  int
		field string
	}{
		{`{"battery":101}`, 422, "battery"},
		{`{"battery":"full"}`, 422, "battery"},
		{`{"ip":"not-an-ip"}`, 422, "ip"},
		{`{"battery":5`, 400, ""},
		{``, 400, ""},
		{`{} {}`, 400, ""},
	} {
		r := e.postJSON("/heartbeat", tab.Token, c.body, nil)
		if r.StatusCode != c.code {
			t.Errorf("%s: %d, want %d", c.body, r.StatusCode, c.code)
			continue
		}
		if p := problemOf(t, r); p.Field != c.field || p.Detail == "" {
			t.Errorf("%s: problem %+v, want field %q", c.body, p, c.field)
		}
	}
}

func TestNotFoundAndMethodProblems(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do(http.MethodGet, "/nope", "", nil, "", nil, nil)
	if r.StatusCode != http.StatusNotFound || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown path: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	r = e.do(http.MethodDelete, "/worklist", "", nil, "", nil, nil)
	if r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET" {
		t.Errorf("DELETE /worklist: %d Allow=%q", r.StatusCode, r.Header.Get("Allow"))
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t, nil)
	var h map[string]any
	e.do(http.MethodGet, "/health", "", nil, "", nil, &h)
	if h["status"] != "ok" || h["hubId"] != "hub-test" || h["version"] != "1.2.3" {
		t.Errorf("health %v", h)
	}
}

func TestPlainHTTPWarns(t *testing.T) {
	var reports []domain.Health
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	rep := domain.HealthFunc(func(h domain.Health) { <-mu; reports = append(reports, h); mu <- struct{}{} })
	st, err := store.Open(filepath.Join(testfs.TempDir(t), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir := testfs.TempDir(t)
	s, err := NewServer(Options{Listen: "127.0.0.1:0", DataDir: dir, PlainHTTP: true}, st, &fakeHub{st: st}, nil, rep)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	resp, err := http.Get("http://" + s.Addr().String() + APIPrefix + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	<-mu
	defer func() { mu <- struct{}{} }()
	found := false
	for _, h := range reports {
		if h.Code == "plain-http" && h.Severity == domain.SeverityWarning {
			found = true
		}
	}
	if !found {
		t.Errorf("no plain-http warning in %+v", reports)
	}
	if _, err := os.Stat(filepath.Join(dir, tlscert.KeyFile)); err == nil {
		t.Error("plain HTTP created a TLS key anyway")
	}
}

func TestWorklistReadReusedUntilGroupChanged(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.WorklistCacheTTL = time.Hour })
	tab := e.pair(domain.DefaultGroupID, "S1")
	e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, nil)
	calls := e.hub.worklistCalls.Load()
	for i := 0; i < 5; i++ {
		e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, nil)
	}
	if n := e.hub.worklistCalls.Load() - calls; n != 0 {
		t.Errorf("%d extra worklist reads within the reuse time, want 0", n)
	}
	id := e.addOrder(domain.DefaultGroupID, "A1") // GroupChanged: a new generation
	var wl Worklist
	e.do(http.MethodGet, "/worklist", tab.Token, nil, "", nil, &wl)
	if len(wl.Appointments) != 1 || wl.Appointments[0].ID != id {
		t.Fatalf("after GroupChanged the worklist is stale: %+v", wl.Appointments)
	}
}

// TestRunAgain: a supervisor may run the server again after it stopped.
func TestRunAgain(t *testing.T) {
	e := newEnv(t, nil)
	e.stop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Run(ctx) }()
	eventually(t, 20*time.Second, "the second Run to listen", func() bool {
		a := e.srv.Addr()
		if a == nil {
			return false
		}
		resp, err := (&http.Client{Transport: pinnedTransport(e.srv.Fingerprint()), Timeout: 5 * time.Second}).Get("https://" + a.String() + APIPrefix + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
