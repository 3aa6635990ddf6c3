package gdtfile

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/tlscert"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/internal/testfs"
)

// TestFTPSUsesTheHubsServerSettings: the embedded FTPS endpoint, as the
// kind builds it, refuses a client offering only CBC-SHA1 suites and takes
// one offering the hub's AEAD suites.
func TestFTPSUsesTheHubsServerSettings(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	prof, err := catalogue.Lookup("tomedo")
	if err != nil {
		t.Fatal(err)
	}
	c := Kind().Example(prof, dir).(*Config)
	c.FTP.Enabled, c.FTP.TLS, c.FTP.Listen = true, true, "127.0.0.1:0"
	env := connector.Env{Name: "tomedo", Profile: prof, DataDir: dir, TempDir: filepath.Join(dir, "tmp"),
		Orders: newSink(), Secret: func(string, string) (string, error) { return "pw", nil },
		Certificate: func() (tls.Certificate, error) { c, _, err := tlscert.LoadOrCreate(dir); return c, err }}
	parts, inb, err := assemble(env, c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := parts.Inbound[0]
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	defer func() { cancel(); <-done }()
	ftpAddr := inb.FTPAddr()
	handshake := func(suites []uint16) error {
		conn, err := net.DialTimeout("tcp", ftpAddr, 5*time.Second)
		if err != nil {
			return err
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(conn)
		if _, err := br.ReadString('\n'); err != nil {
			return err
		}
		fmt.Fprintf(conn, "AUTH TLS\r\n")
		line, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "234") {
			return fmt.Errorf("AUTH TLS answered %q (%v)", line, err)
		}
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, CipherSuites: suites})
		return tc.Handshake()
	}
	cbc := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA}
	if err := handshake(cbc); err == nil {
		t.Error("FTPS accepted a TLS 1.2 client offering only CBC-SHA1 suites")
	}
	if err := handshake(tlscert.CipherSuites()); err != nil {
		t.Errorf("FTPS refused the hub's own suites: %v", err)
	}
}
