package mllp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// startServer serves h on a loopback port until the test ends.
func startServer(t *testing.T, opts ServerOptions, h Handler) (addr string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	srv := NewServer(opts, h)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Serve did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

var echo = HandlerFunc(func(_ context.Context, _ net.Addr, msg []byte) []byte { return append([]byte("ACK:"), msg...) })

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readReply(t *testing.T, c net.Conn) ([]byte, error) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	return NewReader(c, 0).ReadFrame()
}

func TestServerEcho(t *testing.T) {
	t.Parallel()
	addr, _ := startServer(t, ServerOptions{}, echo)
	c := dial(t, addr)
	// Two frames in one write, split oddly, with junk between them.
	if _, err := c.Write([]byte(frame("one") + "noise" + frame("two"))); err != nil {
		t.Fatal(err)
	}
	r := NewReader(c, 0)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, want := range []string{"ACK:one", "ACK:two"} {
		f, err := r.ReadFrame()
		if err != nil || string(f) != want {
			t.Fatalf("reply %q, %v; want %q", f, err, want)
		}
	}
}

type healthRecorder struct {
	mu sync.Mutex
	hs []domain.Health
}

func (h *healthRecorder) Report(x domain.Health) { h.mu.Lock(); h.hs = append(h.hs, x); h.mu.Unlock() }
func (h *healthRecorder) codes() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, x := range h.hs {
		out = append(out, x.Code)
	}
	return out
}

