package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Names of the certificate files in the data folder. The names predate
// this package (the LAN endpoint created them first) and stay, so that
// existing installations keep their certificate and their paired tablets.
const (
	CertFile = "device-cert.pem"
	KeyFile  = "device-key.pem"
)

// validity is long: clients pin the fingerprint, so a renewal means
// pairing every tablet again.
const validity = 20 * 365 * 24 * time.Hour

// LoadOrCreate returns the hub's TLS certificate from dataDir, creating a
// self-signed ECDSA P-256 certificate on first use (key file mode 0600),
// with SANs for the host name, "localhost" and the machine's IP addresses.
// fingerprint is the lower-case hex SHA-256 of the DER certificate: what
// clients pin. Both files are written atomically; when only one of them
// exists, LoadOrCreate refuses rather than replace the certificate that
// paired tablets trust.
func LoadOrCreate(dataDir string) (cert tls.Certificate, fingerprint string, err error) {
	certPath := filepath.Join(dataDir, CertFile)
	keyPath := filepath.Join(dataDir, KeyFile)
	_, errC := os.Stat(certPath)
	_, errK := os.Stat(keyPath)
	switch {
	case errC == nil && errK == nil:
		cert, err = tls.LoadX509KeyPair(certPath, keyPath)
		if err != nil {
			return cert, "", fmt.Errorf("tls certificate: load %s: %w (move both %s and %s away to create a new one; tablets must then pair again)", certPath, err, CertFile, KeyFile)
		}
		return cert, Fingerprint(cert.Certificate[0]), nil
	case errors.Is(errC, os.ErrNotExist) && errors.Is(errK, os.ErrNotExist):
		// first run
	case errC != nil && !errors.Is(errC, os.ErrNotExist):
		return cert, "", fmt.Errorf("tls certificate: read certificate: %w", errC)
	case errK != nil && !errors.Is(errK, os.ErrNotExist):
		return cert, "", fmt.Errorf("tls certificate: read key: %w", errK)
	default:
		return cert, "", fmt.Errorf("tls certificate: only one of %s and %s exists in %s; restore the other or remove both to create a new certificate", CertFile, KeyFile, dataDir)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return cert, "", fmt.Errorf("tls certificate: create data folder: %w", err)
	}
	certPEM, keyPEM, err := newSelfSigned()
	if err != nil {
		return cert, "", fmt.Errorf("tls certificate: %w", err)
	}
	if err := writeFileSync(keyPath, keyPEM, 0o600); err != nil {
		return cert, "", fmt.Errorf("tls certificate: write key: %w", err)
	}
	if err := writeFileSync(certPath, certPEM, 0o644); err != nil {
		return cert, "", fmt.Errorf("tls certificate: write certificate: %w", err)
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return cert, "", fmt.Errorf("tls certificate: use the new certificate: %w", err)
	}
	return cert, Fingerprint(cert.Certificate[0]), nil
}

// Fingerprint returns the lower-case hex SHA-256 of a DER certificate.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// NormalizeFingerprint lower-cases fp and drops ':' and spaces, so that
// "AB:CD..." as some tools print it compares equal to Fingerprint's form.
func NormalizeFingerprint(fp string) string {
	return strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(fp))
}

func newSelfSigned() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("serial number: %w", err)
	}
	host, _ := os.Hostname()
	dns := []string{"localhost"}
	if host != "" {
		dns = append(dns, host)
		if !strings.HasSuffix(host, ".local") {
			dns = append(dns, host+".local")
		}
	}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
				ips = append(ips, n.IP)
			}
		}
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "mCONNECT Hub " + host, Organization: []string{"MESI mCONNECT Hub"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dns,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

// writeFileSync writes data to path atomically: a temp file in the same
// folder, fsync, rename, fsync of the folder.
func writeFileSync(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

// syncDir fsyncs a folder so that a rename in it survives a power cut.
// Some platforms (Windows) cannot open a folder for syncing; that is not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, os.ErrPermission) {
		return err
	}
	return nil
}
