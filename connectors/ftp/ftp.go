// Package ftp is the hub's embedded FTP endpoint (goftp.io/server/v2) for
// EHRs that deliver exchange files over FTP. It serves one root folder (plus
// optional extra folders mounted as top-level directories), nothing else:
// paths are resolved inside those folders and anything escaping them is
// refused. Uploads are written to a temp file outside the served folders and
// renamed into place when the transfer completes, so a folder watcher never
// sees half a file; OnUpload then reports the complete file.
//
// The package knows nothing of GDT or HL7.
package ftp

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"
	server "goftp.io/server/v2"
)

// Options configure the endpoint.
type Options struct {
	// Addr is the IPv4 listen address, e.g. "0.0.0.0:2121" or "127.0.0.1:0".
	// (PASV has no IPv6 support in the server library.)
	Addr string
	// Root is the folder served as "/".
	Root string
	// Mounts are extra folders served as top-level directories: name -> folder
	// (e.g. "results" -> the result folder).
	Mounts map[string]string
	// User and Password are the only credentials accepted (resolved from the
	// keyring by the hub; never logged).
	User, Password string
	// PassivePorts is the passive data port range "30000-30009"; empty picks any free port.
	PassivePorts string
	// PublicIP is announced in PASV replies when clients reach the hub through NAT.
	PublicIP string
	// TLSConfig enables explicit FTPS (AUTH TLS) when set.
	TLSConfig *tls.Config
	// RequireTLS refuses every command before AUTH TLS (needs TLSConfig).
	RequireTLS bool
	// MaxConnections bounds concurrent control connections; default 8.
	MaxConnections int
	// TempDir holds uploads in progress; default a ".mconnect-ftp" sibling of
	// Root (same filesystem, so the final rename is atomic).
	TempDir string
	// OnUpload is called after an upload is complete and in place, with the
	// real path of the file.
	OnUpload func(realPath string, size int64)
	// Logger receives connection and transfer messages at debug level.
	Logger logrus.FieldLogger
}

// Server is a running or runnable FTP endpoint.
type Server struct {
	opts   Options
	log    logrus.FieldLogger
	srv    *server.Server
	ln     net.Listener
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// New checks the options, creates the folders and binds the listener, so
// that Addr is known (and a busy port reported) before Serve.
func New(opts Options) (*Server, error) {
	if opts.Root == "" {
		return nil, errors.New("ftp: no root folder")
	}
	if opts.User == "" || opts.Password == "" {
		return nil, errors.New("ftp: user and password are required")
	}
	if opts.RequireTLS && opts.TLSConfig == nil {
		return nil, errors.New("ftp: TLS required but no TLS configuration given")
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = 8
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("ftp: %w", err)
	}
	opts.Root = root
	mounts := map[string]string{}
	for name, dir := range opts.Mounts {
		if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
			return nil, fmt.Errorf("ftp: mount name %q must be a plain name", name)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("ftp: %w", err)
		}
		mounts[name] = abs
	}
	opts.Mounts = mounts
	if opts.TempDir == "" {
		opts.TempDir = filepath.Join(filepath.Dir(root), ".mconnect-ftp")
	}
	for _, d := range append([]string{root, opts.TempDir}, values(mounts)...) {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("ftp: folder %s cannot be created: %w", d, err)
		}
	}
	host, portStr, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("ftp: listen address %q: %w", opts.Addr, err)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	if ip := net.ParseIP(host); ip == nil || ip.To4() == nil {
		return nil, fmt.Errorf("ftp: listen address %q must be an IPv4 address (passive mode has no IPv6)", opts.Addr)
	}
	log := opts.Logger
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = l
	}
	log = log.WithField("component", "ftp")
	ln, err := net.Listen("tcp4", net.JoinHostPort(host, portStr))
	if err != nil {
		return nil, fmt.Errorf("ftp: listen on %s: %w", opts.Addr, err)
	}
	s := &Server{opts: opts, log: log, ln: ln, conns: map[net.Conn]struct{}{}}
	port := ln.Addr().(*net.TCPAddr).Port
	srvOpts := &server.Options{
		Driver:         &driver{s: s},
		Auth:           auth{user: opts.User, pass: opts.Password},
		Perm:           server.NewSimplePerm("mconnect", "mconnect"),
		Name:           "mCONNECT Hub",
		Hostname:       host,
		Port:           port,
		PublicIP:       opts.PublicIP,
		PassivePorts:   opts.PassivePorts,
		TLS:            opts.TLSConfig != nil,
		ExplicitFTPS:   opts.TLSConfig != nil,
		TLSConfig:      opts.TLSConfig,
		WelcomeMessage: "mCONNECT Hub FTP ready",
		Logger:         ftpLogger{log},
	}
	srv, err := server.NewServer(srvOpts)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("ftp: %w", err)
	}
	// The library drops Options.ForceTLS; set it on the server.
	srv.ForceTLS = opts.RequireTLS
	if opts.TLSConfig != nil {
		// The library sets its TLS configuration up only inside
		// ListenAndServe. Run that against our own bound port: it stores
		// the configuration, then fails to bind (the port is ours) and
		// returns, and Serve below uses our listener.
		if err := srv.ListenAndServe(); err == nil {
			ln.Close()
			return nil, errors.New("ftp: unexpected second listener")
		}
	}
	s.srv = srv
	return s, nil
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts connections until ctx is done, then closes the listener and
// every open connection.
func (s *Server) Serve(ctx context.Context) error {
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
		}
		s.mu.Lock()
		s.closed = true
		var open []net.Conn
		for c := range s.conns {
			open = append(open, c)
		}
		s.mu.Unlock()
		s.ln.Close()
		for _, c := range open {
			c.Close()
		}
	}()
	s.log.WithField("addr", s.ln.Addr().String()).WithField("tls", s.opts.TLSConfig != nil).Info("FTP endpoint listening")
	err := s.srv.Serve(&limitListener{Listener: s.ln, s: s})
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("ftp: %w", err)
}

