package ftp

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	jftp "github.com/jlaffaye/ftp"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestGuard(t *testing.T) {
	t.Parallel()
	type step struct {
		ip      string
		advance time.Duration
		op      string // "fail", "ok"
		delay   time.Duration
		lock    time.Duration // lock made by this failure
	}
	ms := time.Millisecond
	for _, tc := range []struct {
		name  string
		steps []step
		// locked addresses after the steps
		locked, free []string
	}{
		{"delay grows, fifth failure locks for a minute", []step{
			{ip: "a", op: "fail", delay: 500 * ms}, {ip: "a", op: "fail", delay: 1000 * ms},
			{ip: "a", op: "fail", delay: 2000 * ms}, {ip: "a", op: "fail", delay: 4000 * ms},
			{ip: "a", op: "fail", lock: time.Minute},
		}, []string{"a"}, []string{"b"}},
		{"lock expires", []step{
			{ip: "a", op: "fail", delay: 500 * ms}, {ip: "a", op: "fail", delay: time.Second},
			{ip: "a", op: "fail", delay: 2 * time.Second}, {ip: "a", op: "fail", delay: 4 * time.Second},
			{ip: "a", op: "fail", lock: time.Minute}, {ip: "a", advance: time.Minute},
		}, nil, []string{"a"}},
		{"second lock doubles, capped at the maximum", []step{
			{ip: "a", op: "fail"}, {ip: "a", op: "fail"}, {ip: "a", op: "fail"}, {ip: "a", op: "fail"},
			{ip: "a", op: "fail", lock: time.Minute}, {ip: "a", advance: time.Minute},
			{ip: "a", op: "fail"}, {ip: "a", op: "fail"}, {ip: "a", op: "fail"}, {ip: "a", op: "fail"},
			{ip: "a", op: "fail", lock: 2 * time.Minute}, {ip: "a", advance: 2 * time.Minute},
			{ip: "a", op: "fail"}, {ip: "a", op: "fail"}, {ip: "a", op: "fail"}, {ip: "a", op: "fail"},
			{ip: "a", op: "fail", lock: 3 * time.Minute},
		}, []string{"a"}, nil},
		{"success forgets", []step{
			{ip: "a", op: "fail"}, {ip: "a", op: "fail"}, {ip: "a", op: "fail"}, {ip: "a", op: "fail"},
			{ip: "a", op: "ok"}, {ip: "a", op: "fail", delay: 500 * ms},
		}, nil, []string{"a"}},
		{"failures long ago do not count", []step{
			{ip: "a", op: "fail"}, {ip: "a", op: "fail"}, {ip: "a", op: "fail"}, {ip: "a", op: "fail"},
			{ip: "a", advance: 16 * time.Minute}, {ip: "a", op: "fail", delay: 500 * ms},
		}, nil, []string{"a"}},
		{"addresses are apart", []step{
			{ip: "a", op: "fail"}, {ip: "b", op: "fail", delay: 500 * ms}, {ip: "a", op: "fail"},
			{ip: "a", op: "fail"}, {ip: "a", op: "fail"}, {ip: "a", op: "fail", lock: time.Minute},
			{ip: "b", op: "fail", delay: time.Second},
		}, []string{"a"}, []string{"b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			g := newGuard(5, time.Minute, 3*time.Minute, 500*ms, clock.Now)
			for i, s := range tc.steps {
				clock.Add(s.advance)
				switch s.op {
				case "fail":
					d, lock := g.fail(s.ip)
					if s.delay != 0 && d != s.delay {
						t.Errorf("step %d: delay %v, want %v", i, d, s.delay)
					}
					switch {
					case s.lock == 0 && lock != nil:
						t.Errorf("step %d: locked %+v", i, lock)
					case s.lock != 0 && (lock == nil || lock.Duration != s.lock || !lock.Until.Equal(clock.Now().Add(s.lock))):
						t.Errorf("step %d: lock %+v, want %v", i, lock, s.lock)
					}
				case "ok":
					g.success(s.ip)
				}
			}
			for _, ip := range tc.locked {
				if _, ok := g.locked(ip); !ok {
					t.Errorf("%s not locked", ip)
				}
			}
			for _, ip := range tc.free {
				if _, ok := g.locked(ip); ok {
					t.Errorf("%s locked", ip)
				}
			}
			if got := len(g.locks()); got != len(tc.locked) {
				t.Errorf("locks() lists %d, want %d", got, len(tc.locked))
			}
		})
	}
}

