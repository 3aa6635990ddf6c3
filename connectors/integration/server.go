package integration

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/problem"
	"github.com/mesi/mconnect/app/tlscert"
)

// Prefix is the path prefix of every route.
const Prefix = "/integration/v1"

// Store is what the Integration API needs of the hub's store
// (*store.Store has it all).
type Store interface {
	StateStore
	ClientStore
	KeyStore
	Auditor
}

// Options configure a Server.
type Options struct {
	// Name is the connection ("join"); orders carry it and the health
	// component is "conn:<Name>/integration".
	Name string
	// Config is the validated "api" part of the connection's section.
	Config  Config
	Mapping config.Mapping
	Orders  domain.OrderSink
	Store   Store
	// Certificate returns the hub's own certificate, used when Config.TLS
	// names no files.
	Certificate func() (tls.Certificate, error)
	Health      domain.HealthReporter
	Log         logrus.FieldLogger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// HTTPClient fetches the identity provider's keys (default: 10 s timeout).
	HTTPClient *http.Client
	// Lockout tunes the token endpoint's slowing of wrong secrets; zero
	// values take the defaults (10 per address, 20 per client; locked for
	// a minute, doubling up to 30 minutes).
	Lockout LockoutOptions
}

// LockoutOptions bound the guessing of client secrets.
type LockoutOptions struct {
	PerAddress, PerClient int
	For, MaxFor           time.Duration
}

// Server is one connection's Integration API.
type Server struct {
	opts     Options
	log      logrus.FieldLogger
	rep      *domain.Reporter
	verify   *verifier
	keys     *keyring   // built-in mode
	jwks     *jwksCache // external mode
	limit    *limiter
	ipLock   *lockout
	idLock   *lockout
	audit    auditLog
	locks    keyedMutex
	trusted  []*net.IPNet
	maxBody  int64
	tokenTTL time.Duration
	handler  http.Handler

	mu         sync.Mutex
	addr       net.Addr
	ready      chan struct{}
	readyOnce  sync.Once
	healthArgs map[string]string
}

// New returns the server of one connection; Run listens.
func New(opts Options) (*Server, error) {
	if opts.Name == "" || opts.Orders == nil || opts.Store == nil {
		return nil, errors.New("integration: a server needs a connection name, an order sink and the store")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = logrus.StandardLogger()
	}
	lo := opts.Lockout
	if lo.PerAddress <= 0 {
		lo.PerAddress = 10
	}
	if lo.PerClient <= 0 {
		lo.PerClient = 20
	}
	if lo.For <= 0 {
		lo.For = time.Minute
	}
	if lo.MaxFor < lo.For {
		lo.MaxFor = max(30*time.Minute, lo.For)
	}
	c := opts.Config
	s := &Server{
		opts:     opts,
		log:      opts.Log.WithField("connection", opts.Name),
		rep:      domain.NewReporter(opts.Health, "conn:"+opts.Name+"/integration"),
		limit:    newLimiter(opts.Now, c.RateLimit.PerMinute, c.RateLimit.Burst),
		ipLock:   newLockout(opts.Now, lo.PerAddress, lo.For, lo.MaxFor),
		idLock:   newLockout(opts.Now, lo.PerClient, lo.For, lo.MaxFor),
		audit:    auditLog{st: opts.Store},
		trusted:  parseNets(c.TrustedProxies),
		maxBody:  int64(c.MaxBodyKB) << 10,
		tokenTTL: c.Auth.TokenTTL.D(),
		ready:    make(chan struct{}),
	}
	switch c.Auth.Mode {
	case ModeBuiltin:
		s.keys = newKeyring(opts.Store, opts.Name, c.Auth.KeyRotation.D(), s.tokenTTL, opts.Now)
		s.verify = newVerifier(ModeBuiltin, c.Auth.Issuer, c.Auth.Audience, builtinAlgs, opts.Now)
		s.verify.key = func(ctx context.Context, kid, _ string) (any, error) { return s.keys.public(ctx, kid) }
		s.verify.active = builtinActive(opts.Store, opts.Name)
	case ModeExternal:
		s.jwks = newJWKSCache(c.Auth.JWKSURL, opts.HTTPClient, opts.Now, s.keysFetched)
		s.verify = newVerifier(ModeExternal, c.Auth.Issuer, c.Auth.Audience, externalAlgs, opts.Now)
		s.verify.key = s.jwks.key
		s.verify.active = allowedActive(c.Auth.AllowedClients)
		s.verify.clientClaim = c.Auth.ClientClaim
	default:
		return nil, fmt.Errorf("integration: auth mode %q is not builtin or external", c.Auth.Mode)
	}
	s.handler = s.routes()
	return s, nil
}

