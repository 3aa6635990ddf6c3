package ftp

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jftp "github.com/jlaffaye/ftp"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/mesi/mconnect/internal/testfs"
)

type uploads struct {
	mu    sync.Mutex
	files map[string]int64
}

func (u *uploads) add(p string, n int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.files[filepath.Base(p)] = n
}

func (u *uploads) get(name string) (int64, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	n, ok := u.files[name]
	return n, ok
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

type env struct {
	root, results string
	addr          string
	up            *uploads
	hook          *test.Hook
	s             *Server
}

// startServer runs a server on 127.0.0.1; mod changes the options, setup
// the server before it serves (fake clocks).
func startServer(t *testing.T, mod func(*Options), setup ...func(*Server)) *env {
	t.Helper()
	base := testfs.TempDir(t)
	e := &env{root: filepath.Join(base, "in"), results: filepath.Join(base, "out"), up: &uploads{files: map[string]int64{}}}
	log, hook := test.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	e.hook = hook
	opts := Options{
		Addr: "127.0.0.1:0", Root: e.root, Mounts: map[string]string{"results": e.results},
		User: "praxis", Password: "s3cret-pw", OnUpload: e.up.add, Logger: log,
	}
	if mod != nil {
		mod(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.addr = s.Addr().String()
	e.s = s
	for _, f := range setup {
		f(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
		for _, en := range hook.AllEntries() {
			if s, _ := en.String(); strings.Contains(s, "s3cret-pw") {
				t.Errorf("password logged: %s", s)
			}
		}
	})
	return e
}

func dial(t *testing.T, addr string) *jftp.ServerConn {
	t.Helper()
	c, err := jftp.Dial(addr, jftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Quit() })
	if err := c.Login("praxis", "s3cret-pw"); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCurlUpload(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	e := startServer(t, nil)
	src := filepath.Join(testfs.TempDir(t), "ORDER01.GDT")
	content := bytes.Repeat([]byte("0138000630\r\n"), 1000)
	os.WriteFile(src, content, 0o644)
	out, err := exec.Command("curl", "-sS", "--max-time", "30", "-T", src, "ftp://"+e.addr+"/", "--user", "praxis:s3cret-pw").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	waitFor(t, "upload reported", func() bool { _, ok := e.up.get("ORDER01.GDT"); return ok })
	if n, _ := e.up.get("ORDER01.GDT"); n != int64(len(content)) {
		t.Errorf("reported %d bytes", n)
	}
	got, _ := os.ReadFile(filepath.Join(e.root, "ORDER01.GDT"))
	if !bytes.Equal(got, content) {
		t.Error("content differs")
	}
	// A wrong password is refused.
	out, err = exec.Command("curl", "-sS", "--max-time", "30", "-T", src, "ftp://"+e.addr+"/x.gdt", "--user", "praxis:wrong").CombinedOutput()
	if err == nil {
		t.Fatalf("wrong password accepted: %s", out)
	}
	if _, err := os.Stat(filepath.Join(e.root, "x.gdt")); err == nil {
		t.Error("file stored with a wrong password")
	}
}

// slowReader hands out half the data, then waits for release.
type slowReader struct {
	data    []byte
	pos     int
	half    chan struct{}
	release chan struct{}
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.pos == len(r.data)/2 && r.half != nil {
		close(r.half)
		r.half = nil
		<-r.release
	}
	if r.pos >= len(r.data) {
		return 0, io.EOF
	}
	end := min(len(r.data), r.pos+len(p))
	if r.pos < len(r.data)/2 {
		end = min(end, len(r.data)/2)
	}
	n := copy(p, r.data[r.pos:end])
	r.pos += n
	return n, nil
}

func TestUploadAppearsOnlyWhenComplete(t *testing.T) {
	t.Parallel()
	e := startServer(t, nil)
	c := dial(t, e.addr)
	data := bytes.Repeat([]byte("x"), 1<<20)
	r := &slowReader{data: data, half: make(chan struct{}), release: make(chan struct{})}
	half := r.half
	done := make(chan error, 1)
	go func() { done <- c.Stor("BIG.GDT", r) }()
	<-half
	// Half the bytes are sent and the client waits: nothing is in the folder.
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(e.root, "BIG.GDT")); err == nil {
		t.Fatal("partial upload visible in the exchange folder")
	}
	if _, ok := e.up.get("BIG.GDT"); ok {
		t.Fatal("partial upload reported")
	}
	close(r.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "upload reported", func() bool { n, ok := e.up.get("BIG.GDT"); return ok && n == int64(len(data)) })
	if fi, err := os.Stat(filepath.Join(e.root, "BIG.GDT")); err != nil || fi.Size() != int64(len(data)) {
		t.Fatalf("stat %v %v", fi, err)
	}
}

func TestPathTraversalRefused(t *testing.T) {
	t.Parallel()
	e := startServer(t, nil)
	outside := filepath.Join(filepath.Dir(e.root), "secret.txt")
	os.WriteFile(outside, []byte("secret"), 0o644)
	os.WriteFile(filepath.Join(e.results, "R.GDT"), []byte("result"), 0o644)
	c := dial(t, e.addr)
	for _, p := range []string{"../secret.txt", "/../secret.txt", "results/../../secret.txt", "..%2fsecret.txt", `..\secret.txt`, "/.mconnect-ftp/x"} {
		if r, err := c.Retr(p); err == nil {
			b, _ := io.ReadAll(r)
			r.Close()
			t.Errorf("RETR %s gave %q", p, b)
		}
	}
	for _, p := range []string{"../evil.gdt", "results/../../evil.gdt", "/../../evil.gdt"} {
		if err := c.Stor(p, strings.NewReader("x")); err == nil {
			if _, serr := os.Stat(filepath.Join(filepath.Dir(e.root), "evil.gdt")); serr == nil {
				t.Errorf("STOR %s wrote outside the root", p)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(e.root), "evil.gdt")); err == nil {
		t.Error("file written outside the root")
	}
	// A symlink out of the root is not followed.
	os.Symlink(outside, filepath.Join(e.root, "link.txt"))
	if r, err := c.Retr("link.txt"); err == nil {
		b, _ := io.ReadAll(r)
		r.Close()
		t.Errorf("symlink followed: %q", b)
	}
	// The mounted result folder is reachable, and listing the root shows it.
	r, err := c.Retr("results/R.GDT")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "result" {
		t.Errorf("got %q", b)
	}
	names, err := c.NameList("/")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(names, ","), "results") {
		t.Errorf("root listing %v lacks the results mount", names)
	}
	if err := c.MakeDir("newdir"); err == nil {
		t.Error("MKD allowed")
	}
}

func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
}

func TestExplicitFTPS(t *testing.T) {
	t.Parallel()
	e := startServer(t, func(o *Options) { o.TLSConfig = selfSigned(t); o.RequireTLS = true })
	// Plain login is refused.
	c, err := jftp.Dial(e.addr, jftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login("praxis", "s3cret-pw"); err == nil {
		t.Error("plain login accepted although TLS is required")
	}
	c.Quit()
	// jlaffaye over explicit TLS.
	c, err = jftp.Dial(e.addr, jftp.DialWithTimeout(10*time.Second), jftp.DialWithExplicitTLS(&tls.Config{InsecureSkipVerify: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("praxis", "s3cret-pw"); err != nil {
		t.Fatal(err)
	}
	if err := c.Stor("TLS.GDT", strings.NewReader("secure")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "TLS upload", func() bool { _, ok := e.up.get("TLS.GDT"); return ok })
	// curl with --ssl-reqd.
	if _, err := exec.LookPath("curl"); err == nil {
		src := filepath.Join(testfs.TempDir(t), "CURL.GDT")
		os.WriteFile(src, []byte("via curl"), 0o644)
		out, err := exec.Command("curl", "-sS", "--max-time", "30", "--ssl-reqd", "-k", "-T", src, "ftp://"+e.addr+"/", "--user", "praxis:s3cret-pw").CombinedOutput()
		if err != nil {
			t.Fatalf("curl FTPS: %v\n%s", err, out)
		}
		waitFor(t, "curl TLS upload", func() bool { _, ok := e.up.get("CURL.GDT"); return ok })
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	root := testfs.TempDir(t)
	for name, o := range map[string]Options{
		"no root":      {Addr: "127.0.0.1:0", User: "u", Password: "p"},
		"no password":  {Addr: "127.0.0.1:0", Root: root, User: "u"},
		"ipv6":         {Addr: "[::1]:0", Root: root, User: "u", Password: "p"},
		"tls no conf":  {Addr: "127.0.0.1:0", Root: root, User: "u", Password: "p", RequireTLS: true},
		"bad mount":    {Addr: "127.0.0.1:0", Root: root, User: "u", Password: "p", Mounts: map[string]string{"../x": root}},
		"bad address":  {Addr: "nonsense", Root: root, User: "u", Password: "p"},
		"port is busy": {Addr: "", Root: root, User: "u", Password: "p"},
	} {
		if name == "port is busy" {
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			o.Addr = ln.Addr().String()
		}
		if s, err := New(o); err == nil {
			s.ln.Close()
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestResolveStaysInside(t *testing.T) {
	t.Parallel()
	base := testfs.TempDir(t)
	s := &Server{opts: Options{Root: filepath.Join(base, "in"), Mounts: map[string]string{"results": filepath.Join(base, "out")}}}
	os.MkdirAll(s.opts.Root, 0o755)
	os.MkdirAll(s.opts.Mounts["results"], 0o755)
	d := &driver{s: s}
	for _, p := range []string{"../x", "/../x", "a/../../x", "results/../../x", `..\x`, "/.hidden", "results/.tmp/x", "a\x00b"} {
		if real, err := d.resolve(p); err == nil {
			t.Errorf("resolve(%q) = %s, want refused", p, real)
		}
	}
	for p, want := range map[string]string{
		"/":             s.opts.Root,
		"/ORDER.GDT":    filepath.Join(s.opts.Root, "ORDER.GDT"),
		"ORDER.GDT":     filepath.Join(s.opts.Root, "ORDER.GDT"),
		"results/R.GDT": filepath.Join(base, "out", "R.GDT"),
		"/results":      filepath.Join(base, "out"),
	} {
		if real, err := d.resolve(p); err != nil || real != want {
			t.Errorf("resolve(%q) = %s, %v; want %s", p, real, err, want)
		}
	}
}
