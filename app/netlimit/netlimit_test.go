package netlimit

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// harness accepts on a loopback listener wrapped in the limits and hands
// accepted connections and refusals to the test.
type harness struct {
	l       *Listener
	conns   chan net.Conn
	refused chan Reason
}

func start(t *testing.T, o Options) *harness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{conns: make(chan net.Conn, 1000), refused: make(chan Reason, 1000)}
	o.OnRefuse = func(_ net.Addr, why Reason) { h.refused <- why }
	h.l = Listen(ln, o)
	go func() {
		for {
			c, err := h.l.Accept()
			if err != nil {
				return
			}
			h.conns <- c
		}
	}()
	t.Cleanup(func() {
		h.l.Close()
		for {
			select {
			case c := <-h.conns:
				c.Close()
			default:
				return
			}
		}
	})
	return h
}

// dial connects from the loopback address from (127.0.0.x).
func dial(t *testing.T, h *harness, from string) net.Conn {
	t.Helper()
	c, err := dialErr(t, h, from)
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	return c
}

// dialErr is dial for a connection that may be refused while connecting.
func dialErr(t *testing.T, h *harness, from string) (net.Conn, error) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", h.l.Addr().String())
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

func (h *harness) accepted(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-h.conns:
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no connection accepted within 10 s")
		return nil
	}
}

func (h *harness) refusal(t *testing.T) Reason {
	t.Helper()
	select {
	case r := <-h.refused:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no connection refused within 10 s")
		return ""
	}
}

// closedByServer asserts that the server closed c (EOF or reset), not
// that the safety deadline passed.
func closedByServer(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.Read(make([]byte, 1))
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open (read: %v); want it closed by the server", err)
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name string
		opts func() Options
		// from lists the client address of each connection that must be
		// accepted, then of the one that must be refused.
		admit []string
		over  string
		why   Reason
	}{
		{"per address", func() Options { return Options{MaxPerIP: 3, FirstRequest: -1} },
			[]string{"127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.2"}, "127.0.0.1", ReasonPerIP},
		{"per listener", func() Options { return Options{MaxConns: 3, FirstRequest: -1} },
			[]string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}, "127.0.0.4", ReasonListenerFull},
		{"descriptor reserve", func() Options {
			return Options{Descriptors: 100 + Held() + 2, Reserve: 100, FirstRequest: -1}
		},
			[]string{"127.0.0.1", "127.0.0.2"}, "127.0.0.3", ReasonDescriptors},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, tt.opts())
			for _, from := range tt.admit {
				dial(t, h, from)
				h.accepted(t)
			}
			c, err := dialErr(t, h, tt.over)
			if got := h.refusal(t); got != tt.why {
				t.Errorf("refused for %q, want %q", got, tt.why)
			}
			if err == nil {
				closedByServer(t, c)
			}
			if got := h.l.Open(); got != len(tt.admit) {
				t.Errorf("Open() = %d, want %d", got, len(tt.admit))
			}
		})
	}
}

func TestClosingFreesThePlace(t *testing.T) {
	h := start(t, Options{MaxPerIP: 1, FirstRequest: -1})
	dial(t, h, "127.0.0.1")
	sc := h.accepted(t)
	sc.Close()
	sc.Close() // twice: counted once
	dial(t, h, "127.0.0.1")
	h.accepted(t)
	if got := h.l.Open(); got != 1 {
		t.Errorf("Open() = %d, want 1", got)
	}
}

func TestFirstRequestDeadline(t *testing.T) {
	h := start(t, Options{FirstRequest: 50 * time.Millisecond})
	idle := dial(t, h, "127.0.0.1")
	h.accepted(t)
	closedByServer(t, idle)

	dial(t, h, "127.0.0.1")
	busy := h.accepted(t).(*Conn)
	// Through the context of a request on a TLS connection over it.
	ctx := ConnContext(context.Background(), tls.Server(busy, &tls.Config{}))
	Active(ctx)
	if !busy.active.Load() {
		t.Fatal("Active did not reach the connection under the TLS connection")
	}
	if busy.timer.Stop() {
		t.Error("the first-request timer was still running after Active")
	}
	Active(context.Background()) // no connection: ignored
}

func TestClientKeyIPv6Per64(t *testing.T) {
	a := clientKey(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2::5")})
	b := clientKey(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:ffff::9")})
	c := clientKey(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:3::5")})
	if a != b || a == c {
		t.Errorf("keys %v %v %v: want the first two equal (same /64), the third different", a, b, c)
	}
	if v4 := clientKey(&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.1")}); v4.String() != "192.0.2.1/32" {
		t.Errorf("mapped IPv4 key = %v", v4)
	}
}
