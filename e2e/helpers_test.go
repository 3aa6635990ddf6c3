package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mesi/mconnect/connectors/hl7"
)

// binary is the mconnect binary built once in TestMain.
var binary string

// deadline bounds every wait for something the hub does in the
// background; generous because the tests share a loaded 2-core machine.
const deadline = 60 * time.Second

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mconnect-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "mconnect")
	out, err := exec.Command("go", "build", "-o", binary, "github.com/mesi/mconnect").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: build mconnect: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs mconnect with args to completion and returns its standard
// output; a non-zero exit fails the test with both outputs.
func run(t *testing.T, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("mconnect %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, o.String(), e.String())
	}
	return o.String()
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// freePortRange returns n consecutive loopback ports that were free a moment ago.
func freePortRange(t *testing.T, n int) (first, last int) {
	t.Helper()
	for try := 0; try < 50; try++ {
		base := freePort(t)
		if base+n-1 > 65535 {
			continue
		}
		var ls []net.Listener
		ok := true
		for p := base; p < base+n; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			return base, base + n - 1
		}
	}
	t.Fatalf("no %d consecutive free ports found", n)
	return 0, 0
}

func loopback(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// poll calls check until it returns nil, failing the test with the last
// error after the deadline. It never asserts on elapsed time.
func poll(t *testing.T, what string, check func() error) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%s: not within %v: %v", what, deadline, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// config is a hub config file as JSON, edited by key path.
type config struct {
	path string
	m    map[string]any
}

// exampleConfig writes `mconnect config example --ehr ehr` with its data
// folder under dir, a free loopback port for the tablet endpoint and short
// delivery backoffs; further edits go through set and save.
func exampleConfig(t *testing.T, ehr, dir string) *config {
	t.Helper()
	out := run(t, nil, "config", "example", "--ehr", ehr, "--data", filepath.Join(dir, "data"))
	c := &config{path: filepath.Join(dir, ehr+".json")}
	if err := json.Unmarshal([]byte(out), &c.m); err != nil {
		t.Fatalf("config example --ehr %s: not JSON: %v\n%s", ehr, err, out)
	}
	c.set(t, "device.listen", loopback(freePort(t)))
	c.set(t, "delivery.initialBackoff", "200ms")
	c.set(t, "delivery.maxBackoff", "1s")
	c.save(t)
	return c
}

// set replaces the value at a dotted key path; every key but the last
// must exist in the example, so that a typo fails here and not in serve.
func (c *config) set(t *testing.T, key string, v any) {
	t.Helper()
	parts := strings.Split(key, ".")
	m := c.m
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			t.Fatalf("config %s: no object at %q of %q", c.path, p, key)
		}
		m = next
	}
	last := parts[len(parts)-1]
	if _, ok := m[last]; !ok {
		t.Fatalf("config %s: the example has no key %q", c.path, key)
	}
	m[last] = v
}

// get returns the string at a dotted key path.
func (c *config) get(t *testing.T, key string) string {
	t.Helper()
	var v any = c.m
	for _, p := range strings.Split(key, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("config %s: no object above %q", c.path, key)
		}
		v = m[p]
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("config %s: %s is %T, not a string", c.path, key, v)
	}
	return s
}

