package device

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

func TestTLSPinnedFingerprint(t *testing.T) {
	e := newEnv(t, nil)
	url := e.base + "/health"
	// The pinned client (env's) works.
	if r := e.do(http.MethodGet, "/health", "", nil, "", nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("pinned client: %d", r.StatusCode)
	}
	// A client pinning another fingerprint refuses the server.
	wrong := &http.Client{Transport: pinnedTransport(strings.Repeat("ab", 32)), Timeout: 20 * time.Second}
	if _, err := wrong.Get(url); err == nil || !strings.Contains(err.Error(), "pinned") {
		t.Errorf("client pinning another fingerprint: %v", err)
	}
	// A client verifying against the system CAs refuses the self-signed cert.
	if _, err := (&http.Client{Timeout: 20 * time.Second}).Get(url); err == nil {
		t.Error("a CA-verifying client accepted the self-signed certificate")
	}
	// A client trusting the certificate itself (as a CA) verifies 127.0.0.1 against the SAN.
	ca := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: certPool(t, e.dir)}}}
	resp, err := ca.Get(url)
	if err != nil {
		t.Fatalf("client trusting the certificate: %v", err)
	}
	resp.Body.Close()
}

func TestTLSBelow12Refused(t *testing.T) {
	e := newEnv(t, nil)
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11,
	}}}
	if _, err := c.Get(e.base + "/health"); err == nil {
		t.Fatal("a TLS 1.1 client was served")
	}
	// TLS 1.2 exactly is served.
	c12 := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12,
	}}}
	resp, err := c12.Get(e.base + "/health")
	if err != nil {
		t.Fatalf("TLS 1.2 client: %v", err)
	}
	resp.Body.Close()
	if resp.TLS.Version != tls.VersionTLS12 {
		t.Errorf("version %x", resp.TLS.Version)
	}
}

// TestTLSCBCSuitesRefused: the endpoint serves TLS 1.2 only with AEAD
// suites; a client offering CBC-SHA1 suites alone gets no session.
func TestTLSCBCSuitesRefused(t *testing.T) {
	e := newEnv(t, nil)
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA},
	}}}
	_, err := c.Get(e.base + "/health")
	if err == nil || !strings.Contains(err.Error(), "handshake failure") {
		t.Fatalf("a CBC-SHA1-only client: %v, want a handshake failure", err)
	}
}

// TestSlowHeaderCut: a client that never finishes its header is cut off
// after ReadHeaderTimeout (slowloris).
func TestSlowHeaderCut(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.ReadHeaderTimeout = 300 * time.Millisecond })
	conn, err := tls.Dial("tcp", e.srv.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err = io.ReadAll(conn) // returns when the server closes the connection
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("server kept a slow-header connection open for %s", time.Since(start))
	}
}

func TestHeaderTooLarge(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxHeaderBytes = 4 << 10 })
	tab := e.pair(domain.DefaultGroupID, "S1")
	// net/http answers 431 itself (text/plain), before any handler: use a
	// client without the spec check.
	req, _ := http.NewRequest(http.MethodGet, e.base+"/worklist", nil)
	req.Header.Set("Authorization", "Bearer "+tab.Token)
	req.Header.Set("X-Filler", strings.Repeat("a", 64<<10))
	r, err := (&http.Client{Transport: pinnedTransport(e.srv.Fingerprint()), Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("huge header: %d, want 431", r.StatusCode)
	}
}
