// Package ftp is the hub's embedded FTP endpoint (goftp.io/server/v2) for
// EHRs that deliver exchange files over FTP. It serves one root folder (plus
// optional extra folders mounted as top-level directories), nothing else:
// paths are resolved inside those folders, every component of a path is
// followed (symbolic links included), and anything leading out of them is
// refused. Uploads are written to a temp file outside the served folders and
// renamed into place when the transfer completes, so a folder watcher never
// sees half a file; OnUpload then reports the complete file.
//
// The endpoint defends itself on the clinic LAN: a connection must log in
// within LoginTimeout; only logged-in sessions count towards MaxConnections,
// while connections not yet logged in are bounded per address and in total
// and the oldest of them makes room for a new one, so idle connections never
// lock the EHR out. Wrong passwords are answered after a growing delay, and
// after MaxLoginFailures the address is locked out for LockDuration
// (doubling with each further lock); OnLoginLock tells the hub.
//
// The package knows nothing of GDT or HL7.
package ftp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

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
	// MaxConnections bounds concurrent logged-in sessions; default 8.
	// Connections that have not logged in yet do not count.
	MaxConnections int
	// MaxConnectionsPerIP bounds the connections (logged in or not) from
	// one client address; default 4. When reached, the address's oldest
	// connection that has not logged in is closed to make room; when all
	// are logged in the new one is refused (421).
	MaxConnectionsPerIP int
	// MaxPendingLogins bounds connections that have not logged in yet, over
	// all addresses; default 16. When reached, the oldest is closed to make
	// room for the new one.
	MaxPendingLogins int
	// LoginTimeout is how long a connection may take to log in (TLS
	// handshake included) before it is closed; default 30 s.
	LoginTimeout time.Duration
	// IdleTimeout closes a logged-in session that sends no command for this
	// long (transfers do not count as idle); default 5 min.
	IdleTimeout time.Duration
	// MaxLoginFailures is the number of wrong passwords from one address
	// (within 15 minutes) that locks it out; default 5. Each wrong password
	// is answered after FailureDelay, doubled per failure (at most 5 s).
	MaxLoginFailures int
	// FailureDelay is the delay before the first wrong password is
	// answered; default 500 ms.
	FailureDelay time.Duration
	// LockDuration is how long an address is locked out the first time;
	// each further lock doubles it, up to MaxLockDuration. A successful
	// login forgets the address's history. Defaults 1 min and 1 h.
	LockDuration, MaxLockDuration time.Duration
	// OnLoginLock, when set, is called when an address is locked out (for
	// the hub's health display). It must not block.
	OnLoginLock func(LoginLock)
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
	opts  Options
	log   logrus.FieldLogger
	srv   *server.Server
	ln    net.Listener
	guard *guard
	stop  chan struct{} // closed when Serve ends
	// sleep waits before a wrong password is answered (replaceable in tests).
	sleep func(d time.Duration, done, stop <-chan struct{})

	mu       sync.Mutex
	conns    map[*trackedConn]struct{}
	byAddr   map[string]*trackedConn // by remote address, to find a session's connection
	perIP    map[string]int          // connections per client address
	pending  int                     // connections not logged in
	loggedIn int                     // logged-in sessions
	warned   map[string]time.Time    // last warning per kind and address
	closed   bool
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
	setDefaults(&opts)
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
	s := &Server{
		opts: opts, log: log, ln: ln, stop: make(chan struct{}), sleep: sleepUnless,
		guard:  newGuard(opts.MaxLoginFailures, opts.LockDuration, opts.MaxLockDuration, opts.FailureDelay, time.Now),
		conns:  map[*trackedConn]struct{}{},
		byAddr: map[string]*trackedConn{},
		perIP:  map[string]int{},
		warned: map[string]time.Time{},
	}
	port := ln.Addr().(*net.TCPAddr).Port
	srvOpts := &server.Options{
		Driver:         &driver{s: s},
		Auth:           auth{s: s},
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

// Defaults for Options.
const (
	DefaultMaxConnections      = 8
	DefaultMaxConnectionsPerIP = 4
	DefaultMaxPendingLogins    = 16
	DefaultLoginTimeout        = 30 * time.Second
	DefaultIdleTimeout         = 5 * time.Minute
)

func setDefaults(o *Options) {
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.MaxConnectionsPerIP <= 0 {
		o.MaxConnectionsPerIP = DefaultMaxConnectionsPerIP
	}
	if o.MaxPendingLogins <= 0 {
		o.MaxPendingLogins = DefaultMaxPendingLogins
	}
	if o.LoginTimeout <= 0 {
		o.LoginTimeout = DefaultLoginTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxLoginFailures <= 0 {
		o.MaxLoginFailures = DefaultMaxLoginFailures
	}
	if o.FailureDelay <= 0 {
		o.FailureDelay = DefaultFailureDelay
	}
	if o.LockDuration <= 0 {
		o.LockDuration = DefaultLockDuration
	}
	if o.MaxLockDuration <= 0 {
		o.MaxLockDuration = DefaultMaxLockDuration
	}
	if o.MaxLockDuration < o.LockDuration {
		o.MaxLockDuration = o.LockDuration
	}
}

// LoginLocks lists the client addresses locked out now after wrong
// passwords, soonest expiry first.
func (s *Server) LoginLocks() []LoginLock { return s.guard.locks() }

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
		close(s.stop)
		var open []*trackedConn
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
