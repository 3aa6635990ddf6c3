package device

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/mesi/mconnect/connectors/mllp"
)

// h2Preface is what an HTTP/2 client sends first: the connection preface
// and an empty SETTINGS frame.
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + "\x00\x00\x00\x04\x00\x00\x00\x00\x00"

// floodConn opens a TLS connection from the loopback address from, agrees
// on h2 and sends only the preface. It returns nil if the server refused
// the connection (closed before or during the handshake).
func floodConn(addr, from string) *tls.Conn {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 20 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	if err != nil {
		return nil
	}
	if _, err := io.WriteString(c, h2Preface); err != nil {
		c.Close()
		return nil
	}
	return c
}

// h2ClientFrom is a pinned HTTP client whose connections come from the
// loopback address from.
func h2ClientFrom(e *env, from string) *http.Client {
	tr := pinnedTransport(e.srv.Fingerprint())
	tr.ForceAttemptHTTP2 = true
	tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// TestHTTP2PrefaceFloodBounded: a client opening hundreds of TLS
// connections that send only the HTTP/2 preface holds at most
// MaxConnsPerIP of them, each only until FirstRequestTimeout; a tablet on
// another address is served meanwhile, and so is an MLLP order.
func TestHTTP2PrefaceFloodBounded(t *testing.T) {
	const flood = 300
	e := newEnv(t, func(o *Options) { o.FirstRequestTimeout = 2 * time.Second })
	addr := e.srv.Addr().String()

	conns := make([]*tls.Conn, flood)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			conns[i] = floodConn(addr, "127.0.0.1")
		}()
	}
	wg.Wait()
	var held []*tls.Conn
	for _, c := range conns {
		if c != nil {
			held = append(held, c)
			t.Cleanup(func() { c.Close() })
		}
	}
	if len(held) > DefaultMaxConnsPerIP {
		t.Fatalf("%d of %d preface-only connections from one address were held; want at most %d", len(held), flood, DefaultMaxConnsPerIP)
	}
	if len(held) == 0 {
		t.Fatal("no connection was accepted at all")
	}

	// A tablet on another address is served during the flood.
	resp, err := h2ClientFrom(e, "127.0.0.2").Get(e.base + "/health")
	if err != nil {
		t.Fatalf("legitimate request during the flood: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Errorf("legitimate request during the flood: %d over HTTP/%d, want 200 over HTTP/2", resp.StatusCode, resp.ProtoMajor)
	}

	// So is an MLLP order on the hub's MLLP listener.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mllpDone := make(chan error, 1)
	ack := []byte("MSH|^~\\&|HUB||EHR||20260101000000||ACK^O01|A1|P|2.5\rMSA|AA|M1\r")
	go func() {
		mllpDone <- mllp.NewServer(mllp.ServerOptions{}, mllp.HandlerFunc(func(context.Context, net.Addr, []byte) []byte { return ack })).Serve(ctx, ln)
	}()
	reply, err := mllp.NewSender(mllp.SenderOptions{Addr: ln.Addr().String()}).SendBytes(ctx, []byte("MSH|^~\\&|EHR||HUB||20260101000000||ORM^O01|M1|P|2.5\r"))
	if err != nil || string(reply) != string(ack) {
		t.Errorf("MLLP order during the flood: reply %q, %v", reply, err)
	}
	cancel()
	<-mllpDone

	// The held connections are closed by the server (they made no request).
	for i, c := range held {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err := io.Copy(io.Discard, c)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("preface-only connection %d still open after 30 s", i)
		}
	}
	// Their places are free again for the flooding address.
	resp, err = h2ClientFrom(e, "127.0.0.1").Get(e.base + "/health")
	if err != nil {
		t.Fatalf("request from the flooding address afterwards: %v", err)
	}
	resp.Body.Close()
}