// limitListener bounds concurrent connections: beyond the limit a client gets
// "421" and is closed.
type limitListener struct {
	net.Listener
	s *Server
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		s := l.s
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return nil, net.ErrClosed
		}
		if len(s.conns) >= s.opts.MaxConnections {
			s.mu.Unlock()
			s.log.WithField("remote", c.RemoteAddr().String()).Warn("FTP connection refused: too many connections")
			_, _ = io.WriteString(c, "421 Too many connections, try again later.\r\n")
			c.Close()
			continue
		}
		tc := &trackedConn{Conn: c, s: s}
		s.conns[tc] = struct{}{}
		s.mu.Unlock()
		return tc, nil
	}
}

type trackedConn struct {
	net.Conn
	s    *Server
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}

type auth struct{ user, pass string }

// CheckPasswd compares in constant time.
func (a auth) CheckPasswd(_ *server.Context, user, pass string) (bool, error) {
	u := subtle.ConstantTimeCompare([]byte(user), []byte(a.user))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(a.pass))
	return u&p == 1, nil
}

// ftpLogger sends the library's messages to our logger at debug level and
// never logs a password.
type ftpLogger struct{ log logrus.FieldLogger }

func (l ftpLogger) Print(id string, msg interface{}) {
	l.log.WithField("session", id).Debug(fmt.Sprint(msg))
}
func (l ftpLogger) Printf(id string, format string, v ...interface{}) {
	l.log.WithField("session", id).Debugf(format, v...)
}
func (l ftpLogger) PrintCommand(id string, cmd string, params string) {
	if strings.EqualFold(cmd, "PASS") {
		params = "****"
	}
	l.log.WithField("session", id).Debugf("> %s %s", cmd, params)
}
func (l ftpLogger) PrintResponse(id string, code int, message string) {
	l.log.WithField("session", id).Debugf("< %d %s", code, message)
}

// errOutside is returned for any path that would leave the served folders.
var errOutside = errors.New("path outside the exchange folders")

// driver maps FTP paths to the served folders.
type driver struct{ s *Server }

