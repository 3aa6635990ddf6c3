package device

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fakeClock is a settable clock for the lockout.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func testLockout() (*lockout, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	o := Options{DataDir: "x"}.withDefaults().PairingLockout
	return newLockout(clk.now, o), clk
}

func TestLockoutPerAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps func(t *testing.T, l *lockout, clk *fakeClock)
	}{
		{"five wrong codes lock the address, not another", func(t *testing.T, l *lockout, clk *fakeClock) {
			for i := 1; i <= 4; i++ {
				if d, _ := l.fail("192.0.2.1"); d != 0 {
					t.Fatalf("locked after %d wrong codes", i)
				}
			}
			if d, global := l.fail("192.0.2.1"); d != time.Minute || global {
				t.Fatalf("fifth wrong code: locked %s global %v, want 1m for the address", d, global)
			}
			if d, _ := l.locked("192.0.2.1"); d != time.Minute {
				t.Errorf("address locked for %s", d)
			}
			if d, _ := l.locked("192.0.2.2"); d != 0 {
				t.Errorf("another address locked for %s", d)
			}
			clk.advance(time.Minute)
			if d, _ := l.locked("192.0.2.1"); d != 0 {
				t.Errorf("still locked for %s after the minute", d)
			}
		}},
		{"repeated locks double up to the ceiling", func(t *testing.T, l *lockout, clk *fakeClock) {
			want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 30 * time.Minute, 30 * time.Minute}
			for i, w := range want {
				var d time.Duration
				for j := 0; j < 5; j++ {
					d, _ = l.fail("192.0.2.1")
				}
				if d != w {
					t.Fatalf("lock %d: %s, want %s", i+1, d, w)
				}
				clk.advance(d)
			}
		}},
		{"a quiet address is forgiven", func(t *testing.T, l *lockout, clk *fakeClock) {
			for j := 0; j < 5; j++ {
				l.fail("192.0.2.1")
			}
			clk.advance(time.Minute) // the first lock ends
			for j := 0; j < 4; j++ {
				l.fail("192.0.2.1") // four towards a second lock
			}
			clk.advance(30 * time.Minute) // MaxFor after the last wrong code and the lock
			if d, _ := l.fail("192.0.2.1"); d != 0 {
				t.Fatalf("old wrong codes still count: locked %s", d)
			}
			var d time.Duration
			for j := 0; j < 4; j++ {
				d, _ = l.fail("192.0.2.1")
			}
			if d != time.Minute {
				t.Errorf("the next lock after a quiet half hour: %s, want the first lock's minute again", d)
			}
		}},
		{"a success forgets the address", func(t *testing.T, l *lockout, clk *fakeClock) {
			for j := 0; j < 4; j++ {
				l.fail("192.0.2.1")
			}
			l.succeed("192.0.2.1")
			if d, _ := l.fail("192.0.2.1"); d != 0 {
				t.Errorf("locked after one wrong code following a success: %s", d)
			}
		}},
		{"one IPv6 /64 is one address", func(t *testing.T, l *lockout, clk *fakeClock) {
			for j := 1; j <= 5; j++ {
				l.fail(fmt.Sprintf("2001:db8:0:1::%x", j))
			}
			if d, _ := l.locked("2001:db8:0:1:ffff::1"); d == 0 {
				t.Error("another address of the same /64 is open")
			}
			if d, _ := l.locked("2001:db8:0:2::1"); d != 0 {
				t.Error("another /64 is locked")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, clk := testLockout()
			tc.steps(t, l, clk)
		})
	}
}

// TestLockoutSlowGuesserLocksOnlyItself: one wrong code every 2 s from one
// host, for two hours, never keeps another host from pairing (the defect:
// the lockout was global).
func TestLockoutSlowGuesserLocksOnlyItself(t *testing.T) {
	t.Parallel()
	l, clk := testLockout()
	counted := 0
	for i := 0; i < 3600; i++ {
		if d, _ := l.locked("192.0.2.66"); d == 0 {
			l.fail("192.0.2.66")
			counted++
		}
		if d, global := l.locked("192.0.2.10"); d != 0 {
			t.Fatalf("after %s of guessing, another host is locked for %s (global %v)", time.Duration(i)*2*time.Second, d, global)
		}
		clk.advance(2 * time.Second)
	}
	// The guesser was heard 5 times per lock: 1+2+4+8+16+30+30+... minutes.
	if counted > 40 {
		t.Errorf("the guesser got %d codes checked in two hours", counted)
	}
}

