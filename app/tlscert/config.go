package tlscert

import "crypto/tls"

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
