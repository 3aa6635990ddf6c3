package device

import (
	"net"
	"sync"
	"time"
)

// maxLockoutAddrs bounds the addresses the lockout remembers. Beyond it
// (an attacker cycling through addresses), wrong codes from new addresses
// count towards the global ceiling only.
const maxLockoutAddrs = 4096

// lockout bounds the guessing of pairing codes without letting one host
// lock everybody out.
//
// Per source address (IPv6 per /64, which one host can fill): MaxTries
// wrong codes lock that address for For; each further lock of the same
// address lasts twice as long, up to MaxFor. An address quiet for MaxFor
// after its last wrong code and its last lock is forgotten, and a
// successful pairing forgets it at once.
//
// Globally: GlobalMaxTries wrong codes from all addresses within
// GlobalWindow lock pairing for everybody, until the oldest of them leaves
// the window. One address alone cannot reach the ceiling (its own lock
// slows it down more), so a single host guessing on the LAN never keeps
// another from pairing. A six-digit code then withstands at most
// GlobalMaxTries guesses per GlobalWindow, however many addresses guess.
//
// reset clears both: a person creating a new code on the hub can pair with
// it at once, whatever happened before.
type lockout struct {
	mu     sync.Mutex
	now    func() time.Time
	opts   LockoutOptions
	addrs  map[string]*addrLock
	global []time.Time // the latest wrong codes, oldest first, at most GlobalMaxTries
}

type addrLock struct {
	wrong int       // wrong codes since the last lock
	locks int       // locks so far, for the doubling
	until time.Time // locked until
	last  time.Time // last wrong code
}

func newLockout(now func() time.Time, o LockoutOptions) *lockout {
	return &lockout{now: now, opts: o, addrs: make(map[string]*addrLock)}
}

// addrKey groups addresses one host can use: an IPv4 address, an IPv6 /64.
func addrKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil {
		return addr
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}

// globalUntil returns when the global lock ends (zero when open); mu is held.
func (l *lockout) globalUntil(now time.Time) time.Time {
	cut := 0
	for cut < len(l.global) && !now.Before(l.global[cut].Add(l.opts.GlobalWindow)) {
		cut++
	}
	l.global = l.global[cut:]
	if len(l.global) >= l.opts.GlobalMaxTries {
		return l.global[0].Add(l.opts.GlobalWindow)
	}
	return time.Time{}
}

// locked reports how long pairing stays locked for addr (0 when open) and
// whether the lock is the global one.
func (l *lockout) locked(addr string) (d time.Duration, global bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if g := l.globalUntil(now); !g.IsZero() {
		return g.Sub(now), true
	}
	if a := l.addrs[addrKey(addr)]; a != nil && now.Before(a.until) {
		return a.until.Sub(now), false
	}
	return 0, false
}

// fail records a wrong code from addr and reports whether pairing is now
// locked for it, for how long, and whether globally.
func (l *lockout) fail(addr string) (d time.Duration, global bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.global = append(l.global, now)
	if n := len(l.global) - l.opts.GlobalMaxTries; n > 0 {
		l.global = l.global[n:]
	}
	if a := l.entry(addrKey(addr), now); a != nil {
		a.wrong++
		a.last = now
		if a.wrong >= l.opts.MaxTries {
			a.wrong = 0
			a.locks++
			lockFor := l.opts.MaxFor
			if a.locks < 32 && l.opts.For<<(a.locks-1) < l.opts.MaxFor {
				lockFor = l.opts.For << (a.locks - 1)
			}
			a.until = now.Add(lockFor)
		}
		if g := l.globalUntil(now); !g.IsZero() && g.After(a.until) {
			return g.Sub(now), true
		}
		if now.Before(a.until) {
			return a.until.Sub(now), false
		}
		return 0, false
	}
	if g := l.globalUntil(now); !g.IsZero() {
		return g.Sub(now), true
	}
	return 0, false
}

// forgotten reports whether a's wrong codes are forgiven: quiet for MaxFor
// since its last wrong code and since its lock ended.
func (l *lockout) forgotten(a *addrLock, now time.Time) bool {
	return !now.Before(a.until.Add(l.opts.MaxFor)) && !now.Before(a.last.Add(l.opts.MaxFor))
}

// entry returns the record of key, creating it; nil when the table is
// full of addresses still remembered. mu is held.
func (l *lockout) entry(key string, now time.Time) *addrLock {
	if a := l.addrs[key]; a != nil {
		if l.forgotten(a, now) {
			*a = addrLock{}
		}
		return a
	}
	if len(l.addrs) >= maxLockoutAddrs {
		for k, a := range l.addrs {
			if l.forgotten(a, now) {
				delete(l.addrs, k)
			}
		}
		if len(l.addrs) >= maxLockoutAddrs {
			return nil
		}
	}
	a := &addrLock{}
	l.addrs[key] = a
	return a
}

// succeed forgets addr's wrong codes after it paired.
func (l *lockout) succeed(addr string) {
	l.mu.Lock()
	delete(l.addrs, addrKey(addr))
	l.mu.Unlock()
}

// reset opens pairing for everybody.
func (l *lockout) reset() {
	l.mu.Lock()
	l.addrs = make(map[string]*addrLock)
	l.global = nil
	l.mu.Unlock()
}
