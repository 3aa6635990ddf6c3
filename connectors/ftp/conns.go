package ftp

import (
	"crypto/subtle"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	server "goftp.io/server/v2"
)

// Connection limits. Only logged-in sessions count towards MaxConnections;
// connections that have not logged in yet are bounded per address and in
// total, and when a bound is reached the oldest of them makes room for the
// new one. A handful of idle connections therefore never keeps the EHR,
// which logs in within milliseconds, from getting in: to keep it out an
// intruder would have to out-connect it continuously, and even then only
// until the login deadline of each connection.
//
// The counts live in Server, guarded by Server.mu.

// limitListener tracks every accepted connection and applies the limits.
type limitListener struct {
	net.Listener
	s *Server
}

// trackedConn is a control connection the server knows about.
type trackedConn struct {
	net.Conn
	s        *Server
	ip       string
	accepted time.Time
	done     chan struct{} // closed on Close
	once     sync.Once

	// Guarded by s.mu.
	loggedIn bool
	removed  bool
}

func remoteIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if tc := l.s.admit(c); tc != nil {
			return tc, nil
		}
	}
}

// admit registers a new connection, or refuses it with 421 and returns nil.
func (s *Server) admit(c net.Conn) *trackedConn {
	ip := remoteIP(c.RemoteAddr())
	refuse := func(why, reply string) {
		s.warnSparingly(ip+" "+why, s.log.WithField("remote", ip), "FTP connection refused: "+why)
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = io.WriteString(c, "421 "+reply+"\r\n")
		c.Close()
	}
	if until, locked := s.guard.locked(ip); locked {
		refuse("address locked after failed logins", fmt.Sprintf("Too many failed logins from your address; try again after %s.", until.Format("15:04:05")))
		return nil
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.Close()
		return nil
	}
	var victim *trackedConn
	switch {
	case s.perIP[ip] >= s.opts.MaxConnectionsPerIP:
		victim = s.oldestPendingLocked(ip)
		if victim == nil {
			s.mu.Unlock()
			refuse("too many sessions from this address", "Too many connections from your address, try again later.")
			return nil
		}
	case s.pending >= s.opts.MaxPendingLogins:
		victim = s.oldestPendingLocked("")
	}
	if victim != nil {
		s.removeLocked(victim)
	}
	tc := &trackedConn{Conn: c, s: s, ip: ip, accepted: time.Now(), done: make(chan struct{})}
	s.conns[tc] = struct{}{}
	s.byAddr[c.RemoteAddr().String()] = tc
	s.perIP[ip]++
	s.pending++
	s.mu.Unlock()
	if victim != nil {
		s.log.WithField("remote", victim.ip).Info("FTP connection that had not logged in closed to make room for a new one")
		victim.Conn.Close()
		victim.once.Do(func() { close(victim.done) })
	}
	// The login deadline is absolute: reading a byte at a time does not
	// extend it. After login, Read sets the idle deadline per command.
	_ = c.SetReadDeadline(tc.accepted.Add(s.opts.LoginTimeout))
	return tc
}

// warnSparingly logs at warning level once a minute per key, else at debug
// level, so that a flood of refused connections cannot flood the log.
func (s *Server) warnSparingly(key string, log logrus.FieldLogger, msg string) {
	now := time.Now()
	s.mu.Lock()
	last, seen := s.warned[key]
	loud := !seen || now.Sub(last) >= time.Minute
	if loud {
		if len(s.warned) >= maxTracked {
			s.warned = map[string]time.Time{}
		}
		s.warned[key] = now
	}
	s.mu.Unlock()
	if loud {
		log.Warn(msg + " (further ones within a minute are logged at debug level)")
	} else {
		log.Debug(msg)
	}
}

// oldestPendingLocked returns the oldest connection that has not logged in,
// from ip ("" for any address), or nil.
func (s *Server) oldestPendingLocked(ip string) *trackedConn {
	var old *trackedConn
	for c := range s.conns {
		if c.loggedIn || (ip != "" && c.ip != ip) {
			continue
		}
		if old == nil || c.accepted.Before(old.accepted) {
			old = c
		}
	}
	return old
}

