package tlscert

import (
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// tlsServer serves "ok" over TLS limited to one version range and suites.
func tlsServer(t *testing.T, cert tls.Certificate, min, max uint16, suites []uint16) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: min, MaxVersion: max, CipherSuites: suites})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				if err := c.(*tls.Conn).Handshake(); err == nil {
					io.WriteString(c, "ok")
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func handshake(addr string, cfg *tls.Config) error {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	var b [2]byte
	_, err = io.ReadFull(c, b[:])
	return err
}

// TestClientConfigs: the client configurations the package hands out
// refuse servers that offer only old versions or CBC suites, and the
// pinned one any certificate but the pinned one.
func TestClientConfigs(t *testing.T) {
	t.Parallel()
	cert, fp, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		cert     tls.Certificate
		min, max uint16
		suites   []uint16
		ok       bool
	}{
		{"TLS 1.1 server", cert, tls.VersionTLS10, tls.VersionTLS11, nil, false},
		{"TLS 1.2 AES-CBC-SHA1 server", cert, tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}, false},
		{"TLS 1.2 AES-GCM server", cert, tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, true},
		{"TLS 1.3 server", cert, tls.VersionTLS13, tls.VersionTLS13, nil, true},
		{"another certificate", other, tls.VersionTLS12, tls.VersionTLS13, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := tlsServer(t, tc.cert, tc.min, tc.max, tc.suites)
			// The pinned config, with the fingerprint as some tools print it.
			pin := strings.ToUpper(fp[:2]) + ":" + fp[2:]
			err := handshake(addr, PinnedClientConfig(pin))
			if tc.ok != (err == nil) {
				t.Errorf("pinned: %v, want ok=%v", err, tc.ok)
			}
			if tc.name == "another certificate" && err != nil && !strings.Contains(err.Error(), "does not match the pinned") {
				t.Errorf("pinned, another certificate: %v", err)
			}
			// ClientConfig verifies against the system CAs: check the
			// versions and suites alone by trusting the certificate.
			cc := ClientConfig()
			cc.InsecureSkipVerify = true
			if tc.name != "another certificate" {
				if err := handshake(addr, cc); tc.ok != (err == nil) {
					t.Errorf("ClientConfig: %v, want ok=%v", err, tc.ok)
				}
			}
		})
	}
}
