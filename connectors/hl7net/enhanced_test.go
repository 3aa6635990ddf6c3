package hl7net

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/mesi/mconnect/connectors/hl7"
	"github.com/mesi/mconnect/connectors/mllp"
)

func enhancedORM(id, accept, app string, ok bool) []byte {
	orc := "ORC|NW|E-1\rOBR|1|E-1||ECG\r"
	if !ok {
		orc = "ORC|NW|E-1\r" // no OBR-4: AE
	}
	return []byte(fmt.Sprintf("MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120000||ORM^O01|%s|P|2.5|||%s|%s\r"+
		"PID|1||P1||Doe^Jane||19700101|F\r%s", id, accept, app, orc))
}

// MSH-15 and MSH-16 choose the acknowledgment (HL7 v2.5 section 2.9):
// original mode when both are empty; otherwise the accept acknowledgment
// when MSH-15 asks for it, else the application acknowledgment when
// MSH-16 asks for it, else none — at most one per message.
func TestEnhancedAcknowledgment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		accept, app string
		ok          bool
		want        string // MSA-1 of the reply ("": none)
	}{
		{"", "", true, "AA"},
		{"", "", false, "AE"},
		{"AL", "NE", true, "CA"},
		{"AL", "", true, "CA"},
		{"", "AL", true, "CA"},
		{"AL", "AL", true, "CA"},
		{"AL", "AL", false, "CE"},
		{"NE", "AL", true, "AA"},
		{"NE", "NE", true, ""},
		{"ER", "AL", true, "AA"},
		{"ER", "ER", true, ""},
		{"ER", "ER", false, "CE"},
		{"SU", "ER", false, "AE"},
		{"SU", "SU", true, "CA"},
		{"AL", "SU", false, "CE"},
	}
	for i, tt := range tests {
		h := NewOrderHandler(OrderHandlerOptions{Connection: "ehr"}, &fakeSink{}, quietLog(), nil)
		id := fmt.Sprintf("E%d", i)
		out := h.Handle(context.Background(), "test", enhancedORM(id, tt.accept, tt.app, tt.ok))
		got := ""
		if out.ACK != nil {
			m, err := hl7.Parse(out.ACK)
			if err != nil {
				t.Fatal(err)
			}
			got = m.Segment("MSA").C(1, 1)
			if m.Segment("MSA").C(2, 1) != id {
				t.Errorf("%s/%s: reply acknowledges %q", tt.accept, tt.app, m.Segment("MSA").C(2, 1))
			}
			if code := m.Segment("MSA").C(1, 1); code[0] == 'A' && tt.accept+tt.app != "" {
				// An application acknowledgment asks for no answer itself.
				if m.Get("MSH-15") != "NE" || m.Get("MSH-16") != "NE" || m.Get("MSH-10") != "B"+id {
					t.Errorf("%s/%s: application ACK MSH-10 %q, MSH-15/16 %q/%q", tt.accept, tt.app, m.Get("MSH-10"), m.Get("MSH-15"), m.Get("MSH-16"))
				}
			}
		}
		if got != tt.want {
			t.Errorf("MSH-15 %q MSH-16 %q ok=%v: reply %q, want %q", tt.accept, tt.app, tt.ok, got, tt.want)
		}
	}
	// The sender's answer to an application acknowledgment is not answered.
	h := NewOrderHandler(OrderHandlerOptions{Connection: "ehr"}, &fakeSink{}, quietLog(), nil)
	ack := "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120001||ACK^O01^ACK|X9|P|2.5\rMSA|CA|BE1\r"
	if out := h.Handle(context.Background(), "test", []byte(ack)); out.ACK != nil {
		t.Errorf("an ACK was answered: %q", out.ACK)
	}
}

// Over MLLP: one reply per message; MSH-15 NE with MSH-16 AL gets the
// application acknowledgment, and an ACK the EHR sends gets none.
func TestEnhancedAcknowledgmentOverMLLP(t *testing.T) {
	t.Parallel()
	addr, _ := startInbound(t, MLLPInboundOptions{}, &fakeSink{}, nil)
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if a, _ := sendOn(t, c, enhancedORM("M1", "AL", "AL", true)); a.Code != hl7.CA || a.ControlID != "M1" {
		t.Fatalf("AL/AL: %+v", a)
	}
	if a, m := sendOn(t, c, enhancedORM("M3", "NE", "AL", true)); a.Code != hl7.AA || m.Get("MSH-10") != "BM3" {
		t.Fatalf("NE/AL: %+v", a)
	}
	// The EHR's commit ACK of our application ACK gets no answer; the next
	// order on the connection is answered as usual.
	if err := mllp.WriteFrame(c, []byte("MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120001||ACK^O01^ACK|X9|P|2.5\rMSA|CA|BM1\r")); err != nil {
		t.Fatal(err)
	}
	if a, _ := sendOn(t, c, enhancedORM("M2", "", "", true)); a.Code != hl7.AA || a.ControlID != "M2" {
		t.Fatalf("next order: %+v", a)
	}
}
