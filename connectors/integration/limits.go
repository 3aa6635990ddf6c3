package integration

import (
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxTracked bounds how many keys (addresses, clients) a lockout or a rate
// limiter remembers; beyond it the quietest are forgotten first.
const maxTracked = 4096

// lockout slows the guessing of client secrets. Per key (an address, a
// client ID): MaxTries wrong secrets lock the key for base; each further
// lock lasts twice as long, up to max. A key quiet for max is forgotten;
// a right secret forgets it at once.
type lockout struct {
	mu       sync.Mutex
	now      func() time.Time
	maxTries int
	base     time.Duration
	max      time.Duration
	entries  map[string]*lockEntry
}

type lockEntry struct {
	wrong int
	locks int
	until time.Time
	last  time.Time
}

func newLockout(now func() time.Time, maxTries int, base, max time.Duration) *lockout {
	return &lockout{now: now, maxTries: maxTries, base: base, max: max, entries: map[string]*lockEntry{}}
}

// lockedFor returns how long key stays locked (0: not locked).
func (l *lockout) lockedFor(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[key]
	if !ok {
		return 0
	}
	if d := e.until.Sub(l.now()); d > 0 {
		return d
	}
	return 0
}

// fail counts a wrong secret of key and reports whether it locked the key.
func (l *lockout) fail(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e, ok := l.entries[key]
	if ok && now.Sub(e.last) > l.max && !now.Before(e.until) {
		e, ok = nil, false // quiet long enough: a fresh start
	}
	if !ok {
		l.evict(now)
		e = &lockEntry{}
		l.entries[key] = e
	}
	e.last = now
	e.wrong++
	if e.wrong < l.maxTries {
		return false
	}
	d := l.base << min(e.locks, 20)
	if d > l.max || d <= 0 {
		d = l.max
	}
	e.until, e.wrong = now.Add(d), 0
	e.locks++
	return true
}

// succeed forgets key.
func (l *lockout) succeed(key string) {
	l.mu.Lock()
	delete(l.entries, key)
	l.mu.Unlock()
}

// evict makes room: forgotten entries first, else the longest quiet.
func (l *lockout) evict(now time.Time) {
	if len(l.entries) < maxTracked {
		return
	}
	var oldest string
	var at time.Time
	for k, e := range l.entries {
		if now.Sub(e.last) > l.max && !now.Before(e.until) {
			delete(l.entries, k)
			continue
		}
		if oldest == "" || e.last.Before(at) {
			oldest, at = k, e.last
		}
	}
	if len(l.entries) >= maxTracked {
		delete(l.entries, oldest)
	}
}

// limiter is a token bucket per client: rate calls per second on average,
// burst at once.
type limiter struct {
	mu      sync.Mutex
	now     func() time.Time
	rate    float64
	burst   float64
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(now func() time.Time, perMinute, burst int) *limiter {
	return &limiter{now: now, rate: float64(perMinute) / 60, burst: float64(burst), buckets: map[string]*bucket{}}
}

// allow takes one call from key's bucket; when it is empty, retry says
// when the next call is allowed.
func (l *limiter) allow(key string) (ok bool, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, found := l.buckets[key]
	if !found {
		if len(l.buckets) >= maxTracked {
			for k, old := range l.buckets { // full buckets are as good as none
				if old.tokens+now.Sub(old.at).Seconds()*l.rate >= l.burst {
					delete(l.buckets, k)
				}
			}
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// retrySeconds rounds a wait up to whole seconds for Retry-After.
func retrySeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}

// clientIP is the caller's address: the peer, or for a request through a
// trusted reverse proxy the last address of X-Forwarded-For that is not a
// trusted proxy.
func clientIP(r *http.Request, trusted []*net.IPNet) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !isTrusted(host, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		if net.ParseIP(h) == nil {
			return host // garbage: keep the proxy's own address
		}
		if !isTrusted(h, trusted) {
			return h
		}
	}
	return host
}

func isTrusted(addr string, trusted []*net.IPNet) bool {
	ip := net.ParseIP(addr)
	if ip == nil {
		return false
	}
	for _, n := range trusted {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// parseNets reads IPs and CIDRs (validated by the config).
func parseNets(list []string) []*net.IPNet {
	var out []*net.IPNet
	for _, s := range list {
		if _, n, err := net.ParseCIDR(s); err == nil {
			out = append(out, n)
			continue
		}
		if ip := net.ParseIP(s); ip != nil {
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
		}
	}
	return out
}

// addrKey groups addresses one host can use: an IPv4 address, an IPv6 /64.
func addrKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return addr
	}
	return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}
