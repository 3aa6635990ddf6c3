package desktop

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// EnvPprof names the variable that, when set to a loopback address
// ("127.0.0.1:6060", or a port alone), serves Go's profiles
// (/debug/pprof/) of the desktop application there, to measure its idle
// cost. Unset: nothing listens.
const EnvPprof = "MCONNECT_PPROF"

// EnvPprofDashboard is EnvPprof for the Dashboard process, when the tray
// runs in a process of its own (that one serves EnvPprof's).
const EnvPprofDashboard = "MCONNECT_PPROF_DASHBOARD"

// dashboardEnv is the environment the Dashboard process starts with: the
// tray process's, with the Dashboard's profile address as EnvPprof.
func dashboardEnv(env []string) []string {
	out := make([]string, 0, len(env))
	dash := ""
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case EnvPprof:
			continue
		case EnvPprofDashboard:
			dash = v
			continue
		}
		out = append(out, kv)
	}
	if dash != "" {
		out = append(out, EnvPprof+"="+dash)
	}
	return out
}

// pprofAddr checks the address asked for in EnvPprof: loopback only.
func pprofAddr(v string) (string, error) {
	if _, _, err := net.SplitHostPort(v); err != nil {
		v = net.JoinHostPort("127.0.0.1", v)
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return "", fmt.Errorf("%s=%q: not an address: %w", EnvPprof, v, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("%s=%q: profiles are served on a loopback address only (127.0.0.1)", EnvPprof, v)
	}
	return net.JoinHostPort(host, port), nil
}

// startPprof serves the profiles when EnvPprof asks for it.
func startPprof(log logrus.FieldLogger) {
	v := os.Getenv(EnvPprof)
	if v == "" {
		return
	}
	addr, err := pprofAddr(v)
	if err != nil {
		log.WithError(err).Warn("ui: profiles not served")
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.WithError(err).Warn("ui: profiles not served")
		return
	}
	log.WithField("address", ln.Addr().String()).Info("ui: serving Go profiles at /debug/pprof/")
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.WithError(err).Warn("ui: profiles")
		}
	}()
}

// releaseDelay lets Fyne's loop destroy a closed window (on its next
// frame), and the answers that come together (the Worklist's and the
// Groups tab's) arrive, before the memory is handed back.
const releaseDelay = 2 * time.Second

// trimmer hands back to the system what the GUI no longer needs: the Go
// heap a closed Dashboard or a large answer left behind, the C heap the
// graphics stack freed, and (at most every pageOutEvery) the shader
// compiler's code, idle once the window has painted. Requests within
// releaseDelay make one.
type trimmer struct {
	mu        sync.Mutex
	timer     *time.Timer
	lastPaged time.Time
	// now and pageOut replace the clock and pageOutShaderCompiler (tests).
	now     func() time.Time
	pageOut func() int
}

// pageOutEvery spaces the shader compiler's page-outs: a page-out costs a
// read of its pages from the disk at the next compile, and the next
// compile (a new kind of drawing) comes soon after the first few ones.
const pageOutEvery = 10 * time.Minute

// soon asks for it releaseDelay from now; call it from any goroutine.
func (t *trimmer) soon() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.timer != nil {
		t.timer.Stop()
	}
	t.timer = time.AfterFunc(releaseDelay, t.release)
}

func (t *trimmer) release() {
	debug.FreeOSMemory()
	trimCHeap()
	t.mu.Lock()
	now, pageOut := time.Now, pageOutShaderCompiler
	if t.now != nil {
		now = t.now
	}
	if t.pageOut != nil {
		pageOut = t.pageOut
	}
	at := now()
	due := t.lastPaged.IsZero() || at.Sub(t.lastPaged) >= pageOutEvery
	if due {
		t.lastPaged = at
	}
	t.mu.Unlock()
	if due {
		pageOut()
	}
}
