package device

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/netlimit"
	"github.com/mesi/mconnect/app/problem"
	"github.com/mesi/mconnect/app/tlscert"
)

// APIPrefix is the path prefix of every endpoint (TXT api=).
const APIPrefix = "/api/v1"

// Store is what the endpoint needs from the hub's database. *store.Store
// satisfies it. Lookups of missing objects return errors wrapping
// domain.ErrNotFound; PairDevice returns domain.ErrPairingCodeInvalid for an
// unknown, used or expired code; StartOrder returns domain.ErrNotOnWorklist.
type Store interface {
	PairingStore
	PairDevice(ctx context.Context, codeHash string, d domain.Device, tokenHash string) (domain.Device, error)
	DeviceByTokenHash(ctx context.Context, tokenHash string) (domain.Device, error)
	Heartbeat(ctx context.Context, id string, battery int, appVersion, ip string) error
	Touch(ctx context.Context, id string) error
	StartOrder(ctx context.Context, id, group, deviceID string) (domain.Order, error)
	Order(ctx context.Context, id string) (domain.Order, error)
}

// Hub is what the endpoint needs from the hub.
type Hub interface {
	// Worklist returns the open orders of a group, oldest first (the hub may
	// ask pull-type cloud connectors here). Only what SummaryOf reads is
	// needed: the hub may leave out Fields and Meta.
	Worklist(ctx context.Context, group string) ([]domain.Order, error)
	// AcceptResult returns only after the result and one delivery per
	// outbound connection are durably stored. duplicate reports a result
	// with the same device and idempotency key stored before; stored is then
	// that first result. An error means nothing was stored.
	AcceptResult(ctx context.Context, r domain.Result) (stored domain.Result, duplicate bool, err error)
}

// Server is the tablets' HTTPS endpoint.
type Server struct {
	opts   Options
	st     Store
	hub    Hub
	log    logrus.FieldLogger
	health domain.HealthReporter

	cert        *tls.Certificate
	fingerprint string
	schema      *jsonschema.Schema
	reportsDir  string

	lock    *lockout
	notify  *notifier
	flights flights
	refused refusals
	pollers atomic.Int64
	// runMu guards shutdown and addr, which each Run sets anew (a
	// supervisor may run the server again after an error).
	runMu sync.Mutex
	// shutdown is closed when Run begins to stop: long-pollers answer at once.
	shutdown chan struct{}
	addr     net.Addr

	started     chan struct{} // closed when the first Run has listened or failed
	startedOnce sync.Once

	touchMu sync.Mutex
	touched map[string]time.Time

	handler http.Handler

	// listIfaces and startAnnounce replace the network in discovery tests.
	listIfaces    func() (ifaceSet, error)
	startAnnounce func(ifaceSet, int) (io.Closer, error)
}

// NewServer checks the options, loads or creates the TLS certificate (unless
// PlainHTTP) and prepares the reports folder. It does not listen: Run does.
// health may be nil.
func NewServer(opts Options, st Store, hub Hub, log logrus.FieldLogger, health domain.HealthReporter) (*Server, error) {
	if st == nil || hub == nil {
		return nil, errors.New("device: NewServer needs a store and a hub")
	}
	if opts.DataDir == "" {
		return nil, errors.New("device: Options.DataDir is required")
	}
	opts = opts.withDefaults()
	if min := opts.LongPollMax + 15*time.Second; opts.WriteTimeout < min {
		opts.WriteTimeout = min
	}
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = l
	}
	if health == nil {
		health = domain.HealthFunc(func(domain.Health) {})
	}
	s := &Server{
		opts: opts, st: st, hub: hub, log: log.WithField("component", "device"), health: health,
		reportsDir: filepath.Join(opts.DataDir, "reports"),
		lock:       newLockout(opts.Now, opts.PairingLockout),
		notify:     newNotifier(),
		started:    make(chan struct{}),
		touched:    make(map[string]time.Time),
	}
	if err := os.MkdirAll(s.reportsDir, 0o700); err != nil {
		return nil, fmt.Errorf("device: create reports folder: %w", err)
	}
	if err := removeStaleTemps(s.reportsDir); err != nil {
		s.log.WithError(err).Warn("device: could not remove unfinished uploads")
	}
	sch, err := compileResultSchema()
	if err != nil {
		return nil, err
	}
	s.schema = sch
	if !opts.PlainHTTP {
		cert, fp, err := tlscert.LoadOrCreate(opts.DataDir)
		if err != nil {
			return nil, err
		}
		s.cert, s.fingerprint = &cert, fp
	}
	s.handler = s.routes()
	return s, nil
}

