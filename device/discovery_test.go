package device

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/internal/testfs"
)

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// TestDiscoveryReannouncesOnAddressChange drives runDiscovery with fake
// interfaces: a changed address set closes the old announcement and starts
// a new one; an unchanged set does nothing.
func TestDiscoveryReannouncesOnAddressChange(t *testing.T) {
	var mu sync.Mutex
	sig := "eth0=10.0.0.5"
	var started, closed []string
	l := logrus.New()
	l.SetOutput(io.Discard)
	s := &Server{opts: Options{Discovery: DiscoveryOptions{PollInterval: 5 * time.Millisecond}}.withDefaults(), log: l,
		addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443}, started: make(chan struct{})}
	close(s.started)
	s.opts.Discovery.PollInterval = 5 * time.Millisecond
	s.listIfaces = func() (ifaceSet, error) {
		mu.Lock()
		defer mu.Unlock()
		return ifaceSet{ifaces: []net.Interface{{Name: "eth0"}}, sig: sig}, nil
	}
	s.startAnnounce = func(set ifaceSet, port int) (io.Closer, error) {
		mu.Lock()
		defer mu.Unlock()
		if port != 8443 {
			t.Errorf("announced port %d", port)
		}
		started = append(started, set.sig)
		return closerFunc(func() error { mu.Lock(); closed = append(closed, set.sig); mu.Unlock(); return nil }), nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.runDiscovery(ctx); close(done) }()
	count := func() (int, int) { mu.Lock(); defer mu.Unlock(); return len(started), len(closed) }
	eventually(t, 20*time.Second, "the first announcement", func() bool { n, _ := count(); return n == 1 })
	time.Sleep(50 * time.Millisecond) // several polls with the same addresses
	if n, c := count(); n != 1 || c != 0 {
		t.Fatalf("unchanged addresses announced %d times, closed %d", n, c)
	}
	mu.Lock()
	sig = "eth0=10.0.0.9"
	mu.Unlock()
	eventually(t, 20*time.Second, "the re-announcement", func() bool { n, c := count(); return n == 2 && c == 1 })
	cancel()
	<-done
	if _, c := count(); c != 2 {
		t.Errorf("announcement not closed on stop (%d closes)", c)
	}
}

func TestTXTRecords(t *testing.T) {
	s := &Server{opts: Options{HubID: "hub-1"}, fingerprint: "abcd"}
	got := map[string]string{}
	for _, e := range s.txtRecords() {
		got[e.Key] = string(e.Value)
	}
	want := map[string]string{"id": "hub-1", "api": "/api/v1", "tls": "1", "fp": "abcd"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("TXT %v, want %v", got, want)
	}
	s = &Server{opts: Options{HubID: "hub-1", PlainHTTP: true}}
	for _, e := range s.txtRecords() {
		if e.Key == "fp" || (e.Key == "tls" && string(e.Value) != "0") {
			t.Errorf("plain HTTP TXT %s=%s", e.Key, e.Value)
		}
	}
}

const netnsChildEnv = "MCONNECT_DISCOVERY_NETNS_CHILD"

// TestDiscoveryInNetns announces the hub and browses for it inside a
// network namespace this test creates (only loopback, with the multicast
// route on lo), so that no multicast leaves the machine. The test re-runs
// itself inside the namespace with `ip netns exec`.
func TestDiscoveryInNetns(t *testing.T) {
	if os.Getenv(netnsChildEnv) == "1" {
		discoveryChild(t)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace (ip netns add)")
	}
	ipPath, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("needs the ip command (iproute2) to create a network namespace")
	}
	ns := fmt.Sprintf("mconnect-disc-%d", os.Getpid())
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ipPath, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	t.Cleanup(func() { exec.Command(ipPath, "netns", "delete", ns).Run() })
	run("-n", ns, "link", "set", "lo", "up")
	run("-n", ns, "link", "set", "lo", "multicast", "on")
	run("-n", ns, "route", "add", "224.0.0.0/4", "dev", "lo")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ipPath, "netns", "exec", ns, exe, "-test.run", "^TestDiscoveryInNetns$", "-test.v")
	cmd.Env = append(os.Environ(), netnsChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDiscoveryInNetns") {
		t.Fatalf("discovery inside the namespace failed: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// discoveryChild runs inside the namespace: a hub with discovery on lo, and
// a browser that must find it with the right TXT records.
func discoveryChild(t *testing.T) {
	dir := testfs.TempDir(t)
	st, err := store.Open(filepath.Join(dir, "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := logrus.New()
	l.SetOutput(io.Discard)
	s, err := NewServer(Options{Listen: "127.0.0.1:0", DataDir: dir, HubID: "hub-ns", HubName: "Praxis Dr. Kos",
		Discovery: DiscoveryOptions{Enabled: true, Interfaces: []string{"lo"}, IncludeLoopback: true}}, st, &fakeHub{st: st}, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	port := s.Addr().(*net.TCPAddr).Port
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	bctx, bcancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer bcancel()
	a, err := Discover(bctx, []net.Interface{*lo}, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("found %+v", a)
	if a.Instance != "Praxis Dr. Kos" || a.Port != port || a.ID != "hub-ns" || a.API != APIPrefix || !a.TLS || a.FP != s.Fingerprint() {
		t.Fatalf("announcement %+v, want port %d, fp %s", a, port, s.Fingerprint())
	}
}
