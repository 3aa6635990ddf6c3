package ftp

import (
	"sort"
	"sync"
	"time"
)

// Defaults of the login guard.
const (
	DefaultMaxLoginFailures = 5
	DefaultLockDuration     = time.Minute
	DefaultMaxLockDuration  = time.Hour
	DefaultFailureDelay     = 500 * time.Millisecond
	// maxFailureDelay caps the delay before a wrong password is answered.
	maxFailureDelay = 5 * time.Second
	// forgetAfter: failures from an address are forgotten after this long
	// without a new one, and with them the lock level (the doubling).
	forgetAfter = 24 * time.Hour
	// failureWindow: failures older than this no longer count towards the
	// next lock (a mistyped password a week ago does not shorten the way to
	// a lock today).
	failureWindow = 15 * time.Minute
	// maxTracked bounds the addresses remembered; beyond it the oldest
	// unlocked ones are forgotten first.
	maxTracked = 4096
)

// LoginLock describes an address locked out after too many wrong passwords.
// It is what OnLoginLock receives and LoginLocks lists; it never carries a
// user name or password.
type LoginLock struct {
	// IP is the client's address.
	IP string
	// Failures is the number of wrong passwords that led to the lock.
	Failures int
	// Duration is how long the lock lasts; it doubles with each further lock
	// of the same address, up to MaxLockDuration.
	Duration time.Duration
	// Until is when logins from IP are accepted again.
	Until time.Time
}

// guard counts wrong passwords per client address, delays the answers to
// them more and more, and locks an address out for a while after too many.
type guard struct {
	maxFailures int
	lock        time.Duration
	maxLock     time.Duration
	delay       time.Duration
	now         func() time.Time

	mu    sync.Mutex
	addrs map[string]*attempts
}

type attempts struct {
	failures int       // wrong passwords since the last lock (or success)
	last     time.Time // last wrong password
	level    int       // locks so far; the next lock lasts lock<<level
	until    time.Time // locked until
	lockedBy int       // failures that led to the current lock
}

func newGuard(maxFailures int, lock, maxLock, delay time.Duration, now func() time.Time) *guard {
	return &guard{maxFailures: maxFailures, lock: lock, maxLock: maxLock, delay: delay, now: now, addrs: map[string]*attempts{}}
}

// locked reports whether ip is locked out now, and until when.
func (g *guard) locked(ip string) (time.Time, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.addrs[ip]
	if a == nil || !g.now().Before(a.until) {
		return time.Time{}, false
	}
	return a.until, true
}

// fail records a wrong password from ip. It returns how long to wait before
// answering, and the lock when this failure locked the address out.
func (g *guard) fail(ip string) (time.Duration, *LoginLock) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	a := g.addrs[ip]
	if a != nil && now.Sub(a.last) > forgetAfter {
		a = nil
	}
	if a == nil {
		g.pruneLocked(now)
		a = &attempts{}
		g.addrs[ip] = a
	}
	if now.Sub(a.last) > failureWindow {
		a.failures = 0
	}
	a.failures++
	a.last = now
	if a.failures >= g.maxFailures {
		d := g.lock << min(a.level, 30)
		if d <= 0 || d > g.maxLock {
			d = g.maxLock
		}
		a.level++
		a.until = now.Add(d)
		a.lockedBy = a.failures
		a.failures = 0
		return 0, &LoginLock{IP: ip, Failures: a.lockedBy, Duration: d, Until: a.until}
	}
	d := g.delay << (a.failures - 1)
	if d > maxFailureDelay || d < 0 {
		d = maxFailureDelay
	}
	return d, nil
}

// success forgets the failures of ip.
func (g *guard) success(ip string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.addrs, ip)
}

// locks lists the addresses locked out now, soonest expiry first.
func (g *guard) locks() []LoginLock {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	var out []LoginLock
	for ip, a := range g.addrs {
		if now.Before(a.until) {
			out = append(out, LoginLock{IP: ip, Failures: a.lockedBy, Duration: g.lock << min(a.level-1, 30), Until: a.until})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Until.Before(out[j].Until) })
	for i := range out {
		if out[i].Duration <= 0 || out[i].Duration > g.maxLock {
			out[i].Duration = g.maxLock
		}
	}
	return out
}

// pruneLocked forgets stale addresses once many are tracked, so a sweep of
// addresses cannot grow the table without bound.
func (g *guard) pruneLocked(now time.Time) {
	if len(g.addrs) < maxTracked {
		return
	}
	for ip, a := range g.addrs {
		if !now.Before(a.until) && now.Sub(a.last) > failureWindow {
			delete(g.addrs, ip)
		}
	}
	for ip, a := range g.addrs {
		if len(g.addrs) < maxTracked {
			break
		}
		if !now.Before(a.until) {
			delete(g.addrs, ip)
		}
	}
}
