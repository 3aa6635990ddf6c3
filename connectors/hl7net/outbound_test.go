package hl7net

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/hl7"
	"github.com/mesi/mconnect/connectors/mllp"
)

// outgoing maps a sample order and attaches a result with a PDF.
func outgoing(t testing.TB, file string, pdfSize int) (domain.Outgoing, []byte) {
	t.Helper()
	codec := hl7.NewMapper(hl7.MapOptions{Connection: "c", Location: time.UTC})
	_, orders, err := codec.Decode(readFile(t, file))
	if err != nil {
		t.Fatal(err)
	}
	pdf := make([]byte, pdfSize)
	_, _ = rand.Read(pdf)
	copy(pdf, "%PDF-1.7")
	path := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	o := orders[0]
	return domain.Outgoing{
		Delivery: domain.Delivery{ID: 42, Attempts: 1},
		Order:    &o,
		Result: domain.Result{ID: "res-1", OrderID: "ord-1", Measurement: "ECG", PerformedAt: time.Date(2024, 3, 15, 9, 0, 0, 0, time.UTC),
			Observations: []domain.Observation{
				{Code: "HR", Name: "Heart rate", Value: "61", Unit: "/min", Low: "50", High: "100", Flag: "N"},
				{Code: "QTc", Name: "QTc", Value: "480", Unit: "ms", High: "450", Flag: "H"},
				{Code: "RHY", Name: "Rhythm", Value: "sinus"},
			},
			Interpretation: "Sinusni ritem; podaljšan QTc.",
			Device:         domain.DeviceInfo{Serial: "MT1", Model: "mTABLET"},
			Report:         &domain.Attachment{Path: path, ContentType: "application/pdf", Size: int64(pdfSize)}},
	}, pdf
}

// ehr is a test MLLP receiver: it parses each ORU and answers with answer(msg).
type ehr struct {
	mu       sync.Mutex
	received []*hl7.Message
	answer   func(m *hl7.Message) string // returns MSA-1|MSA-2|text; "" = no answer
	delay    time.Duration
}

func (e *ehr) start(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go e.serve(c)
		}
	}()
	return ln.Addr().String()
}

func (e *ehr) serve(c net.Conn) {
	defer c.Close()
	r := mllp.NewReader(c, 0)
	for {
		f, err := r.ReadFrame()
		if err != nil {
			return
		}
		m, err := hl7.Parse(f)
		if err != nil {
			_ = mllp.WriteFrame(c, []byte("MSH|^~\\&|EHR||||20240101||ACK|1|P|2.5\rMSA|AR||unparseable\r"))
			continue
		}
		e.mu.Lock()
		e.received = append(e.received, m)
		answer, delay := e.answer, e.delay
		e.mu.Unlock()
		time.Sleep(delay)
		a := answer(m)
		if a == "" {
			continue
		}
		parts := strings.SplitN(a, "|", 3)
		ack := "MSH|^~\\&|EHR|F|MESI|HUB|20240101||ACK^R01|X" + m.Get("MSH-10") + "|P|2.5\rMSA|" + parts[0] + "|" + parts[1] + "|" + parts[2] + "\r"
		if err := mllp.WriteFrame(c, []byte(ack)); err != nil {
			return
		}
	}
}

// first returns the first message received.
func (e *ehr) first() *hl7.Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.received[0]
}

func echoAck(code string) func(*hl7.Message) string {
	return func(m *hl7.Message) string { return code + "|" + m.Get("MSH-10") + "|" }
}

