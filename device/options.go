package device

import (
	"time"
)

// Defaults for the zero fields of Options.
const (
	DefaultListen            = ":8443"
	DefaultMaxReportBytes    = 50 << 20
	DefaultMaxJSONBytes      = 1 << 20
	DefaultMaxHeaderBytes    = 32 << 10
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 5 * time.Minute
	DefaultWriteTimeout      = 5 * time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxLongPollers    = 1000
	DefaultLongPollMax       = 60 * time.Second
	DefaultPairingTTL        = 10 * time.Minute
	DefaultLockoutTries      = 5
	DefaultLockoutFor        = time.Minute
	DefaultLockoutMaxFor     = 30 * time.Minute
	DefaultGlobalLockout     = 100
	DefaultGlobalWindow      = 10 * time.Minute
	DefaultShutdownGrace     = 10 * time.Second
	DefaultTouchEvery        = 15 * time.Second
	DefaultAnnounceEvery     = 30 * time.Second
	DefaultWorklistCacheTTL  = 200 * time.Millisecond
	DefaultMaxConns          = 512
	DefaultMaxConnsPerIP     = 16
	DefaultFirstRequest      = 10 * time.Second
)

// Options configure a Server. The zero value of every field means its default.
type Options struct {
	// Listen is the TCP address to serve on (default ":8443"); ":0" picks a port.
	Listen string
	// DataDir holds the TLS certificate and key and the uploaded reports
	// (DataDir/reports/). Required.
	DataDir string
	// PlainHTTP serves without TLS. Only for tests and tablets that cannot do
	// TLS; the server then reports a health warning.
	PlainHTTP bool

	// MaxReportBytes bounds the PDF report of one upload (default 50 MB).
	MaxReportBytes int64
	// MaxJSONBytes bounds a JSON body or the result part (default 1 MB).
	MaxJSONBytes int64
	// MaxHeaderBytes bounds the request header (default 32 KB).
	MaxHeaderBytes int

	// Timeouts of the HTTP server. ReadHeaderTimeout cuts slow-header
	// (slowloris) clients; ReadTimeout and WriteTimeout must leave room for a
	// large upload and for LongPollMax.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// ShutdownGrace is how long Run waits for requests in flight on shutdown.
	ShutdownGrace time.Duration

	// MaxConns bounds the connections the endpoint holds open at once
	// (default 512), MaxConnsPerIP those from one address (IPv6: one /64;
	// default 16). A connection over a limit is closed at once. The
	// endpoint also leaves app/netlimit.DefaultReserve file descriptors to
	// the rest of the hub (store, MLLP).
	MaxConns      int
	MaxConnsPerIP int
	// FirstRequestTimeout is how long a new connection may stay open
	// before its first request (HTTP/1) or stream (HTTP/2) begins
	// (default 10 s): a client that only opens connections, or sends only
	// the HTTP/2 preface, does not hold them for IdleTimeout.
	FirstRequestTimeout time.Duration

	// MaxLongPollers bounds the tablets waiting in GET /worklist?wait= at
	// once; one more gets 503 (default 1000).
	MaxLongPollers int
	// LongPollMax caps ?wait= (default 60 s).
	LongPollMax time.Duration

	// WorklistCacheTTL is how long one worklist read answers further
	// requests of the same group while no GroupChanged came (default 200 ms;
	// negative: never). It bounds the staleness of pull-type connectors'
	// worklists and spares the store at high request rates.
	WorklistCacheTTL time.Duration

	// MaxWorklist bounds the appointments of one GET /worklist (default
	// DefaultMaxWorklist): the oldest are listed, the rest counted in
	// Worklist.Omitted.
	MaxWorklist int

	// Discovery announces the endpoint over mDNS/DNS-SD.
	Discovery DiscoveryOptions

	// HubID is the hub's stable ID (TXT id=, GET /health); HubName its
	// display name; Version the hub's version.
	HubID   string
	HubName string
	Version string

	// PairingLockout is how wrong pairing codes lock pairing.
	PairingLockout LockoutOptions

	// TouchEvery throttles the last-seen update an authenticated call makes
	// (default 15 s, well inside domain.OnlineWindow), so that a busy tablet
	// does not cost one database write per request.
	TouchEvery time.Duration

	// Now replaces the clock (tests).
	Now func() time.Time
}

