package gdtfile

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/gdt"
	"github.com/mesi/mconnect/internal/testfs"
)

const gdtTestdata = "../gdt/testdata"

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// fakeSink stores orders; err, when set, is returned instead.
type fakeSink struct {
	mu     sync.Mutex
	orders []domain.Order
	seen   map[string]string
	err    error
	fsync  string // when set, each order is written and fsynced to a file here
	notify chan string
}

func newSink() *fakeSink { return &fakeSink{seen: map[string]string{}} }

func (s *fakeSink) AcceptOrder(_ context.Context, o domain.Order) (domain.Accepted, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return domain.Accepted{}, s.err
	}
	if s.fsync != "" {
		f, err := os.CreateTemp(s.fsync, "order-*")
		if err != nil {
			return domain.Accepted{}, err
		}
		f.WriteString(o.SourceMessageID)
		f.Sync()
		f.Close()
	}
	if id, ok := s.seen[o.SourceMessageID]; ok {
		return domain.Accepted{OrderID: id, Duplicate: true, State: o.State}, nil
	}
	id := fmt.Sprintf("ord-%d", len(s.orders)+1)
	o.ID = id
	s.seen[o.SourceMessageID] = id
	s.orders = append(s.orders, o)
	if s.notify != nil {
		s.notify <- o.Patient.ID
	}
	return domain.Accepted{OrderID: id, State: o.State}, nil
}

func (s *fakeSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orders)
}

func (s *fakeSink) get(i int) domain.Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.orders[i]
}

