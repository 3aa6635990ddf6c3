package tlscert

import (
	"crypto/tls"
	"strings"
	"testing"
)

// TestTransportLeavesOutWeakSuites: the hub's requests to EHRs' web services
// offer TLS 1.2 and later without CBC with SHA-1.
func TestTransportLeavesOutWeakSuites(t *testing.T) {
	c := Transport().TLSClientConfig
	if c == nil || c.MinVersion != tls.VersionTLS12 || len(c.CipherSuites) == 0 {
		t.Fatalf("TLS config %+v", c)
	}
	for _, id := range c.CipherSuites {
		if name := tls.CipherSuiteName(id); strings.HasSuffix(name, "_CBC_SHA") {
			t.Errorf("offers %s", name)
		}
	}
}
