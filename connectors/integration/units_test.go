package integration

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/config"
)

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		mod  func(c *Config)
		want []string // keys with a problem
	}{
		{"defaults", func(*Config) {}, nil},
		{"bad listen", func(c *Config) { c.Listen = "8444" }, []string{"api.listen"}},
		{"public URL http", func(c *Config) { c.PublicURL = "http://hub.example" }, []string{"api.publicURL"}},
		{"only a cert", func(c *Config) { c.TLS.CertFile = "/etc/cert.pem" }, []string{"api.tls"}},
		{"relative cert", func(c *Config) { c.TLS = TLSConfig{CertFile: "cert.pem", KeyFile: "/k.pem"} }, []string{"api.tls.certFile"}},
		{"mode", func(c *Config) { c.Auth.Mode = "basic" }, []string{"api.auth.mode"}},
		{"ttl too long", func(c *Config) { c.Auth.TokenTTL = config.Duration(2 * time.Hour) }, []string{"api.auth.tokenTTL"}},
		{"rotation too quick", func(c *Config) { c.Auth.KeyRotation = config.Duration(time.Minute) }, []string{"api.auth.keyRotation"}},
		{"builtin with jwks", func(c *Config) { c.Auth.JWKSURL = "https://idp/jwks" }, []string{"api.auth"}},
		{"external without anything", func(c *Config) { c.Auth = AuthConfig{Mode: ModeExternal, Audience: "a"} }, []string{"api.auth.issuer", "api.auth.jwksURL"}},
		{"external over plain http", func(c *Config) {
			c.Auth = AuthConfig{Mode: ModeExternal, Audience: "a", Issuer: "i", JWKSURL: "http://idp.example/jwks"}
		}, []string{"api.auth.jwksURL"}},
		{"external on loopback", func(c *Config) {
			c.Auth = AuthConfig{Mode: ModeExternal, Audience: "a", Issuer: "i", JWKSURL: "http://127.0.0.1:9000/jwks"}
		}, nil},
		{"external with a TTL", func(c *Config) {
			c.Auth = AuthConfig{Mode: ModeExternal, Audience: "a", Issuer: "i", JWKSURL: "https://idp/jwks", TokenTTL: config.Duration(time.Minute)}
		}, []string{"api.auth"}},
		{"body limit", func(c *Config) { c.MaxBodyKB = 20000 }, []string{"api.maxBodyKB"}},
		{"rate", func(c *Config) { c.RateLimit.PerMinute = -1 }, []string{"api.rateLimit.perMinute"}},
		{"proxies", func(c *Config) { c.TrustedProxies = []string{"proxy.local"} }, []string{"api.trustedProxies[0]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{}
			c.ApplyDefaults()
			tc.mod(&c)
			ck := config.NewChecker()
			c.Validate(ck.In("api"))
			var got []string
			for _, p := range ck.Problems() {
				got = append(got, p.Key)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("problems %v, want keys %v", ck.Problems(), tc.want)
			}
		})
	}
	c := Config{}
	c.ApplyDefaults()
	if c.Listen != ":8444" || c.Auth.Mode != ModeBuiltin || c.Auth.TokenTTL.D() != 10*time.Minute || c.MaxBodyKB != 256 || c.Auth.Audience != DefaultAudience {
		t.Errorf("defaults: %+v", c)
	}
}

func TestLockout(t *testing.T) {
	clk := newFrozen()
	l := newLockout(clk.now, 3, time.Minute, 4*time.Minute)
	for i := 0; i < 2; i++ {
		if l.fail("a") {
			t.Fatal("locked early")
		}
	}
	if !l.fail("a") || l.lockedFor("a") != time.Minute || l.lockedFor("b") != 0 {
		t.Fatalf("third wrong: %v", l.lockedFor("a"))
	}
	clk.advance(time.Minute)
	if l.lockedFor("a") != 0 {
		t.Fatal("still locked after the minute")
	}
	l.fail("a")
	l.fail("a")
	if !l.fail("a") || l.lockedFor("a") != 2*time.Minute {
		t.Fatalf("second lock: %v", l.lockedFor("a"))
	}
	clk.advance(2 * time.Minute)
	for i := 0; i < 6; i++ {
		l.fail("a")
	}
	if got := l.lockedFor("a"); got != 4*time.Minute {
		t.Fatalf("capped lock: %v", got)
	}
	l.succeed("a")
	if l.lockedFor("a") != 0 {
		t.Fatal("success did not forget")
	}
	// Quiet for max: a fresh start.
	l.fail("c")
	l.fail("c")
	clk.advance(5 * time.Minute)
	if l.fail("c") {
		t.Error("old wrong secrets still counted")
	}
	for i := 0; i < maxTracked+10; i++ {
		l.fail("k" + string(rune(i)))
	}
	if len(l.entries) > maxTracked {
		t.Errorf("%d entries kept", len(l.entries))
	}
}

