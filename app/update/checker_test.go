package update

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/mesi/mconnect/internal/testfs"
)

// fakeFeed is a local HTTPS update feed.
type fakeFeed struct {
	*httptest.Server
	mu       sync.Mutex
	body     []byte
	status   int
	requests int
}

func newFakeFeed(t *testing.T) *fakeFeed {
	f := &fakeFeed{status: http.StatusOK}
	f.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests++
		if r.URL.Path != "/feed.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.status)
		w.Write(f.body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeFeed) serve(status int, body []byte) {
	f.mu.Lock()
	f.status, f.body = status, body
	f.mu.Unlock()
}

func (f *fakeFeed) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// manifestFor returns good-minimal.json with another version.
func manifestFor(t testing.TB, version string) []byte {
	return []byte(strings.Replace(string(readManifest(t, "good-minimal.json")), `"1.2.0"`, `"`+version+`"`, 1))
}

type testChecker struct {
	*Checker
	hook    *logtest.Hook
	notices chan Notice
}

func newTestChecker(t *testing.T, f *fakeFeed, dir, current string) *testChecker {
	t.Helper()
	log, hook := logtest.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	notices := make(chan Notice, 10)
	c, err := New(Options{Feed: f.URL + "/feed.json", Current: current, DataDir: dir, Client: f.Client(), Log: log,
		OnNotice: func(n Notice) { notices <- n }})
	if err != nil {
		t.Fatal(err)
	}
	c.keys = testKeys
	return &testChecker{Checker: c, hook: hook, notices: notices}
}

// reload makes a checker on dir as a restarted hub would (after New has
// read the state file with the release keys, the test keys read it again).
func reload(t *testing.T, f *fakeFeed, dir, current string) *testChecker {
	c := newTestChecker(t, f, dir, current)
	c.known, c.knownFeed, c.checkedAt = nil, nil, time.Time{}
	c.load()
	return c
}

func TestCheckFindsANewerSignedVersion(t *testing.T) {
	f := newFakeFeed(t)
	f.serve(http.StatusOK, signed(t, readManifest(t, "good-languages.json"), testKey))
	c := newTestChecker(t, f, testfs.TempDir(t), "1.9.3")
	if c.Latest() != nil {
		t.Fatal("a notice before any check")
	}
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := c.Latest()
	if n == nil || n.Version != "v2.0.0-rc.1" || n.Date != "2027-01-15" || n.Notes["sl"] != "Novo: storitev Windows." ||
		n.URL != "https://updates.example.com/2.0.0/setup.exe?ch=rc" || len(n.SHA256) != 64 {
		t.Fatalf("Latest = %+v", n)
	}
	select {
	case got := <-c.notices:
		if got.Version != n.Version {
			t.Fatalf("OnNotice got %+v", got)
		}
	default:
		t.Fatal("OnNotice was not called")
	}
	n.Notes["en"] = "changed by a caller"
	if c.Latest().Notes["en"] == "changed by a caller" {
		t.Fatal("Latest shares its notes map with callers")
	}
}

func TestCheckRefusesAndKeepsWhatWasKnown(t *testing.T) {
	f := newFakeFeed(t)
	c := newTestChecker(t, f, testfs.TempDir(t), "1.1.0")
	f.serve(http.StatusOK, signed(t, manifestFor(t, "1.3.0"), testKey))
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-c.notices
	tests := []struct {
		name string
		body []byte
		want error
		text string
	}{
		{"bad signature", signed(t, manifestFor(t, "1.4.0"), otherKey), ErrSignature, "does not verify"},
		{"rollback to an older signed version", signed(t, manifestFor(t, "1.2.0"), testKey), ErrDowngrade, "1.2.0 is older than 1.3.0 announced before"},
		{"older than the running version", signed(t, manifestFor(t, "1.0.9"), testKey), ErrDowngrade, "1.0.9 is older than the running 1.1.0"},
		{"corrupted", signed(t, manifestFor(t, "1.4.0"), testKey)[:100], ErrCorrupt, "malformed"},
		{"too large", append(signed(t, manifestFor(t, "1.4.0"), testKey), make([]byte, MaxFeedBytes)...), ErrCorrupt, "larger than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.serve(http.StatusOK, tt.body)
			err := c.Check(context.Background())
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) || !strings.Contains(err.Error(), f.URL) {
				t.Fatalf("Check = %v, want %v with %q and the feed's address", err, tt.want, tt.text)
			}
			if n := c.Latest(); n == nil || n.Version != "1.3.0" {
				t.Fatalf("Latest after a refused feed = %+v, want 1.3.0 kept", n)
			}
		})
	}
	select {
	case n := <-c.notices:
		t.Fatalf("OnNotice called for a refused feed: %+v", n)
	default:
	}
}

