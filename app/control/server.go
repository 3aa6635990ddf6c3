package control

import (
	"bufio"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// Serve answers the control API on ln until ctx is done. Every request is
// a POST of a JSON body to /v1/<Method>; the answer is the JSON result, or
// an *Error as JSON with a 4xx/5xx status. GET /v1/events streams Events
// as JSON lines. allow vets each connection (peer credentials); nil allows
// every connection the listener accepts.
func Serve(ctx context.Context, ln net.Listener, api API, allow func(net.Conn) bool) error {
	return serve(ctx, ln, api, allow, "")
}

// serve is Serve requiring "Authorization: Bearer token" on every request
// when token is set (the Windows endpoint's).
func serve(ctx context.Context, ln net.Listener, api API, allow func(net.Conn) bool, token string) error {
	mux := http.NewServeMux()
	for name, h := range handlers(api) {
		mux.HandleFunc("POST /v1/"+name, h)
	}
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) { streamEvents(w, r, api) })
	srv := &http.Server{
		Handler:           limitBody(mux, token),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	if allow != nil {
		ln = &vettedListener{Listener: ln, allow: allow}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		srv.Close()
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// maxRequest bounds a request body: control requests are small.
const maxRequest = 1 << 20

func limitBody(h http.Handler, token string) http.Handler {
	want := "Bearer " + token
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) != 1 {
			writeError(w, &Error{Kind: Unavailable, Message: "not allowed"})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxRequest)
		h.ServeHTTP(w, r)
	})
}

// vettedListener closes connections that allow refuses.
type vettedListener struct {
	net.Listener
	allow func(net.Conn) bool
}

func (l *vettedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.allow(c) {
			return c, nil
		}
		c.Close()
	}
}

// method adapts one API method to an HTTP handler.
func method[Req, Resp any](call func(context.Context, Req) (Resp, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
			writeError(w, &Error{Kind: Invalid, Message: "malformed request", Detail: err.Error()})
			return
		}
		resp, err := call(r.Context(), req)
		if err != nil {
			writeError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	}
}

type none struct{}

type idRequest struct {
	ID int64 `json:"id"`
}

type showRequest struct {
	Tab string `json:"tab,omitempty"`
}

type stringRequest struct {
	ID string `json:"id"`
}

func handlers(api API) map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"Status":       method(func(ctx context.Context, _ none) (Status, error) { return api.Status(ctx) }),
		"Orders":       method(api.Orders),
		"CountOrders":  method(api.CountOrders),
		"Order":        method(func(ctx context.Context, r stringRequest) (any, error) { return api.Order(ctx, r.ID) }),
		"DeleteOrder":  method(api.DeleteOrder),
		"Deliveries":   method(api.Deliveries),
		"Delivery":     method(func(ctx context.Context, r idRequest) (DeliveryDetail, error) { return api.Delivery(ctx, r.ID) }),
		"Resend":       method(api.Resend),
		"Cancel":       method(api.Cancel),
		"Result":       method(func(ctx context.Context, r stringRequest) (ResultDetail, error) { return api.Result(ctx, r.ID) }),
		"Results":      method(api.Results),
		"Tablets":      method(func(ctx context.Context, _ none) (any, error) { return api.Tablets(ctx) }),
		"UpdateTablet": method(api.UpdateTablet),
		"NewPairingCode": method(func(ctx context.Context, r stringRequest) (Pairing, error) {
			return api.NewPairingCode(ctx, r.ID)
		}),
		"Groups":      method(func(ctx context.Context, _ none) (any, error) { return api.Groups(ctx) }),
		"SaveGroup":   method(api.SaveGroup),
		"DeleteGroup": method(func(ctx context.Context, r stringRequest) (none, error) { return none{}, api.DeleteGroup(ctx, r.ID) }),
		"Connections": method(func(ctx context.Context, _ none) ([]Connection, error) { return api.Connections(ctx) }),
		"TestConnection": method(func(ctx context.Context, r stringRequest) ([]CheckOutcome, error) {
			return api.TestConnection(ctx, r.ID)
		}),
		"APIClients": method(func(ctx context.Context, r stringRequest) ([]APIClient, error) {
			return api.APIClients(ctx, r.ID)
		}),
		"AddAPIClient":      method(api.AddAPIClient),
		"RevokeAPIClient":   method(api.RevokeAPIClient),
		"LogTail":           method(api.LogTail),
		"Config":            method(func(ctx context.Context, _ none) (ConfigDoc, error) { return api.Config(ctx) }),
		"ValidateConfig":    method(api.ValidateConfig),
		"SaveConfig":        method(api.SaveConfig),
		"ExportDiagnostics": method(api.ExportDiagnostics),
		"Show":              method(func(ctx context.Context, r showRequest) (none, error) { return none{}, api.Show(ctx, r.Tab) }),
	}
}

func statusOf(k Kind) int {
	switch k {
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case Invalid:
		return http.StatusBadRequest
	case Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Kind: Internal, Message: "the hub could not do this", Detail: err.Error()}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(statusOf(e.Kind))
	_ = json.NewEncoder(w).Encode(e)
}

// streamEvents writes events as JSON lines, with a keep-alive line every
// 15 seconds so that a vanished client is noticed.
func streamEvents(w http.ResponseWriter, r *http.Request, api API) {
	ch, err := api.Subscribe(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	fl, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	flush := func() {
		bw.Flush()
		if fl != nil {
			fl.Flush()
		}
	}
	flush()
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if enc.Encode(ev) != nil {
				return
			}
			flush()
		case <-tick.C:
			bw.WriteString("{}\n")
			flush()
		}
	}
}