// TestLockoutGlobalCeiling: many addresses together reach the ceiling and
// lock everybody until the oldest wrong code leaves the window, or a reset.
func TestLockoutGlobalCeiling(t *testing.T) {
	t.Parallel()
	l, clk := testLockout()
	for i := 0; i < 99; i++ {
		if d, _ := l.fail(fmt.Sprintf("10.0.%d.%d", i/200, i%200+1)); d != 0 {
			t.Fatalf("locked after %d wrong codes from different addresses", i+1)
		}
		clk.advance(time.Second)
	}
	d, global := l.fail("10.9.9.9")
	if !global || d != 10*time.Minute-99*time.Second {
		t.Fatalf("100th wrong code: locked %s global %v, want until the first leaves the 10-minute window", d, global)
	}
	if d, global := l.locked("192.0.2.10"); !global || d == 0 {
		t.Fatalf("a fresh address is open (%s) during the global lock", d)
	}
	clk.advance(d)
	if d, _ := l.locked("192.0.2.10"); d != 0 {
		t.Errorf("still locked for %s after the window", d)
	}
	// One more wrong code reaches the ceiling again (99 left in the window + 1).
	if _, global := l.fail("10.9.9.8"); !global {
		t.Error("the ceiling counts a window, not since the last lock")
	}
	l.reset()
	if d, _ := l.locked("192.0.2.10"); d != 0 {
		t.Errorf("locked for %s after reset", d)
	}
	if d, _ := l.fail("10.9.9.8"); d != 0 {
		t.Errorf("reset kept counts: locked %s", d)
	}
}

// TestLockoutBoundedMemory: an attacker cycling through addresses does not
// grow the table without bound; the global ceiling still counts each.
func TestLockoutBoundedMemory(t *testing.T) {
	t.Parallel()
	l, _ := testLockout()
	l.opts.GlobalMaxTries = 1 << 30
	for i := 0; i < maxLockoutAddrs+500; i++ {
		l.fail(fmt.Sprintf("2001:db8:%x:%x::1", i>>16, i&0xffff))
	}
	if n := len(l.addrs); n > maxLockoutAddrs {
		t.Errorf("%d addresses remembered, at most %d", n, maxLockoutAddrs)
	}
	if n := len(l.global); n != maxLockoutAddrs+500 {
		t.Errorf("%d wrong codes counted globally, want every one", n)
	}
}

// clientFrom is a pinned client whose connections come from the loopback
// address src (127.0.0.0/8 is loopback as a whole on Linux).
func clientFrom(e *env, src string) *http.Client {
	tr := pinnedTransport(e.srv.Fingerprint())
	d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	tr.DialContext = d.DialContext
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

func pairFrom(t *testing.T, e *env, c *http.Client, code, serial string) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"code":%q,"serial":%q}`, code, serial)
	resp, err := c.Post(e.base+"/pairings", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return resp.StatusCode, problemOf(t, resp).Detail
	}
	return resp.StatusCode, ""
}

// TestPairingLockoutPerAddress over HTTP: a host guessing codes is locked,
// a tablet on another address pairs; when many addresses reach the global
// ceiling, a new code from the hub opens pairing at once.
func TestPairingLockoutPerAddress(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.PairingLockout = LockoutOptions{MaxTries: 3, For: time.Minute, GlobalMaxTries: 5, GlobalWindow: time.Hour}
	})
	ctx := context.Background()
	guesser, tablet, third := clientFrom(e, "127.0.0.2"), clientFrom(e, "127.0.0.3"), clientFrom(e, "127.0.0.4")
	for i := 1; i <= 3; i++ {
		st, _ := pairFrom(t, e, guesser, fmt.Sprintf("00000%d", i), "X")
		want := http.StatusForbidden
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		if st != want {
			t.Fatalf("wrong code %d: %d, want %d", i, st, want)
		}
	}
	good, _, err := NewPairingCode(ctx, e.st, time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	if st, detail := pairFrom(t, e, guesser, good, "X"); st != http.StatusTooManyRequests || !strings.Contains(detail, "from this address") {
		t.Errorf("right code from the locked address: %d %q, want 429 for the address", st, detail)
	}
	if st, detail := pairFrom(t, e, tablet, good, "MT-1"); st != http.StatusCreated {
		t.Fatalf("tablet on another address: %d %q, want 201", st, detail)
	}

	// Two more wrong codes from a third address reach the ceiling of 5.
	pairFrom(t, e, third, "000004", "X")
	if st, detail := pairFrom(t, e, third, "000005", "X"); st != http.StatusTooManyRequests || !strings.Contains(detail, "on this hub") {
		t.Fatalf("fifth wrong code on the hub: %d %q, want the global lock", st, detail)
	}
	other, _, err := NewPairingCode(ctx, e.st, time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := pairFrom(t, e, tablet, other, "MT-2"); st != http.StatusTooManyRequests {
		t.Fatalf("a code created behind the server's back while locked: %d, want 429", st)
	}
	// The Dashboard's "Pair a tablet" creates its code through the server.
	shown, _, err := e.srv.NewPairingCode(ctx, time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	if st, detail := pairFrom(t, e, tablet, shown, "MT-2"); st != http.StatusCreated {
		t.Fatalf("the code the Dashboard shows: %d %q, want 201", st, detail)
	}
}