func TestLimiter(t *testing.T) {
	clk := newFrozen()
	l := newLimiter(clk.now, 120, 2) // 2 a second
	for i := 0; i < 2; i++ {
		if ok, _ := l.allow("a"); !ok {
			t.Fatal("burst refused")
		}
	}
	ok, retry := l.allow("a")
	if ok || retry <= 0 || retry > 500*time.Millisecond {
		t.Fatalf("beyond the burst: %v %v", ok, retry)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Error("another key was limited")
	}
	clk.advance(500 * time.Millisecond)
	if ok, _ := l.allow("a"); !ok {
		t.Error("not refilled")
	}
	if retrySeconds(1) != 1 || retrySeconds(1500*time.Millisecond) != 2 {
		t.Error("retrySeconds")
	}
}

func TestClientIP(t *testing.T) {
	trusted := parseNets([]string{"10.0.0.1", "192.168.0.0/16"})
	tests := []struct {
		remote, xff, want string
	}{
		{"203.0.113.5:1234", "", "203.0.113.5"},
		{"203.0.113.5:1234", "1.2.3.4", "203.0.113.5"}, // not from a trusted proxy: XFF ignored
		{"10.0.0.1:443", "198.51.100.9", "198.51.100.9"},
		{"10.0.0.1:443", "6.6.6.6, 198.51.100.9, 192.168.1.1", "198.51.100.9"},
		{"10.0.0.1:443", "nonsense", "10.0.0.1"},
		{"10.0.0.1:443", "", "10.0.0.1"},
	}
	for _, tc := range tests {
		r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := clientIP(r, trusted); got != tc.want {
			t.Errorf("%s %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
	if addrKey("2001:db8::1") != addrKey("2001:db8::ffff") || addrKey("1.2.3.4") != "1.2.3.4" {
		t.Error("addrKey")
	}
}

func TestClients(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, err := AddClient(ctx, e.st, testConn, "  ", "cli"); err == nil {
		t.Error("a client without a name")
	}
	c, err := AddClient(ctx, e.st, testConn, "Join production", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.ClientID, "mci_") || !strings.HasPrefix(c.ClientSecret, "mcs_") || len(c.ClientSecret) != 47 {
		t.Errorf("credentials %+v", c)
	}
	stored, _ := e.st.IntegrationClientByID(ctx, c.ClientID)
	if stored.SecretHash == c.ClientSecret || !secretMatches(c.ClientSecret, stored.SecretHash) || secretMatches(c.ClientSecret+"x", stored.SecretHash) {
		t.Errorf("stored hash %q", stored.SecretHash)
	}
	if _, err := RevokeClient(ctx, e.st, c.ClientID, "", "rotated"); err != nil {
		t.Fatal(err)
	}
	list, err := ListClients(ctx, e.st, testConn)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %+v %v", list, err)
	}
	var out bytes.Buffer
	if err := WriteClients(&out, list); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, c.ClientID) || !strings.Contains(s, "revoked") || !strings.Contains(s, "Join production") ||
		strings.Contains(s, stored.SecretHash) || strings.Contains(s, c.ClientSecret) {
		t.Errorf("table:\n%s", s)
	}
	out.Reset()
	WriteCredentials(&out, c)
	if !strings.Contains(out.String(), c.ClientSecret) || !strings.Contains(out.String(), "shown only now") {
		t.Errorf("credentials:\n%s", out.String())
	}
	// A client of another connection is no client of this one.
	z, _ := AddClient(ctx, e.st, "ziplanerx", "ZipLaneRx", "cli")
	e.creds = z
	a := e.tokenForm(map[string][]string{"grant_type": {"client_credentials"}}, z.ClientID, z.ClientSecret, nil)
	if a.status != http.StatusUnauthorized {
		t.Errorf("another connection's client: %d %s", a.status, a.body)
	}
}

// TestCertificateFiles: a configured certificate is served and a renewed
// one is picked up without a restart.
func TestCertificateFiles(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, certPath, keyPath, "first")
	e := newEnv(t, func(o *Options) {
		o.Config.TLS = TLSConfig{CertFile: certPath, KeyFile: keyPath}
		o.Certificate = nil
	})
	cn := func() string {
		c, err := tls.Dial("tcp", e.srv.Addr().String(), &tls.Config{InsecureSkipVerify: true}) // reads the served certificate
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := cn(); got != "first" {
		t.Fatalf("served %q", got)
	}
	writeCert(t, certPath, keyPath, "renewed")
	future := time.Now().Add(time.Minute)
	os.Chtimes(certPath, future, future)
	os.Chtimes(keyPath, future, future)
	e.clk.advance(11 * time.Second)
	if got := cn(); got != "renewed" {
		t.Errorf("after renewal served %q", got)
	}
	// Unreadable files: Run fails, naming the file, and reports it.
	os.WriteFile(certPath, []byte("not a certificate"), 0o600)
	e.stop()
	srv, err := New(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Run(context.Background()); err == nil || !strings.Contains(err.Error(), certPath) {
		t.Errorf("Run with a broken certificate: %v", err)
	}
	if h := e.health.last(); h.Code != "tls-failed" {
		t.Errorf("health: %+v", h)
	}
}

func writeCert(t *testing.T, certPath, keyPath, cn string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
}
