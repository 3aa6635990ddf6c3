package tlscert

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
)

// cipherSuites are the TLS 1.2 suites a hub endpoint accepts: forward
// secret (ECDHE) with an AEAD cipher. CBC suites (with SHA-1 MACs: Lucky13,
// BEAST-era padding oracles) and static-RSA key exchange are left out. TLS
// 1.3 suites are not configurable in Go and are all AEAD.
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	// RSA certificates, for an endpoint given a CA-issued certificate.
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// CipherSuites returns the TLS 1.2 cipher suites ServerConfig allows.
func CipherSuites() []uint16 { return append([]uint16(nil), cipherSuites...) }

// ServerConfig returns the TLS configuration for a hub server presenting
// cert: TLS 1.2 at least, and for TLS 1.2 only the ECDHE AEAD suites of
// CipherSuites (no CBC-SHA1). Each call returns a new *tls.Config the caller
// may extend (NextProtos, client certificates).
func ServerConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: CipherSuites(),
		Certificates: []tls.Certificate{cert},
	}
}

// ClientConfig returns the TLS configuration for a connection the hub
// makes (to an EHR's HTTPS endpoint, verified against the system's CAs):
// the same versions and suites as ServerConfig. Each call returns a new
// *tls.Config.
func ClientConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: CipherSuites()}
}

// Transport is Go's default HTTP transport with ClientConfig's TLS
// settings: for the hub's own requests to EHRs' web services.
func Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = ClientConfig()
	return t
}

// PinnedClientConfig is ClientConfig for a server known by the SHA-256
// fingerprint of its certificate (a hub, as tablets pin it) instead of a
// CA: any other certificate fails the handshake.
func PinnedClientConfig(fingerprint string) *tls.Config {
	want := NormalizeFingerprint(fingerprint)
	c := ClientConfig()
	c.InsecureSkipVerify = true // the pin below replaces CA verification
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tlscert: the server sent no certificate")
		}
		if got := Fingerprint(cs.PeerCertificates[0].Raw); got != want {
			return fmt.Errorf("tlscert: server certificate fingerprint %s does not match the pinned %s", got, want)
		}
		return nil
	}
	return c
}
