package device

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/internal/testfs"
)

// staleHub is a hub whose EHR can be made unreachable: its worklist
// answers say so.
type staleHub struct {
	*fakeHub
	mu    sync.Mutex
	stale bool
	since time.Time
}

func (h *staleHub) WorklistAnswer(ctx context.Context, group string) (WorklistAnswer, error) {
	orders, err := h.fakeHub.Worklist(ctx, group)
	h.mu.Lock()
	defer h.mu.Unlock()
	return WorklistAnswer{Orders: orders, Stale: h.stale, StaleSince: h.since}, err
}

func (h *staleHub) set(stale bool, since time.Time) {
	h.mu.Lock()
	h.stale, h.since = stale, since
	h.mu.Unlock()
}

// A hub that reads appointments from a cloud EHR marks a worklist it could
// not refresh as stale, in the documented fields (the spec transport
// validates every answer), and a change of staleness changes the ETag.
func TestWorklistStaleField(t *testing.T) {
	dir := testfs.TempDir(t)
	st, err := store.Open(filepath.Join(dir, "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, dir: dir, st: st, fs: &failingStore{Store: st}, hub: &fakeHub{st: st}, cov: newCoverage()}
	hub := &staleHub{fakeHub: e.hub}
	log := logrus.New()
	log.SetOutput(io.Discard)
	e.srv, err = NewServer(Options{Listen: "127.0.0.1:0", DataDir: dir, HubID: "hub-test", WorklistCacheTTL: -1}, e.fs, hub, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() { e.done <- e.srv.Run(ctx) }()
	e.base = fmt.Sprintf("https://%s%s", e.srv.Addr(), APIPrefix)
	e.client = &http.Client{Timeout: time.Minute, Transport: &specTransport{t: t, base: pinnedTransport(e.srv.Fingerprint()), spec: loadSpec(t, e.base), cov: e.cov}}
	t.Cleanup(e.stop)

	tok := e.pair("default", "SN-1").Token
	e.addOrder("default", "A1")
	var fresh Worklist
	r1 := e.do(http.MethodGet, "/worklist", tok, nil, "", nil, &fresh)
	if r1.StatusCode != http.StatusOK || fresh.Stale || !fresh.StaleSince.IsZero() || len(fresh.Appointments) != 1 {
		t.Fatalf("fresh worklist %d %+v", r1.StatusCode, fresh)
	}
	since := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	hub.set(true, since)
	var stale Worklist
	r2 := e.do(http.MethodGet, "/worklist", tok, nil, "", map[string]string{"If-None-Match": r1.Header.Get("ETag")}, &stale)
	if r2.StatusCode != http.StatusOK || !stale.Stale || !stale.StaleSince.Equal(since) || len(stale.Appointments) != 1 {
		t.Fatalf("stale worklist %d %+v; want 200 with stale and the stored appointment", r2.StatusCode, stale)
	}
	if r2.Header.Get("ETag") == r1.Header.Get("ETag") {
		t.Fatal("the ETag did not change with staleness")
	}
}