func TestCheckHTTPProblems(t *testing.T) {
	f := newFakeFeed(t)
	c := newTestChecker(t, f, testfs.TempDir(t), "1.1.0")
	f.serve(http.StatusServiceUnavailable, []byte("maintenance"))
	err := c.Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "answered 503 Service Unavailable") {
		t.Fatalf("Check = %v", err)
	}
	if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrSignature) || errors.Is(err, ErrDowngrade) {
		t.Fatalf("an unreachable feed is not a refused one: %v", err)
	}

	// A redirect to plain http is not followed.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the plain-http feed was asked")
	}))
	defer plain.Close()
	redirect := httptest.NewTLSServer(http.RedirectHandler(plain.URL+"/feed.json", http.StatusFound))
	defer redirect.Close()
	client := redirect.Client()
	client.CheckRedirect = httpsRedirectsOnly
	r, err := New(Options{Feed: redirect.URL + "/feed.json", Current: "1.0.0", DataDir: testfs.TempDir(t), Client: client})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "not https") {
		t.Fatalf("Check through a redirect to http = %v", err)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, tt := range []struct{ feed, current, text string }{
		{"http://updates.example.com/feed.json", "1.0.0", "is not an https address"},
		{"updates.example.com/feed.json", "1.0.0", "is not an https address"},
		{"https://updates.example.com/feed.json", "dev", `running version: "dev" is not a version`},
	} {
		if _, err := New(Options{Feed: tt.feed, Current: tt.current, DataDir: testfs.TempDir(t)}); err == nil || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("New(%q, %q) = %v, want %q", tt.feed, tt.current, err, tt.text)
		}
	}
}

func TestStateSurvivesARestart(t *testing.T) {
	f := newFakeFeed(t)
	dir := testfs.TempDir(t)
	c := newTestChecker(t, f, dir, "1.1.0")
	f.serve(http.StatusOK, signed(t, manifestFor(t, "1.3.0"), testKey))
	c.checkAndRecord(context.Background())
	checked := c.CheckedAt()
	if checked.IsZero() {
		t.Fatal("the check was not recorded")
	}

	again := reload(t, f, dir, "1.1.0")
	if n := again.Latest(); n == nil || n.Version != "1.3.0" {
		t.Fatalf("after a restart Latest = %+v", n)
	}
	if !again.CheckedAt().Equal(checked) {
		t.Fatalf("after a restart CheckedAt = %v, want %v", again.CheckedAt(), checked)
	}
	// Updated to that version: nothing to announce any more, and a
	// rollback is still refused.
	upgraded := reload(t, f, dir, "1.3.0")
	if n := upgraded.Latest(); n != nil {
		t.Fatalf("running 1.3.0, Latest = %+v", n)
	}
	// The recorded feed is verified again: the release key does not
	// verify the test key's signature, so nothing is announced.
	withReleaseKeys := newTestChecker(t, f, dir, "1.1.0")
	withReleaseKeys.keys = releaseKeys
	withReleaseKeys.known, withReleaseKeys.knownFeed = nil, nil
	withReleaseKeys.load()
	if n := withReleaseKeys.Latest(); n != nil {
		t.Fatalf("a recorded feed that does not verify is announced: %+v", n)
	}
	if !hasEntry(withReleaseKeys.hook, logrus.WarnLevel, "the version recorded from the update feed is ignored") {
		t.Fatalf("no warning for the recorded feed: %v", entries(withReleaseKeys.hook))
	}
}