// Component is the health component the server reports as.
func (s *Server) Component() string { return s.rep.Component() }

// Handler serves the API (Run serves it over TLS; tests may serve it
// themselves).
func (s *Server) Handler() http.Handler { return s.handler }

// Addr is the address listened on, once Ready is closed.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Ready is closed when Run listens.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Run listens with TLS and serves until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	c := s.opts.Config
	tcfg, err := s.tlsConfig()
	if err != nil {
		s.rep.Failed(domain.SeverityError, "tls-failed", map[string]string{"cert": c.TLS.CertFile}, err)
		return err
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		s.rep.Failed(domain.SeverityError, "listen-failed", map[string]string{"addr": c.Listen}, err)
		return fmt.Errorf("integration: listen on %s: %w", c.Listen, err)
	}
	srv := &http.Server{
		Handler:           s.handler,
		TLSConfig:         tcfg,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          log.New(logWriter{s.log}, "", 0),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.mu.Lock()
	s.addr = ln.Addr()
	s.mu.Unlock()
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	s.reportListening(ctx, true)
	s.readyOnce.Do(func() { close(s.ready) })
	s.log.WithFields(logrus.Fields{"addr": ln.Addr().String(), "mode": c.Auth.Mode}).Info("integration: API listening")
	if s.jwks != nil {
		go func() { _ = s.jwks.refresh(ctx) }() // show a provider that cannot be reached at once
	}
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	var serveErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case serveErr = <-errc:
			break loop
		case <-tick.C:
			s.reportListening(ctx, false)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		s.rep.Failed(domain.SeverityError, "stopped", nil, serveErr)
		return fmt.Errorf("integration: serve: %w", serveErr)
	}
	s.rep.Set(domain.SeverityOK, "stopped", nil, "")
	return nil
}

// reportListening reports the address, the mode and the clients (the
// Dashboard's Connections card); the report's LastMessageAt is the last
// call answered.
func (s *Server) reportListening(ctx context.Context, force bool) {
	c := s.opts.Config
	args := map[string]string{"addr": s.Addr().String(), "mode": c.Auth.Mode, "url": c.PublicURL}
	if c.PublicURL == "" {
		args["url"] = "https://" + tlsAddr(s.Addr().String()) + Prefix
	}
	if s.keys != nil {
		list, err := s.opts.Store.IntegrationClients(ctx, s.opts.Name)
		if err == nil {
			n := 0
			for _, cl := range list {
				if !cl.Revoked() {
					n++
				}
			}
			args["clients"] = strconv.Itoa(n)
		}
	}
	s.mu.Lock()
	changed := !maps.Equal(s.healthArgs, args)
	s.healthArgs = args
	s.mu.Unlock()
	last := s.rep.Last()
	switch {
	case force:
	case last.Code == "listening" && !changed:
		return
	case last.Severity != domain.SeverityOK:
		return // a problem stays shown until a call or a fetch clears it
	}
	s.rep.Set(domain.SeverityOK, "listening", args, "")
}

func tlsAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// moved records a call answered well (LastMessageAt, "last call").
func (s *Server) moved() {
	s.mu.Lock()
	args := s.healthArgs
	s.mu.Unlock()
	if args != nil {
		s.rep.Moved("listening", args)
	}
}

