package outbox

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/internal/testfs"
)

// httpEHR delivers to the parent test's fake EHR: one POST per delivery,
// naming the connection and the result.
type httpEHR struct {
	url    string
	conn   string
	client *http.Client
}

func (h *httpEHR) Deliver(ctx context.Context, out domain.Outgoing) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, strings.NewReader(out.Result.ID))
	if err != nil {
		return "", domain.Permanent(err, "")
	}
	req.Header.Set("X-Connection", h.conn)
	req.Header.Set("X-Result", out.Result.ID)
	resp, err := h.client.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", domain.Temporary(fmt.Errorf("HTTP %d", resp.StatusCode), resp.Status)
	}
	return resp.Status, nil
}

// TestKillChild is the child side of TestSurvivesSIGKILL: it runs the
// outbox against the parent's EHR and, when asked to, stores results and
// prints "ack <id>" for each one SaveResult returned (the 201 to the tablet).
func TestKillChild(t *testing.T) {
	path := os.Getenv("MCONNECT_OUTBOX_CHILD_DB")
	if path == "" {
		t.Skip("child process of TestSurvivesSIGKILL; runs only when that test starts it")
	}
	s, err := store.Open(path, store.Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	ob := New(s, Options{Backoff: Backoff{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond}, Grace: time.Second}, nil)
	conns := []string{"a", "b"}
	for _, c := range conns {
		ehr := &httpEHR{url: os.Getenv("MCONNECT_OUTBOX_CHILD_EHR"), conn: c, client: &http.Client{Timeout: 5 * time.Second}}
		if err := ob.Register(c, ehr, Policy{Ambiguous: AmbiguousResend}); err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
	}
	go ob.Run(context.Background())
	fmt.Println("ready")
	if os.Getenv("MCONNECT_OUTBOX_CHILD_PRODUCE") != "1" {
		select {}
	}
	ctx := context.Background()
	for {
		r, _, err := s.SaveResult(ctx, domain.Result{Measurement: "ECG", DeviceID: "tab"}, conns)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(4)
		}
		fmt.Println("ack", r.ID)
		ob.Notify("")
		time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
	}
}

// ehrLog is the parent's fake EHR: every delivery it received.
type ehrLog struct {
	mu  sync.Mutex
	got map[string]int // "conn result" -> deliveries
}

func (e *ehrLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("X-Connection") + " " + r.Header.Get("X-Result")
	e.mu.Lock()
	e.got[key]++
	e.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (e *ehrLog) count(key string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.got[key]
}

// child starts one child process; lines come on the returned channel.
func startChild(t *testing.T, db, ehr string, produce bool) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.v=false")
	p := "0"
	if produce {
		p = "1"
	}
	cmd.Env = append(os.Environ(), "MCONNECT_OUTBOX_CHILD_DB="+db, "MCONNECT_OUTBOX_CHILD_EHR="+ehr, "MCONNECT_OUTBOX_CHILD_PRODUCE="+p)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, lines
}

// TestSurvivesSIGKILL kills a hub process with SIGKILL at random moments
// while results arrive and deliveries run, restarting it each time, then
// lets a last one drain the queue. Every result acknowledged to the tablet
// reaches the EHR on both connections; nothing reaches it that was not
// stored; a result reaches it twice only if its delivery was flagged
// ambiguous. MCONNECT_OUTBOX_KILLS sets the number of kills (default 50).
func TestSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes; skipped with -short")
	}
	kills := 50
	if raceEnabled {
		kills = 15 // each child is many times slower under the race detector
		t.Logf("race detector on: %d kills (MCONNECT_OUTBOX_KILLS sets another count)", kills)
	}
	if v, err := strconv.Atoi(os.Getenv("MCONNECT_OUTBOX_KILLS")); err == nil && v >= 0 {
		kills = v
	}
	ehr := &ehrLog{got: map[string]int{}}
	srv := httptest.NewServer(ehr)
	defer srv.Close()
	db := filepath.Join(testfs.TempDir(t), "hub.db")
	var acked []string
	began := time.Now()
	for round := 0; round < kills; round++ {
		cmd, lines := startChild(t, db, srv.URL, true)
		// Mostly kill while results arrive and deliveries run; now and then
		// during start-up and recovery.
		var killAt <-chan time.Time
		if round%5 == 0 {
			killAt = time.After(time.Duration(rand.IntN(60)) * time.Millisecond)
		}
		killed := false
		for !killed {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: child exited before it was killed", round)
				}
				switch {
				case line == "ready":
					if killAt == nil {
						killAt = time.After(time.Duration(20+rand.IntN(150)) * time.Millisecond)
					}
				case strings.HasPrefix(line, "ack "):
					acked = append(acked, strings.TrimPrefix(line, "ack "))
				case strings.HasPrefix(line, "error"):
					cmd.Process.Kill()
					t.Fatalf("round %d: child: %s", round, line)
				}
			case <-killAt:
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		for line := range lines { // acks printed before the kill still count
			if strings.HasPrefix(line, "ack ") {
				acked = append(acked, strings.TrimPrefix(line, "ack "))
			}
		}
		cmd.Wait()
	}
	// The last child drains what is left.
	cmd, lines := startChild(t, db, srv.URL, false)
	go func() {
		for range lines {
		}
	}()
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	deadline := time.Now().Add(90 * time.Second)
	for _, id := range acked {
		for _, c := range []string{"a", "b"} {
			for ehr.count(c+" "+id) == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("acknowledged result %s never reached the EHR on %s", id, c)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	cmd.Process.Kill()
	cmd.Wait()

	s, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	rows, err := s.DB().QueryContext(ctx, `SELECT id FROM results`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		stored[id] = true
	}
	rows.Close()
	ambiguous := map[string]bool{}
	rows, err = s.DB().QueryContext(ctx, `SELECT DISTINCT d.connection || ' ' || d.result_id FROM attempts a JOIN deliveries d ON d.id=a.delivery_id
		WHERE a.error=? OR a.error LIKE 'outcome unknown%'`, store.AmbiguousNote)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		rows.Scan(&k)
		ambiguous[k] = true
	}
	rows.Close()
	ehr.mu.Lock()
	defer ehr.mu.Unlock()
	dups := 0
	for key, n := range ehr.got {
		_, id, _ := strings.Cut(key, " ")
		if !stored[id] {
			t.Errorf("the EHR got %s, which the hub never stored", key)
		}
		if n > 1 {
			dups++
			if !ambiguous[key] {
				t.Errorf("the EHR got %s %d times, but its delivery was never flagged ambiguous", key, n)
			}
		}
	}
	t.Logf("%d kills in %v: %d results acknowledged, %d stored, %d deliveries received, %d flagged ambiguous, %d received twice",
		kills, time.Since(began).Round(time.Millisecond), len(acked), len(stored), len(ehr.got), len(ambiguous), dups)
	if kills > 0 && len(acked) == 0 {
		t.Fatal("no result was acknowledged: the test proved nothing")
	}
}
