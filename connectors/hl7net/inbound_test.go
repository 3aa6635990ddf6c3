package hl7net

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/hl7"
	"github.com/mesi/mconnect/connectors/mllp"
)

// TestInboundEndToEnd sends each EHR's sample order through the listener:
// every one is stored once and answered AA with MSA-2 = MSH-10, in the
// sender's version, with sending and receiving applications swapped.
func TestInboundEndToEnd(t *testing.T) {
	t.Parallel()
	sink := &fakeSink{}
	logger, hook := test.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	addr, health := startInbound(t, MLLPInboundOptions{GroupMap: map[string]string{"ECG": "cardio"}}, sink, logger)
	tests := []struct {
		file, ctrl, version, sendApp, recvApp, code string
	}{
		{"birpis_orm.hl7", "BIR0001", "2.3", "MCONNECT", "BIRPIS", "AA"},
		{"hipokrat_orm.hl7", "HIP-77", "2.5", "MESI", "HIPOKRAT", "AA"},
		{"iris_orm.hl7", "IRIS-2024-0001", "2.4", "MESI", "IRIS", "AA"},
		{"isoz_orm.hl7", "ISOZ000123", "2.3.1", "MESI", "ISOZ", "CA"}, // enhanced mode (MSH-15/16)
		{"nextgen_orm.hl7", "NG20240704093015001", "2.5.1", "MESI", "NEXTGEN", "CA"},
		{"weda_orm.hl7", "WEDA-0812-1", "2.5", "MESI", "WEDA", "AA"},
	}
	for _, tt := range tests {
		ack, m := exchange(t, addr, readFile(t, tt.file))
		if string(ack.Code) != tt.code || ack.ControlID != tt.ctrl {
			t.Errorf("%s: ACK %+v", tt.file, ack)
		}
		for p, want := range map[string]string{"MSH-12": tt.version, "MSH-3": tt.sendApp, "MSH-5": tt.recvApp, "MSH-9.1": "ACK", "MSH-10": "A" + tt.ctrl} {
			if got := m.Get(p); got != want {
				t.Errorf("%s: %s = %q, want %q", tt.file, p, got, want)
			}
		}
	}
	orders, _ := sink.snapshot()
	if len(orders) != len(tests) {
		t.Fatalf("%d orders stored", len(orders))
	}
	o := orders[0]
	if o.Connection != "test" || o.Patient.Name.Family != "Čebašek" || o.Group != "cardio" || o.Measurement != "ECG" {
		t.Errorf("first order %+v", o)
	}
	if !health.has("receiving") {
		t.Error("no health report after accepted orders")
	}
	// Logs at info level carry IDs, never names or birth dates.
	for _, e := range hook.AllEntries() {
		if e.Level > logrus.InfoLevel {
			continue // debug lines may quote the message
		}
		line, _ := e.String()
		for _, secret := range []string{"Čebašek", "Žiga", "Doe", "Dupré", "19800101", "1980-01-01", "19580214"} {
			if strings.Contains(line, secret) {
				t.Errorf("log line leaks %q: %s", secret, line)
			}
		}
	}
	// The order's own line is at debug level: the hub logs one line per
	// accepted order at info level, for every connector.
	found := false
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.DebugLevel && e.Message == "hl7: order accepted" && e.Data["patient_id"] == "123456" && e.Data["placer"] == "ORD1001" {
			found = true
		}
	}
	if !found {
		t.Error("accepted order not logged with its IDs")
	}
}

// TestInboundDuplicate: a re-sent message (same MSH-10) is answered AA
// again and stored once.
func TestInboundDuplicate(t *testing.T) {
	t.Parallel()
	sink := &fakeSink{}
	addr, _ := startInbound(t, MLLPInboundOptions{}, sink, nil)
	msg := readFile(t, "birpis_orm.hl7")
	a1, m1 := exchange(t, addr, msg)
	a2, m2 := exchange(t, addr, msg)
	if a1.Code != "AA" || a2.Code != "AA" || a2.ControlID != "BIR0001" {
		t.Fatalf("ACKs %+v %+v", a1, a2)
	}
	if m1.Get("MSH-10") != m2.Get("MSH-10") {
		t.Errorf("replayed ACK has another control ID: %q vs %q", m1.Get("MSH-10"), m2.Get("MSH-10"))
	}
	orders, calls := sink.snapshot()
	if len(orders) != 1 || calls != 2 {
		t.Errorf("%d orders stored after %d calls", len(orders), calls)
	}
}