// TestMLLPOutboundDelivers: the ORU arrives with every field and the PDF
// bytes intact; the answer is returned.
func TestMLLPOutboundDelivers(t *testing.T) {
	t.Parallel()
	e := &ehr{answer: echoAck("AA")}
	addr := e.start(t)
	ob, err := NewMLLPOutbound(MLLPOutboundOptions{Name: "birpis", Addr: addr, ORU: ORUSettings{SendingFacility: "MESI HUB"}}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	out, pdf := outgoing(t, "birpis_orm.hl7", 3<<20)
	answer, err := ob.Deliver(context.Background(), out)
	if err != nil || answer != "AA" {
		t.Fatalf("Deliver = %q, %v", answer, err)
	}
	m := e.first()
	want := map[string]string{
		"MSH-3": "MCONNECT", "MSH-4": "MESI HUB", "MSH-5": "BIRPIS", "MSH-6": "ZD LJUBLJANA", "MSH-9": "ORU", "MSH-9.2": "R01",
		"MSH-12": "2.3", "MSH-18": "8859/2",
		"PID-3": "123456", "PID-5.1": "Čebašek", "PID-5.2": "Žiga", "PID-7": "19800101", "PID-8": "M", "PID-11.1": "Šmartinska cesta 12",
		"PID-13.4": "ziga.cebasek@example.si", "PID-15": "sl", "PV1-19": "V2024-77", "PV1-7.2": "Novak",
		"ORC-1": "RE", "ORC-2": "ORD1001", "ORC-3": "FIL1001", "OBR-2": "ORD1001", "OBR-4": "ECG", "OBR-25": "F", "OBR-24": "CARD",
		"OBX(1)-2": "NM", "OBX(1)-3": "HR", "OBX(1)-5": "61", "OBX(1)-6": "/min", "OBX(1)-7": "50-100", "OBX(1)-8": "N",
		"OBX(2)-5": "480", "OBX(2)-7": "-450", "OBX(2)-8": "H", "OBX(3)-2": "ST", "OBX(3)-5": "sinus",
		"OBX(4)-2": "TX", "OBX(4)-5": "Sinusni ritem; podaljšan QTc.", "OBX(5)-2": "ED", "OBX(5)-5.2": "Application",
		"OBX(5)-5.3": "PDF", "OBX(5)-5.4": "Base64",
	}
	for p, w := range want {
		if got := m.Get(p); got != w {
			t.Errorf("%s = %q, want %q", p, got, w)
		}
	}
	got, err := base64.StdEncoding.DecodeString(m.Get("OBX(5)-5.5"))
	if err != nil || !bytes.Equal(got, pdf) {
		t.Errorf("PDF differs (%d vs %d bytes): %v", len(got), len(pdf), err)
	}
}

// TestMLLPOutboundAnswers classifies each kind of EHR answer.
func TestMLLPOutboundAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		answer    func(*hl7.Message) string
		permanent bool
		ok        bool
		text      string
	}{
		{"AA", echoAck("AA"), false, true, "AA"},
		{"CA", echoAck("CA"), false, true, "CA"},
		{"AE", func(m *hl7.Message) string { return "AE|" + m.Get("MSH-10") + "|database busy" }, false, false, "AE: database busy"},
		{"CE", echoAck("CE"), false, false, "CE"},
		{"AR", func(m *hl7.Message) string { return "AR|" + m.Get("MSH-10") + "|unknown patient" }, true, false, "AR: unknown patient"},
		{"CR", echoAck("CR"), true, false, "CR"},
		{"wrong MSA-2", func(*hl7.Message) string { return "AA|SOMEONE-ELSE|" }, false, false, "AA"},
		{"garbage answer", func(*hl7.Message) string { return "" }, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := &ehr{answer: tt.answer}
			addr := e.start(t)
			timeout := 5 * time.Second
			if tt.name == "garbage answer" {
				timeout = 200 * time.Millisecond
			}
			ob, _ := NewMLLPOutbound(MLLPOutboundOptions{Addr: addr, AckTimeout: timeout}, quietLog())
			out, _ := outgoing(t, "hipokrat_orm.hl7", 1000)
			answer, err := ob.Deliver(context.Background(), out)
			if tt.ok {
				if err != nil || answer != tt.text {
					t.Fatalf("Deliver = %q, %v", answer, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Deliver succeeded with %q", answer)
			}
			if domain.IsPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", domain.IsPermanent(err), tt.permanent, err)
			}
			if got := domain.AnswerOf(err); got != tt.text {
				t.Errorf("answer %q, want %q", got, tt.text)
			}
		})
	}
}

