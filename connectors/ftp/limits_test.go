package ftp

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mesi/mconnect/internal/testfs"
)

// rawConn speaks the FTP control protocol by hand, for clients that
// misbehave (never log in, guess passwords).
type rawConn struct {
	c      net.Conn
	r      *bufio.Reader
	banner string
}

// rawDial connects and reads the greeting (220, or 421 when refused).
func rawDial(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rc := &rawConn{c: c, r: bufio.NewReader(c)}
	rc.banner, err = rc.reply()
	if err != nil {
		t.Fatalf("greeting: %v", err)
	}
	return rc
}

// reply reads one reply (multi-line replies up to their last line).
func (rc *rawConn) reply() (string, error) {
	_ = rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := rc.r.ReadString('\n')
	if err != nil {
		return line, err
	}
	if len(line) >= 4 && line[3] == '-' {
		code := line[:3]
		for {
			next, err := rc.r.ReadString('\n')
			if err != nil {
				return line, err
			}
			if strings.HasPrefix(next, code+" ") {
				return next, nil
			}
		}
	}
	return line, nil
}

// cmd sends one command and returns the reply.
func (rc *rawConn) cmd(line string) (string, error) {
	if _, err := io.WriteString(rc.c, line+"\r\n"); err != nil {
		return "", err
	}
	return rc.reply()
}

// login sends USER and PASS and returns the reply to PASS.
func (rc *rawConn) login(user, pass string) (string, error) {
	if r, err := rc.cmd("USER " + user); err != nil || !strings.HasPrefix(r, "331") {
		return r, err
	}
	return rc.cmd("PASS " + pass)
}

// closedWithin reports whether the server closes the connection within d
// (the client staying silent).
func (rc *rawConn) closedWithin(d time.Duration) bool {
	_ = rc.c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, rc.r)
	var ne net.Error
	return err == nil || !(errors.As(err, &ne) && ne.Timeout())
}