// Fingerprint is the hex SHA-256 of the TLS certificate tablets pin ("" with PlainHTTP).
func (s *Server) Fingerprint() string { return s.fingerprint }

// Handler returns the HTTP handler (tests, embedding).
func (s *Server) Handler() http.Handler { return s.handler }

// Addr returns the address the server listens on. It blocks until Run has
// bound its listener, and returns nil if Run failed to listen.
func (s *Server) Addr() net.Addr {
	<-s.started
	s.runMu.Lock()
	defer s.runMu.Unlock()
	return s.addr
}

func (s *Server) shutdownChan() <-chan struct{} {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	return s.shutdown
}

// GroupChanged wakes the tablets of group that are long-polling the
// worklist; each re-reads it and answers if it differs from what it has.
// The hub calls it whenever an order of the group is stored, updated,
// cancelled, deleted or done. Safe for concurrent use; never blocks.
func (s *Server) GroupChanged(group string) { s.notify.notify(group) }

// Run listens and serves until ctx is done, then releases long-pollers and
// shuts down gracefully (at most Options.ShutdownGrace). It returns nil after
// a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		s.startedOnce.Do(func() { close(s.started) })
		s.report(domain.SeverityError, "listen-failed", map[string]string{"addr": s.opts.Listen}, err.Error())
		return fmt.Errorf("device: listen on %s: %w", s.opts.Listen, err)
	}
	ln = netlimit.Listen(ln, netlimit.Options{
		MaxConns: s.opts.MaxConns, MaxPerIP: s.opts.MaxConnsPerIP, FirstRequest: s.opts.FirstRequestTimeout,
		OnRefuse: s.refused.note(s.log),
	})
	stop := make(chan struct{})
	s.runMu.Lock()
	s.addr = ln.Addr()
	s.shutdown = stop
	addr := s.addr
	s.runMu.Unlock()
	s.startedOnce.Do(func() { close(s.started) })

	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			netlimit.Active(r.Context())
			s.handler.ServeHTTP(w, r)
		}),
		ConnContext:       netlimit.ConnContext,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    s.opts.MaxHeaderBytes,
		ErrorLog:          newStdLogger(s.log),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if !s.opts.PlainHTTP {
		srv.TLSConfig = tlscert.ServerConfig(*s.cert)
	}
	errc := make(chan error, 1)
	go func() {
		if s.opts.PlainHTTP {
			errc <- srv.Serve(ln)
		} else {
			errc <- srv.ServeTLS(ln, "", "")
		}
	}()
	if s.opts.PlainHTTP {
		s.report(domain.SeverityWarning, "plain-http", map[string]string{"addr": addr.String()}, "")
	} else {
		s.report(domain.SeverityOK, "listening", map[string]string{"addr": addr.String(), "fingerprint": s.fingerprint}, "")
	}
	s.log.WithFields(logrus.Fields{"addr": addr.String(), "tls": !s.opts.PlainHTTP, "fp": s.fingerprint}).Info("device: tablet endpoint listening")

	var disc sync.WaitGroup
	dctx, dcancel := context.WithCancel(ctx)
	defer dcancel()
	if s.opts.Discovery.Enabled {
		disc.Add(1)
		go func() {
			defer disc.Done()
			s.runDiscovery(dctx)
		}()
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	close(stop)
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	dcancel()
	disc.Wait()
	s.report(domain.SeverityOK, "stopped", nil, "")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("device: serve: %w", serveErr)
	}
	return nil
}

func (s *Server) report(sev domain.Severity, code string, args map[string]string, detail string) {
	h := domain.Health{Component: "device", Code: code, Args: args, Detail: detail, Severity: sev, At: s.opts.Now()}
	if sev == domain.SeverityError {
		h.LastError = detail
	}
	s.health.Report(h)
}

// route is one endpoint; the table is also checked against docs/lan-api.yaml.
type route struct {
	method, path string // path in OpenAPI form, without APIPrefix
	auth         bool
	h            func(w http.ResponseWriter, r *http.Request, dev domain.Device)
}