// TestMLLPOutboundLateAck: the EHR answers the first result after the
// timeout; the late ACK is not credited to the second result.
func TestMLLPOutboundLateAck(t *testing.T) {
	t.Parallel()
	for _, keep := range []bool{false, true} {
		e := &ehr{answer: echoAck("AA"), delay: 500 * time.Millisecond}
		addr := e.start(t)
		ob, _ := NewMLLPOutbound(MLLPOutboundOptions{Addr: addr, AckTimeout: 150 * time.Millisecond, KeepAlive: keep}, quietLog())
		out, _ := outgoing(t, "iris_orm.hl7", 100)
		_, err := ob.Deliver(context.Background(), out)
		if err == nil || domain.IsPermanent(err) || !strings.Contains(err.Error(), "no reply") {
			t.Fatalf("keepAlive=%v: first delivery: %v", keep, err)
		}
		e.mu.Lock()
		e.delay = 0
		e.mu.Unlock()
		time.Sleep(600 * time.Millisecond)
		answer, err := ob.Deliver(context.Background(), out)
		if err != nil || answer != "AA" {
			t.Fatalf("keepAlive=%v: second delivery %q, %v", keep, answer, err)
		}
		e.mu.Lock()
		first, second := e.received[0].Get("MSH-10"), e.received[1].Get("MSH-10")
		e.mu.Unlock()
		if first == second {
			t.Errorf("retry reused control ID %q", first)
		}
		_ = ob.Close()
	}
}

// TestMLLPOutboundFailures: unreachable EHR, an EHR closing mid-send and a
// result that cannot be built.
func TestMLLPOutboundFailures(t *testing.T) {
	t.Parallel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	midSend, _ := net.Listen("tcp", "127.0.0.1:0")
	defer midSend.Close()
	go func() {
		for {
			c, err := midSend.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 10000)
			_, _ = c.Read(buf)
			_ = c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
	out, _ := outgoing(t, "nextgen_orm.hl7", 8<<20)
	for name, addr := range map[string]string{"unreachable": closed, "closes mid-send": midSend.Addr().String()} {
		ob, _ := NewMLLPOutbound(MLLPOutboundOptions{Addr: addr, AckTimeout: time.Second}, quietLog())
		_, err := ob.Deliver(context.Background(), out)
		if err == nil || domain.IsPermanent(err) {
			t.Errorf("%s: %v, want a temporary error", name, err)
		}
	}
	ob, _ := NewMLLPOutbound(MLLPOutboundOptions{Addr: closed}, quietLog())
	broken := out
	broken.Result.Report = &domain.Attachment{Path: filepath.Join(t.TempDir(), "gone.pdf")}
	if _, err := ob.Deliver(context.Background(), broken); !domain.IsPermanent(err) {
		t.Errorf("missing PDF: %v, want permanent", err)
	}
	if _, err := ob.Deliver(context.Background(), domain.Outgoing{Result: domain.Result{ID: "x"}}); !domain.IsPermanent(err) {
		t.Errorf("no patient: %v, want permanent", err)
	}
	if _, err := NewMLLPOutbound(MLLPOutboundOptions{}, nil); err == nil {
		t.Error("no address accepted")
	}
}

// TestMLLPOutboundNAKTextDebugOnly: the text of an EHR's negative answer
// may name the patient; it is logged at debug level only, and kept as the
// delivery's answer.
func TestMLLPOutboundNAKTextDebugOnly(t *testing.T) {
	t.Parallel()
	const text = "unknown patient Čebašek Žiga 19800101"
	for _, code := range []string{"AR", "AE"} {
		t.Run(code, func(t *testing.T) {
			e := &ehr{answer: func(m *hl7.Message) string { return code + "|" + m.Get("MSH-10") + "|" + text }}
			addr := e.start(t)
			l, hook := logtest.NewNullLogger()
			l.SetLevel(logrus.DebugLevel)
			ob, err := NewMLLPOutbound(MLLPOutboundOptions{Addr: addr}, l)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := outgoing(t, "hipokrat_orm.hl7", 1000)
			_, err = ob.Deliver(context.Background(), out)
			if got := domain.AnswerOf(err); got != code+": "+text {
				t.Fatalf("answer %q (%v), want the EHR's text kept", got, err)
			}
			atDebug := false
			for _, en := range hook.AllEntries() {
				line, _ := en.String()
				if !strings.Contains(line, "Čebašek") {
					continue
				}
				if en.Level != logrus.DebugLevel {
					t.Errorf("the EHR's text logged at %s: %s", en.Level, line)
				}
				atDebug = true
			}
			if !atDebug {
				t.Error("the EHR's text is not logged at debug level")
			}
		})
	}
}