// TestInboundBadInput: every kind of bad message gets a specific NAK and
// nothing is stored.
func TestInboundBadInput(t *testing.T) {
	t.Parallel()
	sink := &fakeSink{}
	addr, health := startInbound(t, MLLPInboundOptions{}, sink, nil)
	const msh = "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120000||ORM^O01|C1|P|2.5\r"
	tests := []struct {
		name, msg string
		code      string
		ctrl      string
		errLoc    string // ERR-2 (2.5)
		errCode   string // ERR-3.1
		text      string
	}{
		{"garbage", "\x00\x01garbage\xff", "AR", "", "", "100", "does not start with MSH"},
		{"missing MSH", "PID|1||123\rORC|NW|1\r", "AR", "", "", "100", "does not start with MSH"},
		{"wrong message type", "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101||ADT^A08|C2|P|2.5\rPID|1||1\r", "AR", "C2", "MSH^1^9^1^1", "200", `unsupported message type "ADT"`},
		{"bad delimiters", "MSH|^^\\&|EHR|FAC\r", "AR", "", "MSH^1^2", "100", "declared twice"},
		{"unknown charset", "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101||ORM^O01|C3|P|2.5|||||SI|EBCDIC\r", "AR", "C3", "MSH^1^18", "103", "unsupported character set"},
		{"missing patient ID", msh + "PID|1||||Doe\rORC|NW|O1\rOBR|1|O1||ECG\r", "AE", "C1", "PID^1^3^1^1", "101", "patient ID"},
		{"bad order control", msh + "PID|1||P1\rORC|ZZ|O1\rOBR|1|O1||ECG\r", "AE", "C1", "ORC^1^1", "103", "order control"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ack, m := exchange(t, addr, []byte(tt.msg))
			if string(ack.Code) != tt.code || ack.ControlID != tt.ctrl || !strings.Contains(ack.Text, tt.text) {
				t.Errorf("ACK %+v; want %s %q containing %q", ack, tt.code, tt.ctrl, tt.text)
			}
			if got := m.Get("ERR-2"); tt.errLoc != "" && m.Segment("ERR").Text(2) != tt.errLoc {
				t.Errorf("ERR-2 = %q (%s), want %q", m.Segment("ERR").Text(2), got, tt.errLoc)
			}
			if got := m.Get("ERR-3.1"); got != tt.errCode {
				t.Errorf("ERR-3.1 = %q, want %q", got, tt.errCode)
			}
		})
	}
	if orders, _ := sink.snapshot(); len(orders) != 0 {
		t.Errorf("%d orders stored from bad input", len(orders))
	}
	if !health.has("message-refused") {
		t.Error("refusals not reported to health")
	}
}

// TestInboundSinkErrors: unknown/invalid orders get AR; a store that is
// down gets AE, never AA.
func TestInboundSinkErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		code string
		text string
	}{
		{fmt.Errorf("cancel: %w", domain.ErrUnknownOrder), "AR", "(ORC-2) \"H-5001\" is not an open order"},
		{fmt.Errorf("%w: no patient", domain.ErrInvalidOrder), "AR", "cannot be taken as sent"},
		{errors.New("database is locked"), "AE", "could not be stored now"},
		{context.DeadlineExceeded, "AE", "could not be stored now"},
	}
	for _, tt := range tests {
		sink := &fakeSink{err: tt.err}
		addr, health := startInbound(t, MLLPInboundOptions{}, sink, nil)
		ack, _ := exchange(t, addr, readFile(t, "hipokrat_orm.hl7"))
		if string(ack.Code) != tt.code || ack.ControlID != "HIP-77" || !strings.Contains(ack.Text, tt.text) {
			t.Errorf("%v: ACK %+v", tt.err, ack)
		}
		if tt.code == "AE" && !health.has("store-failed") {
			t.Errorf("%v: store failure not reported", tt.err)
		}
	}
}

// TestInboundSlowStore: a sink that does not answer within StoreTimeout
// gets the sender an AE.
func TestInboundSlowStore(t *testing.T) {
	t.Parallel()
	addr, _ := startInbound(t, MLLPInboundOptions{StoreTimeout: 100 * time.Millisecond}, blockingSink{}, nil)
	ack, _ := exchange(t, addr, readFile(t, "iris_orm.hl7"))
	if ack.Code != "AE" {
		t.Errorf("ACK %+v", ack)
	}
}