func (c *config) save(t *testing.T) {
	t.Helper()
	b, err := json.MarshalIndent(c.m, "", "  ")
	if err != nil {
		t.Fatalf("encode config: %v", err)
	}
	if err := os.WriteFile(c.path, b, 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
}

// hub is one `mconnect serve` process (restartable) on a config.
type hub struct {
	t       *testing.T
	cfg     *config
	env     []string
	logPath string
	device  string // host:port of the tablet endpoint

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	runs int

	fp    string // TLS fingerprint, after pair
	token string // device token, after pair
	api   *http.Client
}

// startHub starts `mconnect serve --config` with env added to the
// environment and waits until the tablet endpoint is healthy. The process
// is killed at cleanup; its output goes to a file printed when the test
// failed.
func startHub(t *testing.T, c *config, env ...string) *hub {
	t.Helper()
	h := &hub{t: t, cfg: c, env: env, logPath: filepath.Join(filepath.Dir(c.path), "serve.log"), device: c.get(t, "device.listen")}
	t.Cleanup(func() {
		h.kill()
		if t.Failed() {
			b, _ := os.ReadFile(h.logPath)
			t.Logf("mconnect serve output (%s):\n%s", h.logPath, b)
		}
	})
	h.start()
	return h
}

// start runs serve (again) and waits until it is healthy.
func (h *hub) start() {
	t := h.t
	t.Helper()
	f, err := os.OpenFile(h.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("serve log: %v", err)
	}
	h.mu.Lock()
	h.runs++
	runNo := h.runs
	fmt.Fprintf(f, "===== mconnect serve, run %d, %s\n", runNo, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(binary, "serve", "--config", h.cfg.path)
	cmd.Env = append(os.Environ(), h.env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		h.mu.Unlock()
		f.Close()
		t.Fatalf("start serve: %v", err)
	}
	done := make(chan struct{})
	h.cmd, h.done = cmd, done
	h.mu.Unlock()
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(f, "===== mconnect serve, run %d, ended: %v (%s)\n", runNo, err, time.Now().Format(time.RFC3339Nano))
		f.Close()
		close(done)
	}()
	h.waitHealthy()
}

// kill ends the serve process with SIGKILL (no clean shutdown) and waits for it.
func (h *hub) kill() {
	h.mu.Lock()
	cmd, done := h.cmd, h.done
	h.cmd = nil
	h.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// alive fails the test at once when serve ended without the test ending it.
func (h *hub) alive() {
	h.t.Helper()
	h.mu.Lock()
	running := h.cmd != nil
	h.mu.Unlock()
	if running && h.exited() {
		h.t.Fatalf("mconnect serve ended unexpectedly (see its output below)")
	}
}

func (h *hub) exited() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done == nil {
		return true
	}
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

func (h *hub) waitHealthy() {
	t := h.t
	t.Helper()
	probe := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // readiness only; pairing pins the fingerprint
	}}
	defer probe.CloseIdleConnections()
	poll(t, "tablet endpoint healthy", func() error {
		if h.exited() {
			b, _ := os.ReadFile(h.logPath)
			t.Fatalf("mconnect serve exited early:\n%s", b)
		}
		resp, err := probe.Get("https://" + h.device + "/api/v1/health")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var health struct{ Status string }
		if err := json.NewDecoder(resp.Body).Decode(&health); err != nil {
			return fmt.Errorf("health answer: %w", err)
		}
		if health.Status != "ok" {
			return fmt.Errorf("health status %q", health.Status)
		}
		return nil
	})
}

// waitListening waits until something accepts TCP connections at addr.
func waitListening(t *testing.T, what, addr string) {
	t.Helper()
	poll(t, what+" listening on "+addr, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

var (
	pairCodeRE = regexp.MustCompile(`Pairing code: (\d+)`)
	hubFPRE    = regexp.MustCompile(`Hub fingerprint: ([0-9a-f]{64})`)
	versionFP  = regexp.MustCompile(`TLS fingerprint SHA-256 ([0-9a-f]{64})`)
	uploadedRE = regexp.MustCompile(`for appointment (\S+) uploaded as (\S+) \((\d+)-byte report\)`)
)

// pair makes a pairing code with `mconnect pair-code`, checks the
// fingerprint against `mconnect version`, and pairs `mconnect tablet-sim`
// with it while the worklist is still empty (so nothing is measured yet).
// The device token the simulator writes is kept for the test's own calls.
func (h *hub) pair() {
	t := h.t
	t.Helper()
	out := run(t, nil, "pair-code", "--config", h.cfg.path)
	code, fp := pairCodeRE.FindStringSubmatch(out), hubFPRE.FindStringSubmatch(out)
	if code == nil || fp == nil {
		t.Fatalf("pair-code printed no code or fingerprint:\n%s", out)
	}
	v := versionFP.FindStringSubmatch(run(t, nil, "version", "--config", h.cfg.path))
	if v == nil || v[1] != fp[1] {
		t.Fatalf("version and pair-code disagree on the fingerprint: %v vs %s", v, fp[1])
	}
	h.fp = fp[1]
	out = h.sim("--code", code[1])
	if !strings.Contains(out, "paired as") || uploadedRE.MatchString(out) {
		t.Fatalf("tablet-sim pairing:\n%s", out)
	}
	b, err := os.ReadFile(h.tokenFile())
	if err != nil {
		t.Fatalf("token written by tablet-sim: %v", err)
	}
	h.token = strings.TrimSpace(string(b))
	h.api = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: pinned(h.fp)}}
	t.Cleanup(h.api.CloseIdleConnections)
}

