package device

import (
	"net"
	"net/url"
	"strings"
	"testing"
)

func TestPairingURL(t *testing.T) {
	t.Parallel()
	fp := strings.Repeat("0f", 32)
	lan := func() string { return "192.0.2.7" }
	tests := []struct {
		listen, fp, code string
		wantAddr         string
		want             string
	}{
		{"192.0.2.5:8443", fp, "012345", "192.0.2.5:8443", "mconnect://192.0.2.5:8443?code=012345&fp=" + fp},
		{":8443", fp, "999999", "192.0.2.7:8443", "mconnect://192.0.2.7:8443?code=999999&fp=" + fp},
		{"0.0.0.0:9443", fp, "000001", "192.0.2.7:9443", "mconnect://192.0.2.7:9443?code=000001&fp=" + fp},
		{"[::]:8443", fp, "123456", "192.0.2.7:8443", "mconnect://192.0.2.7:8443?code=123456&fp=" + fp},
		{"[2001:db8::1]:8443", fp, "123456", "[2001:db8::1]:8443", "mconnect://[2001:db8::1]:8443?code=123456&fp=" + fp},
		{"hub.praxis.local:8443", fp, "123456", "hub.praxis.local:8443", "mconnect://hub.praxis.local:8443?code=123456&fp=" + fp},
		{"192.0.2.5:8080", "", "123456", "192.0.2.5:8080", "mconnect://192.0.2.5:8080?code=123456&tls=0"},
		{"192.0.2.5:8443", fp, "", "192.0.2.5:8443", "mconnect://192.0.2.5:8443?fp=" + fp},
		{"no-port", fp, "123456", "no-port", "mconnect://no-port?code=123456&fp=" + fp},
	}
	for _, tc := range tests {
		addr := tabletAddress(tc.listen, lan)
		if addr != tc.wantAddr {
			t.Errorf("tabletAddress(%q) = %q, want %q", tc.listen, addr, tc.wantAddr)
		}
		got := pairingURL(addr, tc.fp, tc.code)
		if got != tc.want {
			t.Errorf("pairing URL for %q = %q, want %q", tc.listen, got, tc.want)
			continue
		}
		// What a tablet parses back out of the QR code.
		u, err := url.Parse(got)
		if err != nil {
			t.Errorf("%s: %v", got, err)
			continue
		}
		q := u.Query()
		if u.Scheme != PairingScheme || u.Host != tc.wantAddr || q.Get("fp") != tc.fp || q.Get("code") != tc.code || (tc.fp == "") != (q.Get("tls") == "0") {
			t.Errorf("%s parses as scheme %q host %q query %v", got, u.Scheme, u.Host, q)
		}
	}
}

func TestPairingURLExported(t *testing.T) {
	t.Parallel()
	fp := strings.Repeat("ab", 32)
	if got, want := PairingURL("127.0.0.1:8443", fp, "123456"), "mconnect://127.0.0.1:8443?code=123456&fp="+fp; got != want {
		t.Errorf("PairingURL = %q, want %q", got, want)
	}
	// A wildcard listen address becomes an IPv4 address of this machine.
	host, port, err := net.SplitHostPort(TabletAddress(":8443"))
	if ip := net.ParseIP(host); err != nil || ip == nil || ip.To4() == nil || ip.IsUnspecified() || port != "8443" {
		t.Errorf("TabletAddress(:8443) = %s:%s (%v), want an IPv4 address of this machine", host, port, err)
	}
}