// resolve maps an FTP path to a real path inside Root or a mount. Hidden
// names (starting with '.') are refused, and symbolic links may not lead
// outside the folder they are in.
func (d *driver) resolve(p string) (string, error) {
	if strings.ContainsRune(p, 0) || strings.Contains(p, `\`) {
		return "", errOutside
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", errOutside
		}
	}
	clean := path.Clean("/" + p)
	parts := strings.Split(strings.TrimPrefix(clean, "/"), "/")
	for _, part := range parts {
		if strings.HasPrefix(part, ".") {
			return "", errOutside
		}
	}
	base := d.s.opts.Root
	rest := parts
	if len(parts) > 0 && parts[0] != "" {
		if m, ok := d.s.opts.Mounts[parts[0]]; ok {
			base, rest = m, parts[1:]
		}
	}
	real := filepath.Join(append([]string{base}, rest...)...)
	if rel, err := filepath.Rel(base, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", errOutside
	}
	// A symbolic link must not lead out of the folder.
	if ev, err := filepath.EvalSymlinks(real); err == nil {
		evBase, _ := filepath.EvalSymlinks(base)
		if rel, err := filepath.Rel(evBase, ev); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", errOutside
		}
	}
	return real, nil
}

func (d *driver) Stat(_ *server.Context, p string) (os.FileInfo, error) {
	real, err := d.resolve(p)
	if err != nil {
		return nil, err
	}
	return os.Stat(real)
}

func (d *driver) ListDir(_ *server.Context, p string, cb func(os.FileInfo) error) error {
	real, err := d.resolve(p)
	if err != nil {
		return err
	}
	des, err := os.ReadDir(real)
	if err != nil {
		return err
	}
	for _, de := range des {
		if strings.HasPrefix(de.Name(), ".") {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue
		}
		if err := cb(fi); err != nil {
			return err
		}
	}
	if real == d.s.opts.Root {
		for name, dir := range d.s.opts.Mounts {
			if fi, err := os.Stat(dir); err == nil {
				if err := cb(namedInfo{FileInfo: fi, name: name}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

type namedInfo struct {
	os.FileInfo
	name string
}

func (n namedInfo) Name() string { return n.name }

func (d *driver) DeleteDir(_ *server.Context, p string) error {
	return errors.New("deleting folders is not allowed")
}

func (d *driver) DeleteFile(_ *server.Context, p string) error {
	real, err := d.resolve(p)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(real)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errors.New("not a file")
	}
	return os.Remove(real)
}

func (d *driver) Rename(_ *server.Context, from, to string) error {
	rf, err := d.resolve(from)
	if err != nil {
		return err
	}
	rt, err := d.resolve(to)
	if err != nil {
		return err
	}
	if err := os.Rename(rf, rt); err != nil {
		return err
	}
	if fi, err := os.Stat(rt); err == nil && fi.Mode().IsRegular() && d.s.opts.OnUpload != nil {
		d.s.opts.OnUpload(rt, fi.Size())
	}
	return nil
}

func (d *driver) MakeDir(_ *server.Context, p string) error {
	return errors.New("creating folders is not allowed")
}

func (d *driver) GetFile(_ *server.Context, p string, offset int64) (int64, io.ReadCloser, error) {
	real, err := d.resolve(p)
	if err != nil {
		return 0, nil, err
	}
	f, err := os.Open(real)
	if err != nil {
		return 0, nil, err
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return 0, nil, errors.New("not a file")
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return 0, nil, err
	}
	return fi.Size() - offset, f, nil
}

// PutFile writes the upload to a temp file outside the served folders and
// renames it into place when the transfer is complete. Resumed uploads
// (REST/APPE) are refused: a file appears whole or not at all.
func (d *driver) PutFile(_ *server.Context, p string, data io.Reader, offset int64) (int64, error) {
	if offset > 0 {
		return 0, errors.New("resuming uploads is not supported; upload the whole file")
	}
	real, err := d.resolve(p)
	if err != nil {
		return 0, err
	}
	if fi, err := os.Stat(filepath.Dir(real)); err != nil || !fi.IsDir() {
		return 0, errors.New("no such folder")
	}
	if fi, err := os.Lstat(real); err == nil && fi.IsDir() {
		return 0, errors.New("a folder has that name")
	}
	tmp, err := os.CreateTemp(d.s.opts.TempDir, "up-*.tmp")
	if err != nil {
		return 0, fmt.Errorf("temp file: %w", err)
	}
	n, err := io.Copy(tmp, data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		d.s.log.WithError(err).WithField("file", path.Base(p)).Warn("FTP upload aborted; nothing kept")
		return 0, err
	}
	if err := os.Rename(tmp.Name(), real); err != nil {
		os.Remove(tmp.Name())
		return 0, err
	}
	if dir, err := os.Open(filepath.Dir(real)); err == nil {
		_ = dir.Sync()
		dir.Close()
	}
	d.s.log.WithField("file", path.Base(p)).WithField("bytes", n).Debug("FTP upload complete")
	if d.s.opts.OnUpload != nil {
		d.s.opts.OnUpload(real, n)
	}
	return n, nil
}