func (h *hub) tokenFile() string { return filepath.Join(filepath.Dir(h.cfg.path), "tablet.token") }

// sim runs `mconnect tablet-sim --once` against the hub with the token
// file and extra args; it returns the simulator's output.
func (h *hub) sim(args ...string) string {
	h.t.Helper()
	base := []string{"tablet-sim", "--hub", "https://" + h.device, "--fp", h.fp, "--token-file", h.tokenFile(), "--once"}
	return run(h.t, nil, append(base, args...)...)
}

// upload runs the simulator on the current worklist and returns the result
// IDs it was given (status 201), by appointment ID.
func (h *hub) upload() map[string]string {
	t := h.t
	t.Helper()
	out := h.sim()
	got := map[string]string{}
	for _, m := range uploadedRE.FindAllStringSubmatch(out, -1) {
		got[m[1]] = m[2]
	}
	if len(got) == 0 {
		t.Fatalf("tablet-sim uploaded nothing:\n%s", out)
	}
	return got
}

// report returns the PDF the hub stored for a result.
func (h *hub) report(resultID string) []byte {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.cfg.get(h.t, "hub.dataDir"), "reports", resultID+".pdf"))
	if err != nil {
		h.t.Fatalf("stored report of %s: %v", resultID, err)
	}
	return b
}

// pinned accepts exactly the certificate with the hex SHA-256 fingerprint fp.
func pinned(fp string) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by the pin below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no certificate")
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if got := hex.EncodeToString(sum[:]); got != fp {
				return fmt.Errorf("certificate fingerprint %s, pinned %s", got, fp)
			}
			return nil
		},
	}
}

// getJSON calls the LAN API as the paired tablet.
func (h *hub) getJSON(path string, v any) error {
	req, err := http.NewRequest(http.MethodGet, "https://"+h.device+"/api/v1"+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	resp, err := h.api.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("GET %s: read: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: decode: %w", path, err)
	}
	return nil
}

// Wire shapes of the LAN API (docs/lan-api.yaml), kept apart from the
// server's Go types so that the test reads what a tablet reads.
type (
	worklist struct {
		Group        string        `json:"group"`
		Appointments []appointment `json:"appointments"`
	}
	appointment struct {
		ID           string     `json:"id"`
		State        string     `json:"state"`
		Source       string     `json:"source"`
		Measurement  string     `json:"measurement"`
		PlacerNumber string     `json:"placerNumber"`
		Patient      patient    `json:"patient"`
		Visit        visit      `json:"visit"`
		Fields       []apiField `json:"fields"`
	}
	patient struct {
		ID              string     `json:"id"`
		InsuranceNumber string     `json:"insuranceNumber"`
		Name            personName `json:"name"`
		BirthDate       string     `json:"birthDate"`
		Sex             string     `json:"sex"`
		SexCode         string     `json:"sexCode"`
		Address         address    `json:"address"`
		Phones          []phone    `json:"phones"`
		Email           string     `json:"email"`
	}
	personName struct {
		Family string `json:"family"`
		Given  string `json:"given"`
		Middle string `json:"middle"`
	}
	address struct {
		Street     string `json:"street"`
		Other      string `json:"other"`
		City       string `json:"city"`
		PostalCode string `json:"postalCode"`
	}
	phone struct {
		Number string `json:"number"`
	}
	visit struct {
		Number struct {
			Value string `json:"value"`
		} `json:"number"`
	}
	apiField struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
)

// field returns the values of an appointment's fields with the key.
func (a appointment) field(key string) []string {
	var out []string
	for _, f := range a.Fields {
		if f.Key == key {
			out = append(out, f.Value)
		}
	}
	return out
}

// hasField reports whether the appointment carries key with value.
func (a appointment) hasField(key, value string) bool {
	for _, v := range a.field(key) {
		if v == value {
			return true
		}
	}
	return false
}