// removeLocked takes c out of the counts, once.
func (s *Server) removeLocked(c *trackedConn) {
	if c.removed {
		return
	}
	c.removed = true
	delete(s.conns, c)
	if s.byAddr[c.RemoteAddr().String()] == c {
		delete(s.byAddr, c.RemoteAddr().String())
	}
	if s.perIP[c.ip]--; s.perIP[c.ip] <= 0 {
		delete(s.perIP, c.ip)
	}
	if c.loggedIn {
		s.loggedIn--
	} else {
		s.pending--
	}
}

// Read applies the idle deadline of logged-in sessions; before login the
// absolute login deadline set at accept stays in force.
func (c *trackedConn) Read(p []byte) (int, error) {
	c.s.mu.Lock()
	in := c.loggedIn
	c.s.mu.Unlock()
	if in {
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.s.opts.IdleTimeout))
	}
	n, err := c.Conn.Read(p)
	if err != nil && !in {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			c.s.log.WithField("remote", c.ip).Info(fmt.Sprintf("FTP connection closed: no login within %s", c.s.opts.LoginTimeout))
		}
	}
	return n, err
}

func (c *trackedConn) Close() error {
	c.s.mu.Lock()
	c.s.removeLocked(c)
	c.s.mu.Unlock()
	c.once.Do(func() { close(c.done) })
	return c.Conn.Close()
}

// connFor finds the tracked connection of a session.
func (s *Server) connFor(sess *server.Session) *trackedConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byAddr[sess.RemoteAddr().String()]
}

// auth checks passwords for the server library, applying the login guard
// and the session limit.
type auth struct{ s *Server }

// CheckPasswd compares in constant time. A wrong password is answered after
// a delay that grows with each failure from the address; after
// MaxLoginFailures the address is locked out (421, connection closed).
// A right password gets a session only while fewer than MaxConnections are
// logged in.
func (a auth) CheckPasswd(ctx *server.Context, user, pass string) (bool, error) {
	s := a.s
	tc := s.connFor(ctx.Sess)
	if tc == nil {
		return false, fmt.Errorf("connection not tracked")
	}
	if until, locked := s.guard.locked(tc.ip); locked {
		s.warnSparingly(tc.ip+" locked login", s.log.WithField("remote", tc.ip), "FTP login refused: address locked after failed logins")
		hangUp(ctx, tc, fmt.Sprintf("Too many failed logins from your address; try again after %s.", until.Format("15:04:05")))
		return false, nil
	}
	u := subtle.ConstantTimeCompare([]byte(user), []byte(s.opts.User))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.Password))
	if u&p != 1 {
		delay, lock := s.guard.fail(tc.ip)
		log := s.log.WithField("remote", tc.ip)
		if lock != nil {
			log.WithField("failures", lock.Failures).WithField("until", lock.Until.Format(time.RFC3339)).
				Warn(fmt.Sprintf("FTP logins from %s locked for %s after %d wrong user names or passwords", lock.IP, lock.Duration, lock.Failures))
			if s.opts.OnLoginLock != nil {
				s.opts.OnLoginLock(*lock)
			}
			hangUp(ctx, tc, fmt.Sprintf("Too many failed logins from your address; try again after %s.", lock.Until.Format("15:04:05")))
			return false, nil
		}
		log.Warn("FTP login failed: wrong user name or password")
		s.sleep(delay, tc.done, s.stop)
		return false, nil
	}
	s.guard.success(tc.ip)
	s.mu.Lock()
	if !tc.loggedIn && !tc.removed {
		if s.loggedIn >= s.opts.MaxConnections {
			s.mu.Unlock()
			s.log.WithField("remote", tc.ip).Warn("FTP login refused: too many sessions")
			hangUp(ctx, tc, "Too many sessions, try again later.")
			return false, nil
		}
		tc.loggedIn = true
		s.pending--
		s.loggedIn++
	}
	s.mu.Unlock()
	return true, nil
}

// hangUp answers 421 and closes the connection; the library's own answer
// that follows goes nowhere.
func hangUp(ctx *server.Context, tc *trackedConn, msg string) {
	ctx.Sess.WriteMessage(421, msg)
	tc.Close()
}

// sleepUnless waits d, or less when done or stop is closed first.
func sleepUnless(d time.Duration, done, stop <-chan struct{}) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-done:
	case <-stop:
	}
}
