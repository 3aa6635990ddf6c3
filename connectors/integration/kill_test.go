package integration

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/app/tlscert"
)

// TestKillChild is the child side of TestPutsSurviveSIGKILL: a hub process
// serving the Integration API over its store until it is killed.
func TestKillChild(t *testing.T) {
	dir := os.Getenv("MCONNECT_INTEGRATION_CHILD_DIR")
	if dir == "" {
		t.Skip("child process of TestPutsSurviveSIGKILL; runs only when that test starts it")
	}
	st, err := store.Open(filepath.Join(dir, "hub.db"), store.Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	cfg := testConfig()
	srv, err := New(Options{Name: testConn, Config: cfg, Orders: storeSink{st}, Store: st, Log: quietLog(),
		Certificate: func() (tls.Certificate, error) { c, _, err := tlscert.LoadOrCreate(dir); return c, err }})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	go func() {
		if err := srv.Run(context.Background()); err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
	}()
	<-srv.Ready()
	fmt.Println("ready", srv.Addr().String())
	select {}
}

// storeSink is the hub's order path: the store itself.
type storeSink struct{ st *store.Store }

func (s storeSink) AcceptOrder(ctx context.Context, o domain.Order) (domain.Accepted, error) {
	return s.st.ApplyOrder(ctx, o)
}

// TestPutsSurviveSIGKILL kills the hub with SIGKILL while PUTs arrive,
// again and again. Afterwards every appointment that was answered 201 (or
// 200) is on the worklist, exactly once; nothing is there that was not
// sent; and re-sending what was in flight at a kill is answered as usual.
func TestPutsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes; skipped with -short")
	}
	rounds := 8
	if raceEnabled {
		rounds = 4
	}
	dir := t.TempDir()
	_, fp, err := tlscert.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureGroup(context.Background(), "cardiology", "Cardiology"); err != nil {
		t.Fatal(err)
	}
	creds, err := AddClient(context.Background(), st, testConn, "kill test", "test")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 20 * time.Second, Transport: pinnedTransport(fp)}
	defer client.CloseIdleConnections()

	var mu sync.Mutex
	acked := map[string]bool{}
	sent := map[string]bool{}
	for round := 0; round < rounds; round++ {
		cmd, addr := startKillChild(t, dir)
		base := "https://" + addr + Prefix
		tok, err := fetchToken(client, base, creds)
		if err != nil {
			cmd.Process.Kill()
			t.Fatalf("round %d: token: %v", round, err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("K%d-%d-%d", round, w, i)
					mu.Lock()
					sent[id] = true
					mu.Unlock()
					code, err := putOnce(client, base, tok, id)
					if err != nil {
						return // killed
					}
					if code == http.StatusCreated || code == http.StatusOK {
						mu.Lock()
						acked[id] = true
						mu.Unlock()
					}
				}
			}(w)
		}
		time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		close(stop)
		wg.Wait()
		client.CloseIdleConnections()
	}
	// A last hub: what was in flight at a kill is sent again (as an EHR
	// would after a timeout) and answered 201 or 200.
	cmd, addr := startKillChild(t, dir)
	base := "https://" + addr + Prefix
	tok, err := fetchToken(client, base, creds)
	if err != nil {
		t.Fatal(err)
	}
	for id := range sent {
		if acked[id] {
			continue
		}
		code, err := putOnce(client, base, tok, id)
		if err != nil || (code != http.StatusCreated && code != http.StatusOK) {
			t.Fatalf("re-sending %s: %d %v", id, code, err)
		}
		acked[id] = true
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	st, err = store.Open(filepath.Join(dir, "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	wl, err := st.Worklist(context.Background(), "cardiology")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, o := range wl {
		seen[o.PlacerNumber]++
		if !sent[o.PlacerNumber] {
			t.Errorf("%s is on the worklist but was never sent", o.PlacerNumber)
		}
	}
	for id := range acked {
		if seen[id] != 1 {
			t.Errorf("%s was acknowledged but is on the worklist %d times", id, seen[id])
		}
	}
	if len(wl) != len(acked) {
		t.Errorf("worklist has %d appointments, %d were acknowledged", len(wl), len(acked))
	}
	t.Logf("%d rounds, %d appointments sent and stored", rounds, len(acked))
	if len(acked) < rounds {
		t.Errorf("only %d appointments acknowledged in %d rounds: the child barely ran", len(acked), rounds)
	}
}

func startKillChild(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), "MCONNECT_INTEGRATION_CHILD_DIR="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line := <-lines:
		if addr, ok := strings.CutPrefix(line, "ready "); ok {
			go func() {
				for range lines {
				}
			}()
			return cmd, addr
		}
		cmd.Process.Kill()
		t.Fatalf("child: %s", line)
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("child did not start")
	}
	return nil, ""
}

func fetchToken(c *http.Client, base string, creds Credentials) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(creds.ClientID, creds.ClientSecret)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tr TokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || tr.AccessToken == "" {
		return "", fmt.Errorf("token answer %d: %v", resp.StatusCode, err)
	}
	return tr.AccessToken, nil
}

func putOnce(c *http.Client, base, tok, id string) (int, error) {
	b, _ := json.Marshal(sample())
	req, _ := http.NewRequest(http.MethodPut, base+"/appointments/"+url.PathEscape(id), strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err // the answer was cut off: not acknowledged
	}
	return resp.StatusCode, nil
}
