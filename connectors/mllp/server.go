package mllp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
)

// Handler answers frames received by a Server.
type Handler interface {
	// ServeMLLP handles one message and returns the reply to frame back
	// (nil: no reply). It is called for one frame at a time per connection.
	ServeMLLP(ctx context.Context, peer net.Addr, msg []byte) []byte
	// Oversize returns the reply to a frame over the size limit (head holds
	// its first bytes); the connection is closed after the reply.
	Oversize(ctx context.Context, peer net.Addr, head []byte, limit int) []byte
}

// HandlerFunc adapts a function to Handler; oversize frames get no reply.
type HandlerFunc func(ctx context.Context, peer net.Addr, msg []byte) []byte

// ServeMLLP calls f.
func (f HandlerFunc) ServeMLLP(ctx context.Context, peer net.Addr, msg []byte) []byte {
	return f(ctx, peer, msg)
}

// Oversize returns nil.
func (f HandlerFunc) Oversize(context.Context, net.Addr, []byte, int) []byte { return nil }

// ServerOptions configure a Server. Zero values take the defaults named.
type ServerOptions struct {
	// Allow lists the networks peers may connect from; empty allows any.
	// A refused peer is closed at once, logged and reported to Health.
	Allow []netip.Prefix
	// MaxConns bounds concurrent connections (default 32); further peers
	// wait in the listen backlog.
	MaxConns int
	// MaxMessageSize bounds one frame (default DefaultMaxMessageSize).
	MaxMessageSize int
	// IdleTimeout cuts a connection silent for this long, between frames or
	// inside one (default 5 minutes).
	IdleTimeout time.Duration
	// ReadTimeout bounds the time to receive one whole frame once its first
	// byte arrived (default 2 minutes).
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a reply: a peer that does not read its
	// ACK is cut (default 30 seconds).
	WriteTimeout time.Duration
	// ShutdownGrace is how long Serve waits, once its context is done, for
	// messages being handled to finish (default 10 seconds).
	ShutdownGrace time.Duration
	// Log receives connection events (default: discarded).
	Log logrus.FieldLogger
	// Health receives refused-peer reports under Component (optional).
	Health    domain.HealthReporter
	Component string
}