// onlyAppointment waits until the worklist holds exactly one appointment
// and returns it as GET /appointments/{id} shows it.
func (h *hub) onlyAppointment() appointment {
	t := h.t
	t.Helper()
	var id string
	poll(t, "one appointment on the worklist", func() error {
		h.alive()
		var wl worklist
		if err := h.getJSON("/worklist", &wl); err != nil {
			return err
		}
		if len(wl.Appointments) != 1 {
			return fmt.Errorf("%d appointments", len(wl.Appointments))
		}
		id = wl.Appointments[0].ID
		return nil
	})
	var a appointment
	if err := h.getJSON("/appointments/"+id, &a); err != nil {
		t.Fatal(err)
	}
	if a.ID != id || a.State != "scheduled" {
		t.Fatalf("appointment %s: id %q state %q", id, a.ID, a.State)
	}
	return a
}

// waitWorklistEmpty waits until the order is done and off the worklist.
func (h *hub) waitWorklistEmpty() {
	h.t.Helper()
	poll(h.t, "worklist empty after delivery (order done)", func() error {
		h.alive()
		var wl worklist
		if err := h.getJSON("/worklist", &wl); err != nil {
			return err
		}
		if n := len(wl.Appointments); n != 0 {
			return fmt.Errorf("%d appointments left, first in state %s", n, wl.Appointments[0].State)
		}
		return nil
	})
}

// dropFile makes data appear in dir under name atomically, as an EHR
// should: written under a temporary name outside the folder, then renamed.
func dropFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("drop %s: %v", name, err)
	}
	staging := filepath.Join(filepath.Dir(dir), ".staging")
	if err := os.MkdirAll(staging, 0o755); err != nil {
		t.Fatalf("drop %s: %v", name, err)
	}
	tmp := filepath.Join(staging, name+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatalf("drop %s: %v", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatalf("drop %s: %v", name, err)
	}
}

// waitFile waits until path exists and returns its content.
func waitFile(t *testing.T, path string) []byte {
	t.Helper()
	var b []byte
	poll(t, "file "+path, func() error {
		var err error
		b, err = os.ReadFile(path)
		return err
	})
	return b
}

// waitGone waits until path no longer exists.
func waitGone(t *testing.T, path string) {
	t.Helper()
	poll(t, path+" picked up", func() error {
		if _, err := os.Stat(path); err == nil {
			return errors.New("still there")
		}
		return nil
	})
}

// readTestdata reads a file of another package's testdata.
func readTestdata(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{".."}, parts...)...))
	if err != nil {
		t.Fatalf("testdata: %v", err)
	}
	return b
}

// checkPDF checks a delivered report against the PDF the hub stored.
func checkPDF(t *testing.T, got, stored []byte) {
	t.Helper()
	if !bytes.HasPrefix(got, []byte("%PDF-")) {
		t.Errorf("delivered report does not start with %%PDF-: %q", got[:min(len(got), 16)])
	}
	if len(got) < 1000 {
		t.Errorf("delivered report has only %d bytes", len(got))
	}
	if !bytes.Equal(got, stored) {
		t.Errorf("delivered report (%d bytes) differs from the stored one (%d bytes)", len(got), len(stored))
	}
}

// simUnits are the units of the observations tablet-sim sends, by code.
var simUnits = map[string]string{"HR": "bpm", "PR": "ms", "QRS": "ms", "QT": "ms", "QTc": "ms", "ABI_L": "", "ABI_R": ""}

// simObservations is how many values tablet-sim sends per measurement.
var simObservations = map[string]int{"ECG": 5, "ABI": 2}

// simMeasurement is what tablet-sim measures for an appointment.
func simMeasurement(appointmentMeasurement string) string {
	if appointmentMeasurement == "ABI" {
		return "ABI"
	}
	return "ECG"
}

// ---- HL7 peers ----

// needMLLPSend skips the test when mllp_send is not installed.
func needMLLPSend(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("mllp_send"); err != nil {
		t.Skip("mllp_send (Debian package python3-hl7) is not on PATH; CI installs it")
	}
}