type blockingSink struct{}

func (blockingSink) AcceptOrder(ctx context.Context, _ domain.Order) (domain.Accepted, error) {
	<-ctx.Done()
	return domain.Accepted{}, ctx.Err()
}

// TestInboundConnectionProblems covers the transport's bad cases end to end.
func TestInboundConnectionProblems(t *testing.T) {
	t.Parallel()
	sink := &fakeSink{}
	addr, _ := startInbound(t, MLLPInboundOptions{MaxMessageSize: 4096, IdleTimeout: 300 * time.Millisecond,
		WriteTimeout: 300 * time.Millisecond}, sink, nil)

	t.Run("unterminated frame", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write(append([]byte{mllp.StartBlock}, readFile(t, "weda_orm.hl7")...))
		_ = c.(*net.TCPConn).CloseWrite()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		if n != 0 {
			t.Errorf("got %d bytes of answer to an unterminated frame", n)
		}
	})
	t.Run("frame over the size limit", func(t *testing.T) {
		msg := "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101||ORM^O01|BIG1|P|2.5\rNTE|1||" + strings.Repeat("x", 10000) + "\r"
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ack, m := sendOn(t, c, []byte(msg))
		if ack.Code != "AR" || ack.ControlID != "BIG1" || !strings.Contains(ack.Text, "limit of 4 KB (4096 bytes)") || m.Get("ERR-3.1") != "207" {
			t.Errorf("ACK %+v", ack)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Error("connection left open after an oversize frame")
		}
	})
	t.Run("half a frame then silence", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = c.Write([]byte("\x0bMSH|^~\\&|EHR"))
		start := time.Now()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || time.Since(start) > 3*time.Second {
			t.Errorf("idle peer not cut: %v after %v", err, time.Since(start))
		}
	})
	t.Run("peer never reads its ACKs", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.(*net.TCPConn).SetReadBuffer(4096)
		msg := readFile(t, "nextgen_orm.hl7")
		// Keep sending without reading until the hub stops taking messages.
		var frames bytes.Buffer
		for range 200 {
			_ = mllp.WriteFrame(&frames, msg)
		}
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := c.Write(frames.Bytes()); err != nil {
				break
			}
		}
		// Whatever happened, the hub still serves a well-behaved peer.
		ack, _ := exchange(t, addr, readFile(t, "iris_orm.hl7"))
		if ack.Code != "AA" {
			t.Errorf("ACK %+v", ack)
		}
	})
	// Only the iris and nextgen orders were ever complete.
	orders, _ := sink.snapshot()
	for _, o := range orders {
		if o.SourceControlID != "IRIS-2024-0001" && o.SourceControlID != "NG20240704093015001" {
			t.Errorf("unexpected order stored: %s", o.SourceControlID)
		}
	}
}