func (s *Server) routeTable() []route {
	open := func(h http.HandlerFunc) func(http.ResponseWriter, *http.Request, domain.Device) {
		return func(w http.ResponseWriter, r *http.Request, _ domain.Device) { h(w, r) }
	}
	return []route{
		{http.MethodGet, "/health", false, open(s.handleHealth)},
		{http.MethodPost, "/pairings", false, open(s.handlePair)},
		{http.MethodGet, "/worklist", true, s.handleWorklist},
		{http.MethodGet, "/appointments/{id}", true, s.handleAppointment},
		{http.MethodPost, "/appointments/{id}/start", true, s.handleStart},
		{http.MethodPost, "/results", true, s.handleResult},
		{http.MethodPost, "/heartbeat", true, s.handleHeartbeat},
	}
}

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
		mux.HandleFunc(APIPrefix+p, func(w http.ResponseWriter, r *http.Request) {
			var allow []string
			for _, rt := range rts {
				if r.Method == rt.method || (rt.method == http.MethodGet && r.Method == http.MethodHead) {
					if rt.auth {
						s.authed(rt.h)(w, r)
					} else {
						rt.h(w, r, domain.Device{})
					}
					return
				}
				allow = append(allow, rt.method)
			}
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeProblem(w, problem.New(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
				fmt.Sprintf("%s %s is not supported; use %s", r.Method, r.URL.Path, strings.Join(allow, " or "))))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, problem.New(http.StatusNotFound, "not-found", "No such endpoint",
			fmt.Sprintf("%s is not an endpoint of the mCONNECT LAN API (%s)", r.URL.Path, APIPrefix)))
	})
	return recoverer(s.log, mux)
}

func recoverer(log logrus.FieldLogger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.WithField("panic", v).Error("device: handler panicked")
				writeProblem(w, internalProblem())
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// authed checks the bearer token against the store on every request, so a
// revoked token is refused at once, and records that the tablet was seen.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, domain.Device)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		authz := r.Header.Get("Authorization")
		if authz == "" {
			writeProblem(w, problem.New(http.StatusUnauthorized, "token-missing", "Authentication required",
				"the Authorization header is missing: send 'Authorization: Bearer <device token>' (pair the tablet first)").WithField("Authorization"))
			return
		}
		scheme, token, ok := strings.Cut(authz, " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > 512 {
			writeProblem(w, problem.New(http.StatusUnauthorized, "token-malformed", "Authentication required",
				"the Authorization header must be 'Bearer <device token>'").WithField("Authorization"))
			return
		}
		dev, err := s.st.DeviceByTokenHash(r.Context(), HashToken(token))
		if errors.Is(err, domain.ErrNotFound) {
			writeProblem(w, problem.New(http.StatusUnauthorized, "token-unknown", "Unknown device token",
				"the device token is not known to this hub: pair the tablet again").WithField("Authorization"))
			return
		}
		if err != nil {
			s.log.WithError(err).Error("device: look up device token")
			writeProblem(w, storeProblem())
			return
		}
		if dev.Revoked {
			writeProblem(w, problem.New(http.StatusUnauthorized, "token-revoked", "Tablet revoked",
				"this tablet was revoked on the hub; pair it again to use it").WithField("Authorization"))
			return
		}
		s.touch(r.Context(), dev.ID)
		h(w, r, dev)
	}
}

// touch records last-seen at most once per TouchEvery per device.
func (s *Server) touch(ctx context.Context, id string) {
	now := s.opts.Now()
	s.touchMu.Lock()
	last, ok := s.touched[id]
	due := !ok || now.Sub(last) >= s.opts.TouchEvery
	if due {
		s.touched[id] = now
	}
	s.touchMu.Unlock()
	if due {
		if err := s.st.Touch(ctx, id); err != nil {
			s.log.WithError(err).WithField("device", id).Warn("device: record last seen")
		}
	}
}

// decodeJSON reads a JSON request body of at most MaxJSONBytes into v.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) *problem.Problem {
	if p := requireJSON(r.Header.Get("Content-Type")); p != nil {
		return p
	}
	body := http.MaxBytesReader(w, r.Body, s.opts.MaxJSONBytes)
	return decodeJSONFrom(body, v, s.opts.MaxJSONBytes, "")
}

func requireJSON(ct string) *problem.Problem {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return problem.New(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			fmt.Sprintf("the body must be application/json, not %q", ct)).WithField("Content-Type")
	}
	return nil
}