// keysFetched reports the identity provider's key set.
func (s *Server) keysFetched(n int, err error) {
	url := s.opts.Config.Auth.JWKSURL
	if err != nil {
		s.log.WithError(err).Warn("integration: identity provider's keys not fetched")
		s.rep.Failed(domain.SeverityWarning, "jwks-unreachable", map[string]string{"url": url}, err)
		return
	}
	s.log.WithFields(logrus.Fields{"url": url, "keys": n}).Info("integration: identity provider's keys fetched")
	s.mu.Lock()
	args := s.healthArgs
	s.mu.Unlock()
	if last := s.rep.Last(); args != nil && last.Code == "jwks-unreachable" {
		s.rep.Set(domain.SeverityOK, "listening", args, "")
	}
}

type logWriter struct{ log logrus.FieldLogger }

func (l logWriter) Write(b []byte) (int, error) {
	l.log.Debug("integration: " + strings.TrimSpace(string(b)))
	return len(b), nil
}

// ---- routing ----

// route is one operation; the table is checked against docs/integration-api.yaml.
type route struct {
	method, path string // path in OpenAPI form, without Prefix
	op           string // audit action "integration.<op>"
	scopes       []string
	h            func(*call) reply
}

func (s *Server) routeTable() []route {
	rts := []route{
		{http.MethodGet, "/health", "health", nil, s.handleHealth},
		{http.MethodPut, "/appointments/{externalId}", "appointment.put", []string{ScopeWrite}, s.handlePut},
		{http.MethodGet, "/appointments/{externalId}", "appointment.get", []string{ScopeWrite, ScopeRead}, s.handleGet},
		{http.MethodDelete, "/appointments/{externalId}", "appointment.delete", []string{ScopeWrite}, s.handleDelete},
	}
	if s.keys != nil {
		rts = append(rts, route{http.MethodPost, "/oauth/token", "token", nil, s.handleToken})
	}
	return rts
}

// call is one request on its way.
type call struct {
	r      *http.Request
	w      http.ResponseWriter
	ip     string
	client string
	target string
}

// reply is what a handler answers; serve audits it, then writes it.
type reply struct {
	status int
	body   any
	prob   *problem.Problem
	// oauth is the RFC 6749 error code of a token endpoint problem.
	oauth  string
	header http.Header
	note   string // for the audit entry (the order ID)
}

func problemReply(p *problem.Problem) reply { return reply{status: p.Status, prob: p} }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	byPath := map[string][]route{}
	var order []string
	for _, rt := range s.routeTable() {
		if _, ok := byPath[rt.path]; !ok {
			order = append(order, rt.path)
		}
		byPath[rt.path] = append(byPath[rt.path], rt)
	}
	for _, p := range order {
		rts := byPath[p]
		mux.HandleFunc(Prefix+p, func(w http.ResponseWriter, r *http.Request) {
			var allow []string
			for _, rt := range rts {
				if r.Method == rt.method {
					s.serve(w, r, rt)
					return
				}
				allow = append(allow, rt.method)
			}
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.write(w, problemReply(problem.New(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
				fmt.Sprintf("%s %s is not supported; use %s", r.Method, r.URL.Path, strings.Join(allow, " or ")))))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.write(w, problemReply(problem.New(http.StatusNotFound, "not-found", "No such endpoint",
			fmt.Sprintf("%s is not an endpoint of the mCONNECT Integration API (%s)", r.URL.Path, Prefix))))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.WithField("panic", v).Error("integration: handler panicked")
				s.write(w, problemReply(problem.New(http.StatusInternalServerError, "internal", "Internal error",
					"the hub failed to answer; the call was not carried out unless GET shows otherwise")))
			}
		}()
		mux.ServeHTTP(w, r)
	})
}