// TestInboundRefusesPeer: only 127.0.0.2 may connect; 127.0.0.1 is closed
// at once, unanswered, and reported.
func TestInboundRefusesPeer(t *testing.T) {
	t.Parallel()
	sink := &fakeSink{}
	addr, health := startInbound(t, MLLPInboundOptions{Allow: []string{"127.0.0.2/32"}}, sink, nil)
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		_ = mllp.WriteFrame(c, readFile(t, "birpis_orm.hl7"))
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		if n != 0 {
			t.Errorf("refused peer got %d bytes", n)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for !health.has("peer-refused") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !health.has("peer-refused") {
		t.Error("refusal not reported")
	}
	if orders, calls := sink.snapshot(); len(orders) != 0 || calls != 0 {
		t.Error("refused peer's order reached the sink")
	}
	if _, err := NewMLLPInbound(MLLPInboundOptions{ListenAddr: ":0", Allow: []string{"300.1.1.1"}}, sink, nil, nil); err == nil {
		t.Error("bad allow-list accepted")
	}
}

// TestInboundRun: Run binds the address, serves, and returns nil on cancel.
func TestInboundRun(t *testing.T) {
	t.Parallel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	in, err := NewMLLPInbound(MLLPInboundOptions{Name: "run", ListenAddr: addr}, &fakeSink{}, quietLog(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	var ack string
	for i := 0; i < 50; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			a, _ := sendOn(t, c, readFile(t, "isoz_orm.hl7"))
			c.Close()
			ack = string(a.Code)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ack != "CA" {
		t.Errorf("ACK %q", ack)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	// A port in use is a clear error.
	busy, _ := net.Listen("tcp", "127.0.0.1:0")
	defer busy.Close()
	in2, _ := NewMLLPInbound(MLLPInboundOptions{Name: "busy", ListenAddr: busy.Addr().String()}, &fakeSink{}, quietLog(), nil)
	if err := in2.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Errorf("Run on a busy port: %v", err)
	}
}

// TestInboundConcurrentConnections: several EHR connections at once.
func TestInboundConcurrentConnections(t *testing.T) {
	t.Parallel()
	sink := &fakeSink{}
	addr, _ := startInbound(t, MLLPInboundOptions{MaxConnections: 4}, sink, nil)
	base := string(readFile(t, "nextgen_orm.hl7"))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			for j := range 10 {
				id := fmt.Sprintf("C%d-%d", i, j)
				ack, _ := sendOn(t, c, []byte(strings.Replace(base, "NG20240704093015001", id, 1)))
				if ack.Code != "CA" || ack.ControlID != id {
					t.Errorf("ACK %+v for %s", ack, id)
				}
			}
		}()
	}
	wg.Wait()
	if orders, _ := sink.snapshot(); len(orders) != 80 {
		t.Errorf("%d orders", len(orders))
	}
}

// TestOrderSizeDefault: without a configured limit an order over 2 MB
// gets an AR naming the limit and is not stored; one under it is.
func TestOrderSizeDefault(t *testing.T) {
	t.Parallel()
	sink := &fakeSink{}
	addr, _ := startInbound(t, MLLPInboundOptions{}, sink, nil)
	head := "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101||ORM^O01|%s|P|2.5\rPID|1||P1||Novak^Ana\rORC|NW|%s\rOBR|1|%s||ECG\rNTE|1||"
	for _, tc := range []struct {
		id   string
		note int
		code string
	}{{"SMALL1", 1 << 20, "AA"}, {"BIG2", 3 << 20, "AR"}} {
		msg := fmt.Sprintf(head, tc.id, tc.id, tc.id) + strings.Repeat("x", tc.note) + "\r"
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		ack, _ := sendOn(t, c, []byte(msg))
		c.Close()
		if string(ack.Code) != tc.code || ack.ControlID != tc.id {
			t.Errorf("%s: ACK %+v, want %s", tc.id, ack, tc.code)
		}
		if tc.code == "AR" && !strings.Contains(ack.Text, "limit of 2 MB") {
			t.Errorf("%s: AR text %q does not name the limit", tc.id, ack.Text)
		}
	}
	if orders, _ := sink.snapshot(); len(orders) != 1 {
		n := len(orders)
		t.Errorf("%d orders stored, want the small one only", n)
	}
}

// TestOrderTextCut: a note longer than the limit is stored cut (marked
// with …), the order is acknowledged, and the cut is a health warning
// naming the field.
func TestOrderTextCut(t *testing.T) {
	t.Parallel()
	sink := &fakeSink{}
	addr, health := startInbound(t, MLLPInboundOptions{MaxFieldText: 500}, sink, nil)
	msg := "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101||ORM^O01|CUT1|P|2.5\rPID|1||P1||Novak^Ana\rORC|NW|CUT1\rOBR|1|CUT1||ECG^" +
		strings.Repeat("s", 900) + "\rNTE|1||" + strings.Repeat("ž", 5000) + "\r"
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ack, _ := sendOn(t, c, []byte(msg))
	c.Close()
	if ack.Code != "AA" {
		t.Fatalf("ACK %+v, want AA", ack)
	}
	orders, _ := sink.snapshot()
	if len(orders) != 1 {
		t.Fatalf("%d orders stored", len(orders))
	}
	o := orders[0]
	var nte domain.Field
	for _, f := range o.Fields {
		if f.Key == "NTE-3" {
			nte = f
		}
	}
	for what, s := range map[string]string{"NTE-3 value": nte.Value, "NTE-3 text": nte.Text, "service text": o.ServiceText} {
		if n := utf8.RuneCountInString(s); n != 500 || !strings.HasSuffix(s, "…") {
			t.Errorf("%s: %d characters, want cut to 500 with …", what, n)
		}
	}
	if got := o.Meta[hl7.MetaTextCut]; got != "OBR-4,NTE-3" {
		t.Errorf("Meta[%s] = %q", hl7.MetaTextCut, got)
	}
	if !health.has("order-text-cut") {
		t.Error("no order-text-cut health report")
	}
}