// decodeJSONFrom decodes one JSON value from r into v; prefix names the
// part ("result.") in field names.
func decodeJSONFrom(r io.Reader, v any, limit int64, prefix string) *problem.Problem {
	dec := json.NewDecoder(r)
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err, limit, prefix)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonProblem(err, limit, prefix)
		}
		return problem.New(http.StatusBadRequest, "malformed-json", "Malformed JSON",
			"the body holds more than one JSON value").WithField(strings.TrimSuffix(prefix, "."))
	}
	return nil
}

func jsonProblem(err error, limit int64, prefix string) *problem.Problem {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return problem.New(http.StatusRequestEntityTooLarge, "too-large", "Body too large",
			fmt.Sprintf("the JSON is larger than %d bytes", limit)).WithField(strings.TrimSuffix(prefix, "."))
	case errors.Is(err, io.EOF):
		return problem.New(http.StatusBadRequest, "malformed-json", "Malformed JSON", "the JSON body is empty").WithField(strings.TrimSuffix(prefix, "."))
	case errors.As(err, &se):
		return problem.New(http.StatusBadRequest, "malformed-json", "Malformed JSON",
			fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)).WithField(strings.TrimSuffix(prefix, "."))
	case errors.As(err, &te):
		f := prefix + te.Field
		return problem.New(http.StatusUnprocessableEntity, "invalid-field", "Invalid field",
			fmt.Sprintf("%q must be %s, not %s", f, jsonKind(te.Type.Kind().String()), te.Value)).WithField(f)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(http.StatusBadRequest, "malformed-json", "Malformed JSON", "the JSON ends too early").WithField(strings.TrimSuffix(prefix, "."))
	default:
		return problem.New(http.StatusBadRequest, "malformed-json", "Malformed JSON", err.Error()).WithField(strings.TrimSuffix(prefix, "."))
	}
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "int32", "float64", "uint", "uint64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return k
}

func internalProblem() *problem.Problem {
	return problem.New(http.StatusInternalServerError, "internal", "Internal error", "the hub met an unexpected error; see its log")
}

func storeProblem() *problem.Problem {
	p := problem.New(http.StatusServiceUnavailable, "store-unavailable", "Hub cannot store data",
		"the hub's database cannot be read or written right now; try again shortly")
	p.RetryAfter = 5
	return p
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, HealthResponse{Status: "ok", HubID: s.opts.HubID, Version: s.opts.Version, Name: s.opts.HubName, TLS: !s.opts.PlainHTTP})
}

func (s *Server) handleHeartbeat(w http.ResponseWriter, r *http.Request, dev domain.Device) {
	var req heartbeatRequest
	if p := s.decodeJSON(w, r, &req); p != nil {
		writeProblem(w, p)
		return
	}
	battery := -1
	if req.Battery != nil {
		battery = *req.Battery
		if battery < 0 || battery > 100 {
			writeProblem(w, problem.New(http.StatusUnprocessableEntity, "invalid-field", "Invalid field",
				fmt.Sprintf(`"battery" must be a percentage from 0 to 100, not %d`, battery)).WithField("battery"))
			return
		}
	}
	if len(req.AppVersion) > maxTextField {
		writeProblem(w, problem.New(http.StatusUnprocessableEntity, "invalid-field", "Invalid field",
			fmt.Sprintf(`"appVersion" is longer than %d characters`, maxTextField)).WithField("appVersion"))
		return
	}
	ip := strings.TrimSpace(req.IP)
	if ip == "" {
		ip = remoteIP(r)
	} else if net.ParseIP(ip) == nil {
		writeProblem(w, problem.New(http.StatusUnprocessableEntity, "invalid-field", "Invalid field",
			fmt.Sprintf(`"ip" must be an IPv4 or IPv6 address, not %q`, ip)).WithField("ip"))
		return
	}
	if err := s.st.Heartbeat(r.Context(), dev.ID, battery, req.AppVersion, ip); err != nil {
		s.log.WithError(err).WithField("device", dev.ID).Error("device: heartbeat")
		writeProblem(w, storeProblem())
		return
	}
	writeJSON(w, http.StatusOK, HeartbeatResponse{DeviceID: dev.ID, Name: dev.Name, Group: dev.Group, ServerTime: s.opts.Now().UTC()})
}

// tickerC is a time.Ticker reduced to what runDiscovery needs.
type tickerC struct {
	C    <-chan time.Time
	Stop func()
}

func newTicker(d time.Duration) tickerC {
	t := time.NewTicker(d)
	return tickerC{C: t.C, Stop: t.Stop}
}
