package netlimit

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the zero fields of Options.
const (
	DefaultMaxConns     = 512
	DefaultMaxPerIP     = 16
	DefaultFirstRequest = 10 * time.Second
	// DefaultReserve is how many file descriptors the listeners of this
	// package leave to the rest of the process (database, log, reports,
	// MLLP connections, outbound connections).
	DefaultReserve = 256
)

// Reason says why a connection was refused.
type Reason string

// The reasons of Options.OnRefuse.
const (
	ReasonListenerFull Reason = "listener-full"
	ReasonPerIP        Reason = "per-address-full"
	ReasonDescriptors  Reason = "descriptors-reserved"
)

// Options configure a Listener. The zero value of every field means its default.
type Options struct {
	// MaxConns bounds the connections the listener holds open at once
	// (default 512).
	MaxConns int
	// MaxPerIP bounds the connections from one client address; IPv6
	// addresses count per /64 (default 16).
	MaxPerIP int
	// FirstRequest is how long a new connection may stay open before
	// Active is called for it (the first request or stream began); it is
	// then closed (default 10 s; negative: no limit).
	FirstRequest time.Duration
	// Reserve is how many file descriptors of the process all listeners of
	// this package together leave free (default 256).
	Reserve int
	// Descriptors is the process's descriptor limit (default: the soft
	// RLIMIT_NOFILE read by Listen; unlimited where there is none).
	Descriptors int
	// OnRefuse is called for each refused connection (optional; it must
	// not block).
	OnRefuse func(remote net.Addr, why Reason)
}

func (o Options) withDefaults() Options {
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxPerIP <= 0 {
		o.MaxPerIP = DefaultMaxPerIP
	}
	if o.FirstRequest == 0 {
		o.FirstRequest = DefaultFirstRequest
	}
	if o.Reserve <= 0 {
		o.Reserve = DefaultReserve
	}
	if o.Descriptors <= 0 {
		o.Descriptors = descriptorLimit()
	}
	return o
}

// held counts the connections all listeners of the process hold open.
var held atomic.Int64

// Held returns how many connections the listeners of this package hold
// open in this process.
func Held() int { return int(held.Load()) }

// Listener wraps a net.Listener with the limits of Options.
type Listener struct {
	net.Listener
	opts   Options
	budget int // descriptors the listeners of the process may hold

	mu    sync.Mutex
	open  int
	perIP map[netip.Prefix]int
}

// Listen wraps ln.
func Listen(ln net.Listener, o Options) *Listener {
	o = o.withDefaults()
	return &Listener{Listener: ln, opts: o, budget: max(o.Descriptors-o.Reserve, 0), perIP: map[netip.Prefix]int{}}
}

// Open returns how many connections the listener holds open.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Accept returns the next connection within the limits; connections over
// a limit are closed at once and reported to OnRefuse.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := clientKey(c.RemoteAddr())
		why := l.admit(key)
		if why != "" {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = c.Close()
			if l.opts.OnRefuse != nil {
				l.opts.OnRefuse(c.RemoteAddr(), why)
			}
			continue
		}
		lc := &Conn{Conn: c, l: l, key: key}
		if l.opts.FirstRequest > 0 {
			// Armed only once lc.timer is set: Close reads it.
			lc.timer = time.AfterFunc(time.Duration(1<<62), func() { _ = lc.Close() })
			lc.timer.Reset(l.opts.FirstRequest)
		}
		return lc, nil
	}
}

func (l *Listener) admit(key netip.Prefix) Reason {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.open >= l.opts.MaxConns:
		return ReasonListenerFull
	case l.perIP[key] >= l.opts.MaxPerIP:
		return ReasonPerIP
	}
	if held.Add(1) > int64(l.budget) {
		held.Add(-1)
		return ReasonDescriptors
	}
	l.open++
	l.perIP[key]++
	return ""
}

func (l *Listener) release(key netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.perIP[key]--; l.perIP[key] <= 0 {
		delete(l.perIP, key)
	}
	held.Add(-1)
}

// clientKey is the address a client is counted under: the IPv4 address,
// or the /64 of an IPv6 address.
func clientKey(a net.Addr) netip.Prefix {
	var ip netip.Addr
	if ta, ok := a.(*net.TCPAddr); ok {
		ip, _ = netip.AddrFromSlice(ta.IP)
	} else if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		ip = ap.Addr()
	}
	ip = ip.Unmap()
	if !ip.IsValid() {
		return netip.Prefix{}
	}
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}

// Conn is a connection accepted by a Listener.
type Conn struct {
	net.Conn
	l      *Listener
	key    netip.Prefix
	timer  *time.Timer
	closed sync.Once
	active atomic.Bool
}

// Close closes the connection and frees its place.
func (c *Conn) Close() error {
	err := c.Conn.Close()
	c.closed.Do(func() {
		if c.timer != nil {
			c.timer.Stop()
		}
		c.l.release(c.key)
	})
	return err
}

// Active stops the first-request timer: the connection made a request.
func (c *Conn) Active() {
	if c.active.CompareAndSwap(false, true) && c.timer != nil {
		c.timer.Stop()
	}
}

type ctxKey struct{}

// ConnContext is for http.Server.ConnContext: it lets Active find the
// connection of a request.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// Active marks the connection of the request whose context is ctx as
// having made a request (see ConnContext); other contexts are ignored.
func Active(ctx context.Context) {
	c, _ := ctx.Value(ctxKey{}).(net.Conn)
	for c != nil {
		if lc, ok := c.(*Conn); ok {
			lc.Active()
			return
		}
		nc, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return
		}
		c = nc.NetConn()
	}
}