func TestDamagedStateIsLoggedAndIgnored(t *testing.T) {
	f := newFakeFeed(t)
	dir := testfs.TempDir(t)
	if err := os.WriteFile(filepath.Join(dir, StateFile), []byte(`{"checkedAt": "yesterday"`), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newTestChecker(t, f, dir, "1.1.0")
	if !c.CheckedAt().IsZero() || c.Latest() != nil {
		t.Fatal("a damaged record was used")
	}
	if !hasEntry(c.hook, logrus.WarnLevel, "record of update checks is damaged") {
		t.Fatalf("no warning: %v", entries(c.hook))
	}
}

// fakeTimer stands for time.After: it records each wait and fires when the
// test says so.
type fakeTimer struct {
	waits chan time.Duration
	fire  chan time.Time
}

func (ft *fakeTimer) after(d time.Duration) <-chan time.Time {
	ft.waits <- d
	return ft.fire
}

func TestRunChecksAtMostDaily(t *testing.T) {
	f := newFakeFeed(t)
	dir := testfs.TempDir(t)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name      string
		lastCheck time.Time
		firstWait time.Duration
	}{
		{"never checked: after the first minutes", time.Time{}, DefaultFirstDelay},
		{"checked 25 hours ago: after the first minutes", now.Add(-25 * time.Hour), DefaultFirstDelay},
		{"checked 2 hours ago: a day after that check", now.Add(-2 * time.Hour), 22 * time.Hour},
		{"clock set back: a day from now", now.Add(48 * time.Hour), 24 * time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f.serve(http.StatusOK, signed(t, manifestFor(t, "1.3.0"), testKey))
			before := f.count()
			c := newTestChecker(t, f, dir, "1.1.0")
			c.now = func() time.Time { return now }
			c.checkedAt = tt.lastCheck
			ft := &fakeTimer{waits: make(chan time.Duration), fire: make(chan time.Time)}
			c.after = ft.after
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- c.Run(ctx) }()
			if d := <-ft.waits; d != tt.firstWait {
				t.Fatalf("first wait %v, want %v", d, tt.firstWait)
			}
			if n := f.count(); n != before {
				t.Fatalf("the feed was asked before the check was due (%d requests)", n-before)
			}
			ft.fire <- now
			if d := <-ft.waits; d != DefaultInterval {
				t.Fatalf("wait after a check %v, want %v", d, DefaultInterval)
			}
			if n := f.count(); n != before+1 {
				t.Fatalf("%d requests for one due check", n-before)
			}
			if !c.CheckedAt().Equal(now) {
				t.Fatalf("CheckedAt = %v", c.CheckedAt())
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRunLogsARefusedFeedAndCountsTheAttempt(t *testing.T) {
	f := newFakeFeed(t)
	dir := testfs.TempDir(t)
	f.serve(http.StatusOK, signed(t, manifestFor(t, "1.3.0"), otherKey))
	c := newTestChecker(t, f, dir, "1.1.0")
	c.firstDelay = 0
	ft := &fakeTimer{waits: make(chan time.Duration), fire: make(chan time.Time)}
	c.after = ft.after
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	<-ft.waits
	ft.fire <- time.Now()
	<-ft.waits
	cancel()
	<-done
	if c.Latest() != nil {
		t.Fatal("a badly signed version is announced")
	}
	if !hasEntry(c.hook, logrus.WarnLevel, "update feed ignored") {
		t.Fatalf("no warning for the bad signature: %v", entries(c.hook))
	}
	if again := reload(t, f, dir, "1.1.0"); again.CheckedAt().IsZero() {
		t.Fatal("a refused feed did not count as the day's check")
	}
}

func hasEntry(h *logtest.Hook, level logrus.Level, msg string) bool {
	for _, e := range h.AllEntries() {
		if e.Level == level && strings.Contains(e.Message, msg) {
			return true
		}
	}
	return false
}

func entries(h *logtest.Hook) []string {
	var out []string
	for _, e := range h.AllEntries() {
		s, _ := e.String()
		out = append(out, s)
	}
	return out
}