// mllpSend sends each message with python3-hl7's mllp_send (skipping the
// test when it is not installed) and returns the parsed replies.
func mllpSend(t *testing.T, addr string, msgs ...[]byte) []*hl7.Message {
	t.Helper()
	needMLLPSend(t)
	bin, err := exec.LookPath("mllp_send")
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(addr)
	var file bytes.Buffer
	for _, m := range msgs {
		file.Write(bytes.TrimRight(m, "\r\n"))
		file.WriteString("\x1c\x0d") // mllp_send's message separator
	}
	path := filepath.Join(t.TempDir(), "msgs.hl7")
	if err := os.WriteFile(path, file.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-p", port, "--file", path, host).CombinedOutput()
	if err != nil {
		t.Fatalf("mllp_send: %v\n%s", err, out)
	}
	// mllp_send prints each reply as received, framing included, plus LF.
	var acks []*hl7.Message
	for _, chunk := range bytes.Split(out, []byte("\x1c\x0d\n")) {
		chunk = bytes.TrimPrefix(bytes.TrimSpace(chunk), []byte("\x0b"))
		if len(chunk) == 0 {
			continue
		}
		m, err := hl7.Parse(chunk)
		if err != nil {
			t.Fatalf("mllp_send reply %q: %v", chunk, err)
		}
		acks = append(acks, m)
	}
	if len(acks) != len(msgs) {
		t.Fatalf("%d replies to %d messages:\n%q", len(acks), len(msgs), out)
	}
	return acks
}

// ehrReceiver is the EHR's MLLP server for results: it answers every
// message with an AA whose MSA-2 is the message's MSH-10 and hands the
// raw message to the test.
type ehrReceiver struct {
	ln   net.Listener
	msgs chan []byte
	wg   sync.WaitGroup
	mu   sync.Mutex
	cons map[net.Conn]bool
}

func startReceiver(t *testing.T, addr string) *ehrReceiver {
	t.Helper()
	var ln net.Listener
	poll(t, "EHR receiver listening on "+addr, func() error { // the port may linger a moment
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	})
	r := &ehrReceiver{ln: ln, msgs: make(chan []byte, 16), cons: map[net.Conn]bool{}}
	r.wg.Add(1)
	go r.accept()
	t.Cleanup(r.close)
	return r
}

func (r *ehrReceiver) close() {
	r.ln.Close()
	r.mu.Lock()
	for c := range r.cons {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *ehrReceiver) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.cons[c] = true
		r.mu.Unlock()
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer func() {
				r.mu.Lock()
				delete(r.cons, c)
				r.mu.Unlock()
				c.Close()
			}()
			r.serve(c)
		}()
	}
}

// serve reads MLLP frames (VT message FS CR), never relying on one frame
// per read, and acknowledges each.
func (r *ehrReceiver) serve(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		if _, err := br.ReadBytes(0x0b); err != nil {
			return
		}
		var msg []byte
		for {
			chunk, err := br.ReadBytes(0x1c)
			if err != nil {
				return
			}
			msg = append(msg, chunk...)
			next, err := br.ReadByte()
			if err != nil {
				return
			}
			if next == 0x0d {
				break
			}
			msg = append(msg, next)
		}
		msg = msg[:len(msg)-1] // the FS
		ack := ackFor(msg)
		if _, err := c.Write(ack); err != nil {
			return
		}
		r.msgs <- msg
	}
}

// ackFor builds the receiver's framed original-mode AA for msg.
func ackFor(msg []byte) []byte {
	ctrl, version := "", "2.5"
	if m, err := hl7.Parse(msg); err == nil {
		if msh := m.Segment("MSH"); msh != nil {
			ctrl, version = msh.C(10, 1), msh.C(12, 1)
		}
	}
	ack := fmt.Sprintf("MSH|^~\\&|EHR|CLINIC|MCONNECT|MESI|%s||ACK^R01^ACK|ACK-%s|P|%s\rMSA|AA|%s\r",
		time.Now().Format("20060102150405"), ctrl, version, ctrl)
	return []byte("\x0b" + ack + "\x1c\x0d")
}

// next waits for the next message the receiver got.
func (r *ehrReceiver) next(t *testing.T, what string) []byte {
	t.Helper()
	select {
	case m := <-r.msgs:
		return m
	case <-time.After(deadline):
		t.Fatalf("%s: nothing received within %v", what, deadline)
		return nil
	}
}

// deadlineTimer fires after the deadline, for selects over channels.
func deadlineTimer() <-chan time.Time { return time.After(deadline) }