// ParseAllowList reads CIDRs ("192.168.1.0/24") and single addresses
// ("192.168.1.10") into prefixes.
func ParseAllowList(entries []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if strings.Contains(e, "/") {
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return nil, fmt.Errorf("mllp: allow-list entry %q: %w", e, err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(e)
		if err != nil {
			return nil, fmt.Errorf("mllp: allow-list entry %q: %w", e, err)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Server accepts MLLP connections and hands each frame to its Handler.
type Server struct {
	opts ServerOptions
	h    Handler
	log  logrus.FieldLogger

	mu      sync.Mutex
	conns   map[*serverConn]struct{}
	closing atomic.Bool
}

// NewServer returns a server; Serve starts it.
func NewServer(opts ServerOptions, h Handler) *Server {
	if opts.MaxConns <= 0 {
		opts.MaxConns = 32
	}
	if opts.MaxMessageSize <= 0 {
		opts.MaxMessageSize = DefaultMaxMessageSize
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 5 * time.Minute
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = 2 * time.Minute
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 30 * time.Second
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 10 * time.Second
	}
	log := opts.Log
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = l
	}
	return &Server{opts: opts, h: h, log: log, conns: map[*serverConn]struct{}{}}
}

// Allowed reports whether addr may connect.
func (s *Server) Allowed(addr net.Addr) bool {
	if len(s.opts.Allow) == 0 {
		return true
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range s.opts.Allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Serve accepts connections on ln until ctx is done, then stops accepting,
// closes idle connections, lets messages being handled finish (up to
// ShutdownGrace) and returns nil. It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	handlerCtx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()
	sem := make(chan struct{}, s.opts.MaxConns)
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var acceptErr error
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		c, err := ln.Accept()
		if err != nil {
			<-sem
			if ctx.Err() != nil {
				break
			}
			if errors.Is(err, net.ErrClosed) {
				acceptErr = fmt.Errorf("mllp: listener closed: %w", err)
				break
			}
			// Out of file descriptors and the like: wait and try again.
			s.log.WithError(err).Warn("mllp: accept failed; retrying")
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		if !s.Allowed(c.RemoteAddr()) {
			<-sem
			s.refuse(c)
			continue
		}
		sc := &serverConn{Conn: c, srv: s}
		s.track(sc, true)
		wg.Add(1)
		go func() {
			defer func() { <-sem; s.track(sc, false); wg.Done() }()
			sc.serve(handlerCtx)
		}()
	}
	ln.Close()
	s.closing.Store(true)
	s.mu.Lock()
	for c := range s.conns {
		c.interrupt()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.opts.ShutdownGrace):
		s.log.Warn("mllp: shutdown grace elapsed; closing connections with messages in progress")
		cancelHandlers()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		<-done
	}
	return acceptErr
}

func (s *Server) track(c *serverConn, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		s.conns[c] = struct{}{}
		if s.closing.Load() {
			c.interrupt()
		}
	} else {
		delete(s.conns, c)
	}
}

func (s *Server) refuse(c net.Conn) {
	peer := c.RemoteAddr().String()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
	s.log.WithField("peer", peer).Warn("mllp: connection refused: address not in the allow-list")
	if s.opts.Health != nil {
		s.opts.Health.Report(domain.Health{
			Component: s.opts.Component, Code: "peer-refused", Severity: domain.SeverityWarning,
			Args:      map[string]string{"peer": peer},
			LastError: "refused " + peer, At: time.Now(),
		})
	}
}

// serverConn is one accepted connection.
type serverConn struct {
	net.Conn
	srv *Server
	// frameStart is when the current frame's first byte arrived (zero
	// between frames); touched only by the connection's goroutine.
	frameStart time.Time
	closing    atomic.Bool
}

// interrupt makes a blocked read return now (shutdown).
func (c *serverConn) interrupt() {
	c.closing.Store(true)
	_ = c.Conn.SetReadDeadline(time.Now())
}

// Read applies the idle and whole-frame deadlines.
func (c *serverConn) Read(p []byte) (int, error) {
	if c.closing.Load() {
		return 0, net.ErrClosed
	}
	now := time.Now()
	dl := now.Add(c.srv.opts.IdleTimeout)
	if !c.frameStart.IsZero() {
		if fd := c.frameStart.Add(c.srv.opts.ReadTimeout); fd.Before(dl) {
			dl = fd
		}
	}
	_ = c.Conn.SetReadDeadline(dl)
	if c.closing.Load() {
		_ = c.Conn.SetReadDeadline(now)
	}
	n, err := c.Conn.Read(p)
	if n > 0 && c.frameStart.IsZero() {
		c.frameStart = time.Now()
	}
	return n, err
}

func (c *serverConn) serve(ctx context.Context) {
	defer c.Close()
	peer := c.RemoteAddr()
	log := c.srv.log.WithField("peer", peer.String())
	log.Debug("mllp: connection opened")
	r := NewReader(c, c.srv.opts.MaxMessageSize)
	r.OnJunk = func(n int) { log.WithField("bytes", n).Warn("mllp: discarded bytes outside a frame") }
	bw := bufio.NewWriter(c.Conn)
	for {
		if r.Buffered() == 0 {
			c.frameStart = time.Time{}
		}
		msg, err := r.ReadFrame()
		if err != nil {
			var tooBig *FrameTooLargeError
			switch {
			case errors.As(err, &tooBig):
				log.WithField("limit", tooBig.Limit).Warn("mllp: frame over the size limit; answering and closing")
				if reply := c.srv.h.Oversize(ctx, peer, tooBig.Head, tooBig.Limit); reply != nil {
					_ = c.write(bw, reply)
				}
				if tc, ok := c.Conn.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
			case errors.Is(err, io.EOF):
				log.Debug("mllp: connection closed by peer")
			case errors.Is(err, ErrUnterminated):
				log.WithError(err).Warn("mllp: peer closed inside a frame; partial message dropped")
			case c.closing.Load() || errors.Is(err, net.ErrClosed):
				log.Debug("mllp: connection closed for shutdown")
			case errors.Is(err, os.ErrDeadlineExceeded):
				log.Info("mllp: connection idle or frame too slow; closing")
			default:
				log.WithError(err).Warn("mllp: read failed; closing")
			}
			return
		}
		c.frameStart = time.Time{}
		reply := c.srv.h.ServeMLLP(ctx, peer, msg)
		if reply != nil {
			if err := c.write(bw, reply); err != nil {
				log.WithError(err).Warn("mllp: reply not delivered (peer not reading?); closing")
				return
			}
		}
		if c.closing.Load() {
			return
		}
	}
}

func (c *serverConn) write(bw *bufio.Writer, reply []byte) error {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.srv.opts.WriteTimeout))
	if err := WriteFrame(bw, reply); err != nil {
		return err
	}
	return bw.Flush()
}