func TestGuardDelayCapped(t *testing.T) {
	t.Parallel()
	g := newGuard(100, time.Minute, time.Hour, time.Second, time.Now)
	var last time.Duration
	for i := 0; i < 50; i++ {
		last, _ = g.fail("a")
	}
	if last != maxFailureDelay {
		t.Errorf("delay after 50 failures %v, want the cap %v", last, maxFailureDelay)
	}
}

func TestBruteForceLocksTheAddress(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	var mu sync.Mutex
	var delays []time.Duration
	var locks []LoginLock
	e := startServer(t, func(o *Options) {
		o.OnLoginLock = func(l LoginLock) { mu.Lock(); locks = append(locks, l); mu.Unlock() }
	}, func(s *Server) {
		s.guard.now = clock.Now
		s.sleep = func(d time.Duration, _, _ <-chan struct{}) { mu.Lock(); delays = append(delays, d); mu.Unlock() }
	})
	// A connection opened before the attack, from the same address.
	early := rawDial(t, e.addr)

	// 30 wrong passwords as fast as the server answers.
	checked, refused := 0, 0
	var rc *rawConn
	for i := 0; i < 30; i++ {
		if rc == nil {
			rc = rawDial(t, e.addr)
			if strings.HasPrefix(rc.banner, "421") {
				refused++
				rc = nil
				continue
			}
		}
		r, err := rc.login("praxis", fmt.Sprintf("guess-%02d", i))
		switch {
		case strings.HasPrefix(r, "530"):
			checked++
		case strings.HasPrefix(r, "421"):
			checked++
			rc = nil
		default:
			t.Fatalf("attempt %d answered %q (%v)", i, r, err)
		}
	}
	if checked != 5 || refused != 25 {
		t.Errorf("%d passwords checked, %d connections refused; want 5 and 25", checked, refused)
	}
	mu.Lock()
	if fmt.Sprint(delays) != "[500ms 1s 2s 4s]" {
		t.Errorf("delays %v, want growing 500ms 1s 2s 4s", delays)
	}
	if len(locks) != 1 || locks[0].IP != "127.0.0.1" || locks[0].Failures != 5 || locks[0].Duration != time.Minute {
		t.Errorf("locks reported %+v", locks)
	}
	mu.Unlock()
	if l := e.s.LoginLocks(); len(l) != 1 || !l[0].Until.Equal(clock.Now().Add(time.Minute)) {
		t.Errorf("LoginLocks %+v", l)
	}

	// While locked, the right password is refused too, on a new connection
	// and on one opened before the lock.
	if _, err := jftp.Dial(e.addr, jftp.DialWithTimeout(5*time.Second)); err == nil {
		t.Error("new connection accepted while locked")
	}
	if r, _ := early.login("praxis", "s3cret-pw"); !strings.HasPrefix(r, "421") {
		t.Errorf("right password while locked answered %q", r)
	}

	// After the lock the right password works again.
	clock.Add(time.Minute)
	c := dial(t, e.addr)
	if err := c.Stor("AFTER.GDT", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}

	// Logged: the lock with the address, never a tried password.
	var lockLogged bool
	for _, en := range e.hook.AllEntries() {
		s, _ := en.String()
		if strings.Contains(s, "guess-") {
			t.Errorf("tried password logged: %s", s)
		}
		if strings.Contains(en.Message, "locked for 1m0s after 5 wrong") && en.Data["remote"] == "127.0.0.1" {
			lockLogged = true
		}
	}
	if !lockLogged {
		t.Error("lock not logged")
	}
}
