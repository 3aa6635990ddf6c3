package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
)

// TestParallelPutsOfOneAppointment: 1,000 PUTs of one appointment at once
// (every tenth with its own free field) make one appointment; exactly
// one answer is 201, every other 200; nothing deadlocks.
func TestParallelPutsOfOneAppointment(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token("")
	// The PUTs wait for one of 64 connections: 1,000 TLS handshakes at
	// once (under the race detector, on 2 cores) outlast the server's
	// 10 s allowed before a request's header, and it rightly hangs up.
	st := *e.client.Transport.(*specTransport)
	tr := st.base.(*http.Transport).Clone()
	tr.MaxConnsPerHost = 64
	st.base = tr
	client := &http.Client{Timeout: e.client.Timeout, Transport: &st}
	const n = 1000
	var wg sync.WaitGroup
	codes := make([]int, n)
	ids := make([]string, n)
	errs := make(chan error, n)
	bodies := make([][]byte, n)
	for i := range bodies {
		m := sample()
		// Every tenth an update (a durable write each); the rest repeat
		// the first (answered without a write).
		if i%10 == 9 {
			m["fields"] = map[string]any{"try": strconv.Itoa(i)}
		}
		bodies[i], _ = json.Marshal(m)
	}
	done := make(chan struct{})
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest(http.MethodPut, e.base+"/appointments/PAR-1", strings.NewReader(string(bodies[i])))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var st AppointmentState
			json.NewDecoder(resp.Body).Decode(&st)
			codes[i], ids[i] = resp.StatusCode, st.AppointmentID
		}(i)
	}
	go func() { wg.Wait(); close(done) }()
	close(start)
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("1,000 parallel PUTs did not finish within 3 minutes (deadlock?)")
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	created := 0
	for i, c := range codes {
		switch c {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("PUT %d answered %d", i, c)
		}
		if ids[i] != ids[0] {
			t.Fatalf("PUT %d names appointment %s, PUT 0 %s", i, ids[i], ids[0])
		}
	}
	if created != 1 {
		t.Errorf("%d answers were 201, want exactly 1", created)
	}
	orders, err := e.st.Orders(context.Background(), store.OrderFilter{Search: "PAR-1"})
	if err != nil || len(orders) != 1 || orders[0].State != domain.OrderScheduled {
		t.Errorf("orders stored: %d %v", len(orders), err)
	}
}

// TestRateLimit: a client beyond its burst gets 429 with Retry-After, other
// clients do not, and the bucket refills with time.
func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Config.RateLimit = RateLimitConfig{PerMinute: 60, Burst: 3} })
	tok := e.token("")
	other, err := AddClient(context.Background(), e.st, testConn, "second", "test")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if a := e.do(http.MethodGet, "/appointments/RL", nil, bearer(tok)); a.status != http.StatusNotFound {
			t.Fatalf("call %d: %d", i, a.status)
		}
	}
	a := e.do(http.MethodGet, "/appointments/RL", nil, bearer(tok))
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "1" || a.problem(t).RetryAfter != 1 {
		t.Fatalf("beyond the burst: %d %v %s", a.status, a.header, a.body)
	}
	e.creds = other
	if a := e.do(http.MethodGet, "/appointments/RL", nil, bearer(e.token(""))); a.status != http.StatusNotFound {
		t.Errorf("another client: %d", a.status)
	}
	e.clk.advance(1100 * time.Millisecond)
	if a := e.do(http.MethodGet, "/appointments/RL", nil, bearer(tok)); a.status != http.StatusNotFound {
		t.Errorf("after a second: %d", a.status)
	}
}

// TestEveryCallAudited: each call is in the audit log with the client ID,
// the action, the appointment and the answer, before it is answered.
func TestEveryCallAudited(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token("")
	e.put(tok, "AU-1", sample())
	e.do(http.MethodGet, "/appointments/AU-1", nil, bearer(tok))
	e.do(http.MethodDelete, "/appointments/AU-1", nil, bearer(tok))
	e.do(http.MethodGet, "/appointments/AU-1", nil, nil)
	e.do(http.MethodGet, "/health", nil, nil)
	log, err := e.st.AuditLog(context.Background(), 20)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(log) - 1; i >= 0; i-- {
		en := log[i]
		if !strings.HasPrefix(en.Action, "integration.") || en.Action == "integration.client.add" {
			continue
		}
		got = append(got, fmt.Sprintf("%s %s %s %s", en.Actor, en.Action, en.Target, strings.SplitN(en.Detail, " from ", 2)[0]))
		if !strings.Contains(en.Detail, "from 127.0.0.1") {
			t.Errorf("audit entry without the caller's address: %+v", en)
		}
	}
	c := e.creds.ClientID
	want := []string{
		"integration:" + c + " integration.token " + c + " HTTP 200",
		"integration:" + c + " integration.appointment.put AU-1 HTTP 201",
		"integration:" + c + " integration.appointment.get AU-1 HTTP 200",
		"integration:" + c + " integration.appointment.delete AU-1 HTTP 200",
		"integration:unauthenticated integration.appointment.get AU-1 HTTP 401",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestStoreFaults: a store that cannot be read or written answers 503
// with Retry-After, turns the health red, and a later success green again.
func TestStoreFaults(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token("")
	e.sink.fail.Store(true)
	a := e.put(tok, "SF-1", sample())
	if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") != "5" {
		t.Fatalf("store refusing writes: %d %s", a.status, a.body)
	}
	if h := e.health.last(); h.Code != "store-failed" || h.Severity != domain.SeverityError || !strings.Contains(h.Detail, "injected") {
		t.Errorf("health: %+v", h)
	}
	e.sink.fail.Store(false)
	e.fs.fail.Store(true)
	if a := e.do(http.MethodGet, "/appointments/SF-1", nil, bearer(tok)); a.status != http.StatusServiceUnavailable {
		t.Errorf("store refusing reads: %d %s", a.status, a.body)
	}
	e.fs.fail.Store(false)
	if a := e.put(tok, "SF-1", sample()); a.status != http.StatusCreated {
		t.Fatalf("store back: %d %s", a.status, a.body)
	}
	h := e.health.last()
	if h.Code != "listening" || h.Severity != domain.SeverityOK || h.LastMessageAt.IsZero() || h.LastError == "" {
		t.Errorf("health after recovery: %+v", h)
	}
}

// TestHealthReport: listening names the address, the mode and the active
// clients; LastMessageAt moves with every call answered.
func TestHealthReport(t *testing.T) {
	e := newEnv(t, nil)
	h := e.health.last()
	if h.Component != "conn:join/integration" || h.Code != "listening" || h.Args["addr"] != e.srv.Addr().String() ||
		h.Args["mode"] != "builtin" || h.Args["clients"] != "1" || h.Args["url"] != e.base {
		t.Fatalf("health: %+v", h)
	}
	e.token("")
	if h := e.srv.rep.Last(); h.LastMessageAt.IsZero() || h.Code != "listening" {
		t.Errorf("no last call after a token: %+v", h)
	}
	e.stop()
	if h := e.health.last(); h.Code != "stopped" {
		t.Errorf("after stop: %+v", h)
	}
}