// TestServerRefusesPeerNotAllowed: 127.0.0.1 is not in 127.0.0.2/32, so the
// connection is closed at once, unanswered, and the refusal is reported.
func TestServerRefusesPeerNotAllowed(t *testing.T) {
	t.Parallel()
	health := &healthRecorder{}
	var handled atomic.Int32
	h := HandlerFunc(func(context.Context, net.Addr, []byte) []byte { handled.Add(1); return []byte("x") })
	allow, err := ParseAllowList([]string{"127.0.0.2/32", " ", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := startServer(t, ServerOptions{Allow: allow, Health: health, Component: "conn:test"}, h)
	// The refusal may already reset the dial; otherwise the first read ends.
	if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
		defer c.Close()
		_, _ = c.Write([]byte(frame("MSH|x")))
		start := time.Now()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(make([]byte, 10))
		var ne net.Error
		if n != 0 || err == nil || (errors.As(err, &ne) && ne.Timeout()) || time.Since(start) > 2*time.Second {
			t.Fatalf("read %d, %v after %v: want the connection closed at once", n, err, time.Since(start))
		}
	}
	if handled.Load() != 0 {
		t.Error("message from a refused peer was handled")
	}
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(strings.Join(health.codes(), ","), "peer-refused") {
		if time.Now().After(deadline) {
			t.Fatalf("health reports %v", health.codes())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := ParseAllowList([]string{"not-an-ip"}); err == nil {
		t.Error("bad allow-list entry accepted")
	}
	s := NewServer(ServerOptions{Allow: []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")}}, h)
	for a, want := range map[string]bool{"192.168.1.7:1000": true, "192.168.2.7:1000": false, "[::ffff:192.168.1.9]:1": true} {
		ap := net.TCPAddrFromAddrPort(netip.MustParseAddrPort(a))
		if got := s.Allowed(ap); got != want {
			t.Errorf("Allowed(%s) = %v", a, got)
		}
	}
}

// TestServerIdleTimeout: a peer that sends half a frame and waits is cut.
func TestServerIdleTimeout(t *testing.T) {
	t.Parallel()
	addr, _ := startServer(t, ServerOptions{IdleTimeout: 200 * time.Millisecond}, echo)
	c := dial(t, addr)
	_, _ = c.Write([]byte("\x0bMSH|half a message"))
	start := time.Now()
	_, err := readReply(t, c)
	if err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("err %v after %v: want close after the idle timeout", err, time.Since(start))
	}
}

// TestServerFrameReadTimeout: a peer trickling a frame slower than the
// whole-frame timeout is cut even though it never goes idle.
func TestServerFrameReadTimeout(t *testing.T) {
	t.Parallel()
	addr, _ := startServer(t, ServerOptions{IdleTimeout: time.Second, ReadTimeout: 300 * time.Millisecond}, echo)
	c := dial(t, addr)
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, c)
		close(closed)
	}()
	_, _ = c.Write([]byte("\x0bMSH"))
	for i := 0; i < 30; i++ {
		select {
		case <-closed:
			return
		case <-time.After(100 * time.Millisecond):
			_, _ = c.Write([]byte("x"))
		}
	}
	t.Fatal("slow frame not cut")
}

// TestServerWriteTimeout: a peer that never reads its reply is cut, and
// the server keeps serving others.
func TestServerWriteTimeout(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("A"), 32<<20)
	var replied atomic.Int32
	done := make(chan struct{})
	h := HandlerFunc(func(_ context.Context, _ net.Addr, msg []byte) []byte {
		if string(msg) == "big" {
			defer func() { replied.Add(1) }()
			return big
		}
		return []byte("small")
	})
	srv := NewServer(ServerOptions{WriteTimeout: 300 * time.Millisecond, Log: nil}, h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = srv.Serve(ctx, ln); close(done) }()
	defer func() { cancel(); <-done }()
	c := dial(t, ln.Addr().String())
	_, _ = c.Write([]byte(frame("big")))
	// Never read: the server's write blocks, times out and the connection is
	// dropped from its table.
	deadline := time.Now().Add(5 * time.Second)
	for {
		srv.mu.Lock()
		n := len(srv.conns)
		srv.mu.Unlock()
		if n == 0 && replied.Load() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connection still open (%d) after write timeout", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c2 := dial(t, ln.Addr().String())
	_, _ = c2.Write([]byte(frame("hi")))
	if f, err := readReply(t, c2); err != nil || string(f) != "small" {
		t.Fatalf("second peer: %q %v", f, err)
	}
}

// TestServerOversize: the handler's oversize reply is sent, then the
// connection closes.
func TestServerOversize(t *testing.T) {
	t.Parallel()
	h := oversizeHandler{}
	addr, _ := startServer(t, ServerOptions{MaxMessageSize: 1000}, h)
	c := dial(t, addr)
	go func() { _, _ = c.Write([]byte(frame("MSH|^~\\&|X|" + strings.Repeat("y", 5000)))) }()
	r := NewReader(c, 0)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := r.ReadFrame()
	if err != nil || string(f) != "NAK for MSH|^~\\&|X| limit 1000" {
		t.Fatalf("reply %q, %v", f, err)
	}
	if _, err := r.ReadFrame(); !errors.Is(err, io.EOF) {
		t.Errorf("after NAK: %v, want EOF", err)
	}
}

type oversizeHandler struct{}

func (oversizeHandler) ServeMLLP(context.Context, net.Addr, []byte) []byte { return []byte("ok") }
func (oversizeHandler) Oversize(_ context.Context, _ net.Addr, head []byte, limit int) []byte {
	return []byte("NAK for " + string(head[:11]) + " limit " + itoa(limit))
}

func itoa(n int) string {
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}

// TestServerBoundedConnections: with MaxConns 1 a second peer waits until
// the first leaves.
func TestServerBoundedConnections(t *testing.T) {
	t.Parallel()
	addr, _ := startServer(t, ServerOptions{MaxConns: 1}, echo)
	c1 := dial(t, addr)
	_, _ = c1.Write([]byte(frame("1")))
	if f, err := readReply(t, c1); err != nil || string(f) != "ACK:1" {
		t.Fatal(f, err)
	}
	c2 := dial(t, addr) // the kernel accepts; the server does not yet
	_, _ = c2.Write([]byte(frame("2")))
	_ = c2.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := NewReader(c2, 0).ReadFrame(); err == nil {
		t.Fatal("second connection served while the first is open")
	}
	c1.Close()
	if f, err := readReply(t, c2); err != nil || string(f) != "ACK:2" {
		t.Fatalf("after the first left: %q %v", f, err)
	}
}

// TestServerGracefulShutdown: a message being handled when the context ends
// still gets its reply; idle connections are closed; Serve returns.
func TestServerGracefulShutdown(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	release := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, _ net.Addr, msg []byte) []byte {
		close(entered)
		<-release
		if ctx.Err() != nil {
			return []byte("cancelled")
		}
		return []byte("stored")
	})
	addr, stop := startServer(t, ServerOptions{ShutdownGrace: 5 * time.Second}, h)
	busy := dial(t, addr)
	idle := dial(t, addr)
	_, _ = busy.Write([]byte(frame("m")))
	<-entered
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	// The idle peer is disconnected promptly.
	if _, err := readReply(t, idle); err == nil {
		t.Error("idle connection got a frame")
	}
	select {
	case <-stopped:
		t.Fatal("Serve returned while a message was being handled")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if f, err := readReply(t, busy); err != nil || string(f) != "stored" {
		t.Fatalf("in-flight reply %q %v", f, err)
	}
	<-stopped
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still accepting after shutdown")
	}
}