// serve authenticates, rate-limits and runs one route, audits the call
// and answers.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt route) {
	c := &call{r: r, w: w, ip: clientIP(r, s.trusted), target: r.PathValue("externalId")}
	var rep reply
	switch {
	case rt.scopes == nil:
		rep = rt.h(c)
	default:
		p, ap := s.verify.authenticate(r.Context(), r, rt.scopes...)
		c.client = p.client
		if ap != nil {
			rep = problemReply(ap.Problem)
			rep.header = http.Header{"Www-Authenticate": {ap.wwwAuth}}
			break
		}
		if ok, wait := s.limit.allow(p.client); !ok {
			pr := problem.New(http.StatusTooManyRequests, "rate-limited", "Too many requests",
				fmt.Sprintf("client %s may make %d calls a minute (bursts of %d); retry after the time in Retry-After",
					p.client, s.opts.Config.RateLimit.PerMinute, s.opts.Config.RateLimit.Burst))
			pr.RetryAfter = retrySeconds(wait)
			rep = problemReply(pr)
			break
		}
		rep = rt.h(c)
	}
	actor := "integration:" + c.client
	if c.client == "" {
		actor = "integration:unauthenticated"
	}
	detail := fmt.Sprintf("HTTP %d from %s", rep.status, c.ip)
	if rep.prob != nil {
		detail += ": " + rep.prob.Title
	}
	if rep.note != "" {
		detail += ", " + rep.note
	}
	if rt.op != "health" {
		if err := s.audit.record(domain.AuditEntry{At: s.opts.Now().UTC(), Actor: actor, Action: "integration." + rt.op,
			Target: c.target, Detail: detail}); err != nil {
			s.log.WithError(err).Error("integration: audit entry not written")
		}
	}
	if rep.status < 300 && rt.op != "health" {
		s.moved()
	}
	s.write(w, rep)
}

// write sends a reply: JSON, or problem+json (with RFC 6749's error
// members for the token endpoint).
func (s *Server) write(w http.ResponseWriter, rep reply) {
	for k, vs := range rep.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if rep.prob != nil {
		if rep.oauth == "" {
			problem.Write(w, rep.prob)
			return
		}
		w.Header().Set("Content-Type", problem.ContentType)
		w.Header().Set("Cache-Control", "no-store")
		if rep.prob.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(rep.prob.RetryAfter))
		}
		w.WriteHeader(rep.prob.Status)
		_ = json.NewEncoder(w).Encode(oauthProblem{Problem: rep.prob, Code: rep.oauth, Description: rep.prob.Detail})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if rep.body == nil {
		w.WriteHeader(rep.status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_ = json.NewEncoder(w).Encode(rep.body)
}

// oauthProblem is a problem document that an OAuth 2.0 client library
// reads too (RFC 6749 §5.2).
type oauthProblem struct {
	*problem.Problem
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// readBody reads a JSON body of at most MaxBodyKB.
func (s *Server) readBody(c *call) ([]byte, *problem.Problem) {
	if ct := c.r.Header.Get("Content-Type"); !isJSON(ct) {
		return nil, problem.New(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			fmt.Sprintf("the body must be application/json, not %q", cut(ct, 60))).WithField("Content-Type")
	}
	tooLarge := problem.New(http.StatusRequestEntityTooLarge, "body-too-large", "Body too large",
		fmt.Sprintf("the body is larger than %d KB (api.maxBodyKB)", s.opts.Config.MaxBodyKB))
	if c.r.ContentLength > s.maxBody {
		return nil, tooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, s.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge
		}
		return nil, problem.New(http.StatusBadRequest, "body-unreadable", "Body unreadable", "the body could not be read to its end")
	}
	return b, nil
}

func isJSON(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json"
}

// keyedMutex serialises the calls on one appointment: the answer (201 or
// 200) and the store must agree however many PUTs arrive at once.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedEntry{}
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

// tlsConfig is the hub's certificate or the configured files.
func (s *Server) tlsConfig() (*tls.Config, error) {
	c := s.opts.Config.TLS
	if c.CertFile == "" {
		if s.opts.Certificate == nil {
			return nil, errors.New("integration: no certificate: name api.tls.certFile and keyFile")
		}
		cert, err := s.opts.Certificate()
		if err != nil {
			return nil, fmt.Errorf("integration: the hub's certificate: %w", err)
		}
		return tlscert.ServerConfig(cert), nil
	}
	rl := &certReloader{certFile: c.CertFile, keyFile: c.KeyFile, now: s.opts.Now, log: s.log}
	if err := rl.load(); err != nil {
		return nil, err
	}
	cfg := tlscert.ServerConfig(tls.Certificate{})
	cfg.Certificates = nil
	cfg.GetCertificate = rl.get
	return cfg, nil
}
