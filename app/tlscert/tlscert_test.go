package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadOrCreate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data") // created on first use
	c1, fp1, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fp1 != Fingerprint(c1.Certificate[0]) || len(fp1) != 64 || fp1 != strings.ToLower(fp1) {
		t.Fatalf("fingerprint %q", fp1)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	leaf, err := x509.ParseCertificate(c1.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("key %T, want ECDSA P-256", leaf.PublicKey)
	}
	if d := time.Until(leaf.NotAfter); d < 19*365*24*time.Hour {
		t.Errorf("certificate valid for %s only", d)
	}
	for _, h := range []string{"127.0.0.1", "::1", "localhost"} {
		if err := leaf.VerifyHostname(h); err != nil {
			t.Errorf("no SAN for %s: %v", h, err)
		}
	}
	if host, _ := os.Hostname(); host != "" {
		if err := leaf.VerifyHostname(host); err != nil {
			t.Errorf("no SAN for host name %s: %v", host, err)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("data folder holds %d files, want the certificate and the key only", len(ents))
	}
	// Second run: the same certificate.
	_, fp2, err := LoadOrCreate(dir)
	if err != nil || fp2 != fp1 {
		t.Fatalf("second load: %q %v, want the same fingerprint", fp2, err)
	}
}

func TestLoadOrCreateRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(dir string)
		want    string
	}{
		{"certificate without key", func(dir string) { os.Remove(filepath.Join(dir, KeyFile)) }, "only one of device-cert.pem and device-key.pem exists"},
		{"key without certificate", func(dir string) { os.Remove(filepath.Join(dir, CertFile)) }, "only one of device-cert.pem and device-key.pem exists"},
		{"damaged certificate", func(dir string) { os.WriteFile(filepath.Join(dir, CertFile), []byte("not PEM"), 0o644) }, "move both device-cert.pem and device-key.pem away"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if _, _, err := LoadOrCreate(dir); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(filepath.Join(dir, CertFile))
			tc.prepare(dir)
			_, _, err := LoadOrCreate(dir)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "tls certificate: ") || strings.Count(msg, "tls certificate") != 1 || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want one prefix and %q", msg, tc.want)
			}
			after, _ := os.ReadFile(filepath.Join(dir, CertFile))
			if string(before) != string(after) && len(after) > 0 && string(after) != "not PEM" {
				t.Error("the certificate was replaced")
			}
		})
	}
}

func TestNormalizeFingerprint(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"AB:CD:EF":  "abcdef",
		"ab cd ef":  "abcdef",
		"abcdef":    "abcdef",
		" Ab:cD EF": "abcdef",
	} {
		if got := NormalizeFingerprint(in); got != want {
			t.Errorf("NormalizeFingerprint(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestServerConfig handshakes over loopback with clients limited to one
// version or suite: old versions and CBC suites are refused, TLS 1.2 AEAD
// and TLS 1.3 are served.
func TestServerConfig(t *testing.T) {
	t.Parallel()
	cert, _, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", ServerConfig(cert))
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
	tests := []struct {
		name     string
		min, max uint16
		suites   []uint16
		ok       bool
	}{
		{"TLS 1.0", tls.VersionTLS10, tls.VersionTLS10, nil, false},
		{"TLS 1.1", tls.VersionTLS11, tls.VersionTLS11, nil, false},
		{"TLS 1.2 AES-CBC-SHA1", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}, false},
		{"TLS 1.2 AES-CBC-SHA256", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}, false},
		{"TLS 1.2 AES-GCM", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, true},
		{"TLS 1.2 ChaCha20", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}, true},
		{"TLS 1.2 defaults", tls.VersionTLS12, tls.VersionTLS12, nil, true},
		{"TLS 1.3", tls.VersionTLS13, tls.VersionTLS13, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := &net.Dialer{Timeout: 10 * time.Second}
			c, err := tls.DialWithDialer(d, "tcp", ln.Addr().String(), &tls.Config{
				InsecureSkipVerify: true, MinVersion: tc.min, MaxVersion: tc.max, CipherSuites: tc.suites,
			})
			if err == nil {
				var b [2]byte
				_, err = io.ReadFull(c, b[:])
				if err == nil && c.ConnectionState().Version != tc.max {
					err = errors.New("negotiated another version")
				}
				c.Close()
			}
			switch {
			case tc.ok && err != nil:
				t.Errorf("refused: %v", err)
			case !tc.ok && err == nil:
				t.Error("served")
			case !tc.ok && !strings.Contains(err.Error(), "remote error: tls:"):
				t.Errorf("error %v, want the server's TLS alert", err)
			}
		})
	}
}

func TestServerConfigIsFresh(t *testing.T) {
	t.Parallel()
	a, b := ServerConfig(tls.Certificate{}), ServerConfig(tls.Certificate{})
	a.CipherSuites[0] = 0
	a.NextProtos = []string{"h2"}
	if b.CipherSuites[0] == 0 || b.NextProtos != nil || CipherSuites()[0] == 0 {
		t.Error("ServerConfig shares state between calls")
	}
}