// DiscoveryOptions configure the mDNS/DNS-SD announcement.
type DiscoveryOptions struct {
	// Enabled turns the announcement on. Off by default.
	Enabled bool
	// InstanceName is the DNS-SD instance name (default HubName, then "mCONNECT Hub").
	InstanceName string
	// Interfaces names the network interfaces to announce on; empty means
	// every interface that is up, multicast-capable and not loopback.
	Interfaces []string
	// IncludeLoopback also announces on loopback interfaces (tests).
	IncludeLoopback bool
	// PollInterval is how often interfaces are checked for changed
	// addresses; a change re-announces (default 30 s).
	PollInterval time.Duration
}

// LockoutOptions say how many wrong pairing codes lock pairing, for whom
// and for how long.
type LockoutOptions struct {
	// MaxTries wrong codes from one address (IPv6: one /64) lock that
	// address for For (default 5, 1 minute); each further lock of the same
	// address lasts twice as long, up to MaxFor (default 30 minutes).
	MaxTries int
	For      time.Duration
	MaxFor   time.Duration
	// GlobalMaxTries wrong codes from all addresses within GlobalWindow lock
	// pairing for everybody (default 100 in 10 minutes), until a person
	// creates a new code (Server.NewPairingCode) or the window passes.
	GlobalMaxTries int
	GlobalWindow   time.Duration
}

func (o Options) withDefaults() Options {
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.MaxReportBytes <= 0 {
		o.MaxReportBytes = DefaultMaxReportBytes
	}
	if o.MaxJSONBytes <= 0 {
		o.MaxJSONBytes = DefaultMaxJSONBytes
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxConnsPerIP <= 0 {
		o.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if o.FirstRequestTimeout <= 0 {
		o.FirstRequestTimeout = DefaultFirstRequest
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = DefaultShutdownGrace
	}
	if o.MaxLongPollers <= 0 {
		o.MaxLongPollers = DefaultMaxLongPollers
	}
	if o.LongPollMax <= 0 {
		o.LongPollMax = DefaultLongPollMax
	}
	if o.PairingLockout.MaxTries <= 0 {
		o.PairingLockout.MaxTries = DefaultLockoutTries
	}
	if o.PairingLockout.For <= 0 {
		o.PairingLockout.For = DefaultLockoutFor
	}
	if o.PairingLockout.MaxFor < o.PairingLockout.For {
		o.PairingLockout.MaxFor = max(DefaultLockoutMaxFor, o.PairingLockout.For)
	}
	if o.PairingLockout.GlobalMaxTries <= 0 {
		o.PairingLockout.GlobalMaxTries = DefaultGlobalLockout
	}
	if o.PairingLockout.GlobalWindow <= 0 {
		o.PairingLockout.GlobalWindow = DefaultGlobalWindow
	}
	if o.WorklistCacheTTL == 0 {
		o.WorklistCacheTTL = DefaultWorklistCacheTTL
	}
	if o.MaxWorklist <= 0 {
		o.MaxWorklist = DefaultMaxWorklist
	}
	if o.TouchEvery <= 0 {
		o.TouchEvery = DefaultTouchEvery
	}
	if o.Discovery.PollInterval <= 0 {
		o.Discovery.PollInterval = DefaultAnnounceEvery
	}
	if o.HubName == "" {
		o.HubName = "mCONNECT Hub"
	}
	if o.Discovery.InstanceName == "" {
		o.Discovery.InstanceName = o.HubName
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