func TestIdleConnectionsDoNotLockTheEHROut(t *testing.T) {
	t.Parallel()
	e := startServer(t, nil) // defaults: 8 sessions, 4 per address, 16 pending
	// Eight connections that never log in, all from 127.0.0.1: each is
	// accepted (greeted), none is refused.
	idle := make([]*rawConn, 8)
	for i := range idle {
		idle[i] = rawDial(t, e.addr)
		if !strings.HasPrefix(idle[i].banner, "220") {
			t.Fatalf("idle connection %d greeted with %q", i, idle[i].banner)
		}
	}
	// The EHR still logs in and uploads, with jlaffaye/ftp ...
	c := dial(t, e.addr)
	if err := c.Stor("ORDER1.GDT", strings.NewReader("01380006310\r\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "upload", func() bool { _, ok := e.up.get("ORDER1.GDT"); return ok })
	// ... and with curl.
	if _, err := exec.LookPath("curl"); err == nil {
		src := filepath.Join(testfs.TempDir(t), "ORDER2.GDT")
		os.WriteFile(src, []byte("01380006310\r\n"), 0o644)
		out, err := exec.Command("curl", "-sS", "--max-time", "30", "-T", src, "ftp://"+e.addr+"/", "--user", "praxis:s3cret-pw").CombinedOutput()
		if err != nil {
			t.Fatalf("curl: %v\n%s", err, out)
		}
		waitFor(t, "curl upload", func() bool { _, ok := e.up.get("ORDER2.GDT"); return ok })
	}
	// The oldest idle connections made room: the first four are closed.
	for i := 0; i < 4; i++ {
		if !idle[i].closedWithin(10 * time.Second) {
			t.Errorf("idle connection %d still open", i)
		}
	}
}

func TestLoginDeadline(t *testing.T) {
	t.Parallel()
	const deadline = 300 * time.Millisecond
	e := startServer(t, func(o *Options) { o.LoginTimeout = deadline })
	in := dial(t, e.addr) // logged in before the others connect
	start := time.Now()
	silent := rawDial(t, e.addr)
	// A client that trickles bytes without ever completing a command does
	// not extend the deadline.
	trickle := rawDial(t, e.addr)
	var stop atomic.Bool
	go func() {
		for !stop.Load() {
			if _, err := trickle.c.Write([]byte("U")); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	defer stop.Store(true)
	if !silent.closedWithin(10 * time.Second) {
		t.Fatal("a connection that never logged in was kept open")
	}
	if el := time.Since(start); el < deadline {
		t.Errorf("closed after %v, before the login deadline of %v", el, deadline)
	}
	if !trickle.closedWithin(10 * time.Second) {
		t.Fatal("trickling bytes kept a connection open past the login deadline")
	}
	// The session that had logged in is older than the deadline and works.
	if err := in.Stor("LATE.GDT", strings.NewReader("x")); err != nil {
		t.Fatalf("logged-in session closed by the login deadline: %v", err)
	}
	found := false
	for _, en := range e.hook.AllEntries() {
		if strings.Contains(en.Message, "no login within 300ms") {
			found = true
		}
	}
	if !found {
		t.Error("closing for the login deadline not logged")
	}
}

func TestOnlyLoggedInSessionsCountTowardsMaxConnections(t *testing.T) {
	t.Parallel()
	e := startServer(t, func(o *Options) { o.MaxConnections = 2; o.MaxConnectionsPerIP = 10 })
	a := dial(t, e.addr)
	dial(t, e.addr)
	// Connections that have not logged in are still accepted ...
	third := rawDial(t, e.addr)
	if !strings.HasPrefix(third.banner, "220") {
		t.Fatalf("third connection greeted with %q", third.banner)
	}
	// ... but a third session is not.
	r, _ := third.login("praxis", "s3cret-pw")
	if !strings.HasPrefix(r, "421") {
		t.Fatalf("third login answered %q, want 421", r)
	}
	if !third.closedWithin(10 * time.Second) {
		t.Error("refused session left open")
	}
	// When a session ends, its slot is free again.
	a.Quit()
	waitFor(t, "a free session slot", func() bool {
		rc := rawDial(t, e.addr)
		r, _ := rc.login("praxis", "s3cret-pw")
		rc.c.Close()
		return strings.HasPrefix(r, "230")
	})
}

func TestPerAddressCap(t *testing.T) {
	t.Parallel()
	e := startServer(t, func(o *Options) { o.MaxConnectionsPerIP = 2 })
	dial(t, e.addr)
	pending := rawDial(t, e.addr)
	// At the cap, the address's connection that has not logged in makes room.
	c := dial(t, e.addr)
	if !pending.closedWithin(10 * time.Second) {
		t.Fatal("the connection without login was not closed to make room")
	}
	if err := c.Stor("CAP.GDT", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	// Two sessions from the address are logged in: a third is refused.
	rc := rawDial(t, e.addr)
	if !strings.HasPrefix(rc.banner, "421") {
		t.Fatalf("third connection from the address greeted with %q, want 421", rc.banner)
	}
}

func TestPendingLoginsBounded(t *testing.T) {
	t.Parallel()
	e := startServer(t, func(o *Options) { o.MaxPendingLogins = 3; o.MaxConnectionsPerIP = 100 })
	var rcs []*rawConn
	for i := 0; i < 4; i++ {
		rcs = append(rcs, rawDial(t, e.addr))
	}
	if !rcs[0].closedWithin(10 * time.Second) {
		t.Fatal("oldest connection without login kept beyond the bound")
	}
	e.s.mu.Lock()
	pending, total := e.s.pending, len(e.s.conns)
	e.s.mu.Unlock()
	if pending != 3 || total != 3 {
		t.Errorf("pending %d, tracked %d; want 3 and 3", pending, total)
	}
	// The newest still logs in.
	if r, _ := rcs[3].login("praxis", "s3cret-pw"); !strings.HasPrefix(r, "230") {
		t.Fatalf("login answered %q", r)
	}
}

func TestIdleTimeoutAfterLogin(t *testing.T) {
	t.Parallel()
	const idle = 300 * time.Millisecond
	e := startServer(t, func(o *Options) { o.IdleTimeout = idle })
	// A transfer longer than the idle timeout is not idleness.
	c := dial(t, e.addr)
	data := strings.Repeat("x", 1<<16)
	r := &slowReader{data: []byte(data), half: make(chan struct{}), release: make(chan struct{})}
	half := r.half
	done := make(chan error, 1)
	go func() { done <- c.Stor("LONG.GDT", r) }()
	<-half
	time.Sleep(3 * idle) // the client stalls mid-transfer
	close(r.release)
	if err := <-done; err != nil {
		t.Fatalf("transfer longer than the idle timeout failed: %v", err)
	}
	// A logged-in session that sends nothing is closed.
	rc := rawDial(t, e.addr)
	start := time.Now() // before login: the idle deadline cannot start earlier
	if r, _ := rc.login("praxis", "s3cret-pw"); !strings.HasPrefix(r, "230") {
		t.Fatalf("login answered %q", r)
	}
	if !rc.closedWithin(10 * time.Second) {
		t.Fatal("idle session kept open")
	}
	if el := time.Since(start); el < idle {
		t.Errorf("closed after %v, before the idle timeout of %v", el, idle)
	}
}