func (s *fakeSink) setErr(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

type healthLog struct {
	mu sync.Mutex
	hs []domain.Health
}

func (h *healthLog) Report(x domain.Health) {
	h.mu.Lock()
	h.hs = append(h.hs, x)
	h.mu.Unlock()
}

func (h *healthLog) has(code string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, x := range h.hs {
		if x.Code == code {
			return true
		}
	}
	return false
}

type rig struct {
	opts   Options
	in     *Inbound
	sink   *fakeSink
	health *healthLog
	hook   *test.Hook
}

func startInbound(t testing.TB, opts Options, sink *fakeSink) *rig {
	t.Helper()
	base := testfs.TempDir(t)
	if opts.InboundDir == "" {
		opts.InboundDir = filepath.Join(base, "gdt-in")
	}
	if opts.ResultDir == "" {
		opts.ResultDir = filepath.Join(base, "gdt-out")
	}
	if opts.PDFDir == "" {
		opts.PDFDir = filepath.Join(base, "pdf")
	}
	log, hook := test.NewNullLogger()
	log.SetLevel(logrus.InfoLevel)
	h := &healthLog{}
	in, err := NewInbound(opts, sink, log, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- in.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &rig{opts: opts, in: in, sink: sink, health: h, hook: hook}
}

func copyTestdata(t testing.TB, name, dst string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(gdtTestdata, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEndToEnd: a file dropped in the folder and one uploaded with curl
// reach the sink with every field; the outbound writes a 6310 file and the
// PDF that parse back to what was sent.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	opts := TomedoDefaults()
	opts.Name = "tomedo-praxis"
	opts.Groups = map[string]string{"EKG01": "cardio"}
	opts.FTP = FTPOptions{Enabled: true, Addr: "127.0.0.1:0", User: "tomedo", Password: "ftp-secret"}
	sink := newSink()
	r := startInbound(t, opts, sink)

	// 1. Doctolib-style CP437 file dropped into the folder.
	raw1 := copyTestdata(t, "doctolib_6302_cp437.gdt", filepath.Join(r.opts.InboundDir, "DOCTMESI.GDT"))
	waitFor(t, "first order", func() bool { return sink.count() == 1 })
	waitFor(t, "archived", func() bool { return exists(filepath.Join(r.opts.InboundDir, "archive", "DOCTMESI.GDT")) })

	// 2. tomedo UTF-8 file uploaded over FTP with curl.
	src := filepath.Join(testfs.TempDir(t), "TOMEMESI.GDT")
	raw2 := copyTestdata(t, "tomedo_6302_utf8.gdt", src)
	out, err := exec.Command("curl", "-sS", "--max-time", "30", "-T", src, "ftp://"+r.in.FTPAddr()+"/", "--user", "tomedo:ftp-secret").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	waitFor(t, "second order", func() bool { return sink.count() == 2 })

	for i, raw := range [][]byte{raw1, raw2} {
		o := sink.get(i)
		rec, err := gdt.Parse(raw, gdt.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Fields) != len(rec.Lines) {
			t.Fatalf("order %d: %d fields, file has %d", i, len(o.Fields), len(rec.Lines))
		}
		for j, l := range rec.Lines {
			if o.Fields[j].Key != l.ID || o.Fields[j].Value != l.Value {
				t.Errorf("order %d field %d = %+v, want %s %q", i, j, o.Fields[j], l.ID, l.Value)
			}
		}
		if o.Connection != "tomedo-praxis" || o.SourceMessageID != gdt.SourceMessageID(raw) {
			t.Errorf("order %d: connection %q source %q", i, o.Connection, o.SourceMessageID)
		}
	}
	o1, o2 := sink.get(0), sink.get(1)
	if o1.Patient.Name.Family != "Müller" || o1.Patient.Name.Given != "Jürgen" || o1.Group != "cardio" || o1.Measurement != "ECG" {
		t.Errorf("order 1: %+v", o1)
	}
	if o2.Patient.Name.Family != "Öztürk" || o2.PlacerNumber != "T-98765" || o2.Measurement != "ABI" {
		t.Errorf("order 2: %+v", o2)
	}
	// Logs carry IDs, never names or birth dates.
	for _, e := range r.hook.AllEntries() {
		s, _ := e.String()
		for _, secret := range []string{"Müller", "Jürgen", "Öztürk", "07031961", "1961-03-07"} {
			if strings.Contains(s, secret) {
				t.Errorf("log leaks %q: %s", secret, s)
			}
		}
	}

	// 3. Results back for both orders.
	pdf := bytes.Repeat([]byte("%PDF-1.7 mesi report \x00\xff"), 4096)
	pdfSrc := filepath.Join(testfs.TempDir(t), "stored.pdf")
	os.WriteFile(pdfSrc, pdf, 0o644)
	ob, err := NewOutbound(r.opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range []domain.Order{o1, o2} {
		res := domain.Result{
			ID: fmt.Sprintf("res-%d", i+1), OrderID: o.ID, Measurement: o.Measurement,
			PerformedAt: time.Date(2025, 3, 11, 10, 15, 30, 0, time.Local),
			Observations: []domain.Observation{
				{Code: "HR", Name: "Herzfrequenz", Value: "72", Unit: "/min", Low: "60", High: "100"},
				{Code: "ABI-R", Name: "ABI rechts", Value: "1,05", Flag: "N"},
			},
			Interpretation: "Unauffälliger Befund.",
			Report:         &domain.Attachment{Path: pdfSrc, ContentType: "application/pdf", Size: int64(len(pdf))},
		}
		answer, err := ob.Deliver(context.Background(), domain.Outgoing{Result: res, Order: &o})
		if err != nil {
			t.Fatalf("deliver %d: %v", i, err)
		}
		gdtPath := filepath.Join(r.opts.ResultDir, "TOMEMESI.GDT")
		if !strings.Contains(answer, "TOMEMESI.GDT") {
			t.Errorf("answer %q", answer)
		}
		data, err := os.ReadFile(gdtPath)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := gdt.Parse(data, gdt.ParseOptions{})
		if err != nil {
			t.Fatalf("result file does not parse: %v", err)
		}
		v, err := gdt.ReadResult(rec, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		wantVersion := map[int]string{0: "02.10", 1: "03.00"}[i]
		wantCharset := map[int]gdt.Charset{0: gdt.CharsetCP437, 1: gdt.CharsetUTF8}[i]
		if v.Version != wantVersion || rec.Charset != wantCharset {
			t.Errorf("result %d: version %s charset %s", i, v.Version, rec.Charset)
		}
		if v.ReceiverID != o.Meta[gdt.MetaSenderID] || v.SenderID != "MESI" {
			t.Errorf("result %d: 8315 %q 8316 %q", i, v.ReceiverID, v.SenderID)
		}
		if v.Patient.ID != o.Patient.ID || v.Patient.Name != o.Patient.Name || v.Patient.BirthDate != o.Patient.BirthDate || v.Patient.SexCode != o.Patient.SexCode {
			t.Errorf("result %d: patient %+v, order %+v", i, v.Patient, o.Patient)
		}
		if v.DeviceCode != o.ServiceCode || !v.PerformedAt.Equal(res.PerformedAt) || v.Interpretation != res.Interpretation {
			t.Errorf("result %d: %+v", i, v)
		}
		if len(v.Observations) != 2 || v.Observations[0] != res.Observations[0] || v.Observations[1] != res.Observations[1] {
			t.Errorf("result %d: observations %+v", i, v.Observations)
		}
		got, err := os.ReadFile(v.PDFReference)
		if err != nil {
			t.Fatalf("6305 %q: %v", v.PDFReference, err)
		}
		if !bytes.Equal(got, pdf) || filepath.Dir(v.PDFReference) != r.opts.PDFDir {
			t.Errorf("PDF at %s differs", v.PDFReference)
		}
		// While the EHR has not picked the file up, the next delivery waits.
		if i == 0 {
			_, err := ob.Deliver(context.Background(), domain.Outgoing{Result: res, Order: &o})
			var de *domain.DeliveryError
			if !errors.As(err, &de) || de.Permanent || !strings.Contains(err.Error(), "not picked up") {
				t.Fatalf("second delivery: %v, want a temporary error", err)
			}
			after, _ := os.ReadFile(gdtPath)
			if !bytes.Equal(after, data) {
				t.Fatal("unpicked result file overwritten")
			}
		}
		os.Remove(gdtPath) // the EHR picks it up
	}
}

func TestOutboundCountingEmbeddedAndUnsolicited(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	opts := TomedoDefaults()
	opts.ResultDir = filepath.Join(dir, "out")
	opts.PDFDir = filepath.Join(dir, "out")
	opts.ResultNaming = NamingCounting
	opts.ResultFileName = "MESI"
	opts.EmbedPDF = true
	opts.PDFReference = `\\PRAXIS\gdt\out`
	ob, err := NewOutbound(opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.4 tiny")
	src := filepath.Join(dir, "r.pdf")
	os.WriteFile(src, pdf, 0o644)
	for i := 0; i < 2; i++ {
		res := domain.Result{ID: "u1", Measurement: "SPO2", PerformedAt: time.Now(),
			Observations: []domain.Observation{{Code: "SPO2", Value: "97", Unit: "%"}},
			Patient:      &domain.Patient{ID: "55", Name: domain.PersonName{Family: "Weiß", Given: "Anna"}, BirthDate: "1970-01-02", Sex: domain.SexFemale},
			Report:       &domain.Attachment{Path: src}}
		if _, err := ob.Deliver(context.Background(), domain.Outgoing{Result: res}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"MESI.000", "MESI.001"} {
		data, err := os.ReadFile(filepath.Join(dir, "out", name))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := gdt.Parse(data, gdt.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := gdt.ReadResult(rec, nil)
		if v.Patient.Name.Family != "Weiß" || v.ReceiverID != "TOMEDO" || v.Version != "03.00" || v.Patient.SexCode != "W" {
			t.Errorf("%s: %+v", name, v)
		}
		if !bytes.Equal(v.PDFContent, pdf) || v.PDFReference != `\\PRAXIS\gdt\out\55_SPO2_u1.pdf` {
			t.Errorf("%s: pdf ref %q, %d embedded bytes", name, v.PDFReference, len(v.PDFContent))
		}
	}
	// The same PDF twice is written once (second attempt reuses it).
	des, _ := os.ReadDir(filepath.Join(dir, "out"))
	if len(des) != 3 {
		t.Errorf("folder holds %d files, want 2 GDT + 1 PDF", len(des))
	}
}

func TestOutboundMisconfiguration(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	file := filepath.Join(dir, "afile")
	os.WriteFile(file, nil, 0o644)
	opts := DoctolibDefaults()
	opts.ResultDir = filepath.Join(file, "out")
	if _, err := NewOutbound(opts, nil, nil); err == nil || !strings.Contains(err.Error(), "cannot be created") {
		t.Fatalf("err %v", err)
	}
	// A folder that disappears and cannot be recreated: permanent.
	opts.ResultDir = filepath.Join(dir, "out")
	ob, err := NewOutbound(opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(opts.ResultDir)
	os.WriteFile(opts.ResultDir, nil, 0o644) // a file in the folder's place
	_, err = ob.Deliver(context.Background(), domain.Outgoing{Result: domain.Result{ID: "x", Patient: &domain.Patient{ID: "1"}}})
	if !domain.IsPermanent(err) || !strings.Contains(err.Error(), "misconfigured") {
		t.Fatalf("err %v, want permanent misconfiguration", err)
	}
	// A missing PDF is permanent too.
	os.Remove(opts.ResultDir)
	_, err = ob.Deliver(context.Background(), domain.Outgoing{Result: domain.Result{ID: "x", Patient: &domain.Patient{ID: "1"}, Report: &domain.Attachment{Path: filepath.Join(dir, "missing.pdf")}}})
	if !domain.IsPermanent(err) {
		t.Fatalf("missing PDF: %v", err)
	}
}

// TestBadInput: every bad file ends in error/ with a specific note; the
// connection keeps running and good files still pass.
func TestBadInput(t *testing.T) {
	t.Parallel()
	opts := DoctolibDefaults()
	opts.QuietPeriod = 200 * time.Millisecond
	opts.IncompleteWait = 300 * time.Millisecond // the truncated ones look still being written
	sink := newSink()
	r := startInbound(t, opts, sink)
	in := r.opts.InboundDir
	cases := map[string]string{ // file -> text the note must hold
		"bad_line_length.gdt":   "gdt: line 5 (field 9206): wrong line length: prefix says 11 bytes, line has 10",
		"bad_missing_8000.gdt":  "gdt: field 8000: no record type (8000)",
		"bad_type_6300.gdt":     `record type 6300 (request master data) is not an order`,
		"bad_8100_mismatch.gdt": "gdt: line 2 (field 8100): record length mismatch",
		"bad_truncated.gdt":     "gdt: line 24: truncated",
		"bad_empty.gdt":         "gdt: empty file",
		"bad_binary.gdt":        "gdt: line 1: length prefix",
		"bad_charset_7bit.gdt":  "gdt: line 8 (field 3101): byte 0xE1 at offset 3 is not 7-bit",
		"bad_birthdate.gdt":     "gdt: line 14 (field 3103): birth date is not a valid DDMMYYYY date",
	}
	for name := range cases {
		copyTestdata(t, name, filepath.Join(in, name))
	}
	big := filepath.Join(in, "huge.gdt")
	f, _ := os.Create(big)
	f.Truncate(100 << 20)
	f.Close()
	cases["huge.gdt"] = "file is 104857600 bytes, more than the limit of 10485760 bytes"
	copyTestdata(t, "doctolib_6302_cp437.gdt", filepath.Join(in, "good.gdt"))

	for name, want := range cases {
		note := filepath.Join(in, "error", name+".error")
		// Readable, not only there: on Windows a file just renamed into place
		// refuses opens (sharing violation) until the renaming handle closes.
		var b []byte
		waitFor(t, "note for "+name, func() bool { var err error; b, err = readNote(note); return err == nil })
		if !strings.Contains(string(b), want) {
			t.Errorf("%s: note %q lacks %q", name, b, want)
		}
		if !exists(filepath.Join(in, "error", name)) {
			t.Errorf("%s not kept in error/", name)
		}
	}
	waitFor(t, "good order", func() bool { return sink.count() == 1 })
	if !r.health.has("file-rejected") {
		t.Error("no health warning for rejected files")
	}
}

func TestSinkOutcomes(t *testing.T) {
	t.Parallel()
	opts := TomedoDefaults()
	opts.QuietPeriod = 100 * time.Millisecond
	opts.RescanInterval = 100 * time.Millisecond
	sink := newSink()
	r := startInbound(t, opts, sink)
	in := r.opts.InboundDir

	// Store down: the file stays and goes through once the store is back.
	sink.setErr(errors.New("database is locked"))
	copyTestdata(t, "tomedo_6302_utf8.gdt", filepath.Join(in, "A.GDT"))
	waitFor(t, "store-unavailable health", func() bool { return r.health.has("store-unavailable") })
	if !exists(filepath.Join(in, "A.GDT")) || exists(filepath.Join(in, "error", "A.GDT")) {
		t.Fatal("file moved although the store was down")
	}
	sink.setErr(nil)
	waitFor(t, "order after recovery", func() bool { return sink.count() == 1 })
	waitFor(t, "archived", func() bool { return exists(filepath.Join(in, "archive", "A.GDT")) })

	// Unknown order on cancel: error/ with a note.
	sink.setErr(fmt.Errorf("cancel T-98765: %w", domain.ErrUnknownOrder))
	copyTestdata(t, "tomedo_6303_cancel.gdt", filepath.Join(in, "C.GDT"))
	note := filepath.Join(in, "error", "C.GDT.error")
	waitFor(t, "note", func() bool { return exists(note) })
	b, _ := readNote(note)
	if !strings.Contains(string(b), "the hub refused the order (record 6303, placer number T-98765)") || !strings.Contains(string(b), "no such order") {
		t.Errorf("note %q", b)
	}
	sink.setErr(nil)

	// 6311 is acknowledged and archived without an order.
	copyTestdata(t, "doctolib_6311_show.gdt", filepath.Join(in, "S.GDT"))
	waitFor(t, "6311 archived", func() bool { return exists(filepath.Join(in, "archive", "S.GDT")) })
	if sink.count() != 1 {
		t.Error("6311 reached the sink")
	}

	// The same name again (the EHR's fixed name) is processed and archived beside.
	copyTestdata(t, "tomedo_6302_8859-15.gdt", filepath.Join(in, "A.GDT"))
	waitFor(t, "second A.GDT archived beside the first", func() bool { return exists(filepath.Join(in, "archive", "A-1.GDT")) })
	if sink.count() != 2 {
		t.Errorf("%d orders", sink.count())
	}
}

// TestFileBeingWrittenWaits: a GDT file written in two parts is not read
// while incomplete and goes through as soon as its 8100 length matches,
// without waiting out the quiet period.
func TestFileBeingWrittenWaits(t *testing.T) {
	t.Parallel()
	opts := DoctolibDefaults()
	opts.QuietPeriod = time.Hour
	sink := newSink()
	r := startInbound(t, opts, sink)
	raw, _ := os.ReadFile(filepath.Join(gdtTestdata, "doctolib_6302_cp437.gdt"))
	path := filepath.Join(r.opts.InboundDir, "W.GDT")
	os.WriteFile(path, raw[:200], 0o644)
	time.Sleep(300 * time.Millisecond) // the watcher has seen it by now
	if sink.count() != 0 || !exists(path) {
		t.Fatal("half file processed")
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(raw[200:])
	f.Close()
	waitFor(t, "order", func() bool { return sink.count() == 1 })
	o := sink.get(0)
	if p, _ := o.Field("3101"); p != "Müller" {
		t.Errorf("3101 %q", p)
	}
}

func TestProfilesAndOptions(t *testing.T) {
	t.Parallel()
	d, tm := DoctolibDefaults(), TomedoDefaults()
	if d.Version != "02.10" || d.ResultCharset != gdt.CharsetCP437 || d.EHRID != "DOCTOLIB" {
		t.Errorf("doctolib %+v", d)
	}
	if tm.Version != "03.00" || tm.ResultCharset != gdt.CharsetUTF8 || tm.EHRID != "TOMEDO" {
		t.Errorf("tomedo %+v", tm)
	}
	if _, err := NewInbound(Options{}, newSink(), nil, nil); err == nil {
		t.Error("no folder accepted")
	}
	if _, err := NewInbound(Options{InboundDir: testfs.TempDir(t)}, nil, nil, nil); err == nil {
		t.Error("no sink accepted")
	}
	if _, err := NewInbound(Options{InboundDir: testfs.TempDir(t), Charset: "klingon"}, newSink(), nil, nil); err == nil {
		t.Error("bad charset accepted")
	}
	if _, err := NewOutbound(Options{ResultDir: testfs.TempDir(t), ResultNaming: "random"}, nil, nil); err == nil {
		t.Error("bad naming accepted")
	}
}

// TestFTPLoginLockInHealth: wrong passwords over FTP lock the address out,
// and health says so, naming the address but never the password.
func TestFTPLoginLockInHealth(t *testing.T) {
	t.Parallel()
	opts := TomedoDefaults()
	opts.FTP = FTPOptions{Enabled: true, Addr: "127.0.0.1:0", User: "tomedo", Password: "ftp-secret",
		MaxLoginFailures: 3, FailureDelay: time.Millisecond, LockDuration: time.Hour}
	r := startInbound(t, opts, newSink())
	for i := 0; i < 3; i++ {
		c, err := net.DialTimeout("tcp", r.in.FTPAddr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		br.ReadString('\n')
		fmt.Fprintf(c, "USER tomedo\r\nPASS guess-%d\r\n", i)
		br.ReadString('\n')
		br.ReadString('\n')
		c.Close()
	}
	waitFor(t, "login-locked health", func() bool { return r.health.has("login-locked") })
	r.health.mu.Lock()
	defer r.health.mu.Unlock()
	for _, h := range r.health.hs {
		if h.Code != "login-locked" {
			continue
		}
		if h.Component != "conn:tomedo/ftp" || h.Severity != domain.SeverityWarning || h.Args["ip"] != "127.0.0.1" {
			t.Errorf("health %+v", h)
		}
		if all := fmt.Sprint(h.Args, h.Detail, h.LastError); strings.Contains(all, "guess-") || strings.Contains(all, "ftp-secret") {
			t.Errorf("health shows a password: %s", all)
		}
	}
}
