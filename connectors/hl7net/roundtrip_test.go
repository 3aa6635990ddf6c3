package hl7net

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/hl7"
)

// TestOrderInResultOut: an order arrives through the listener, is stored
// by the sink, and its result goes back over MLLP addressed and numbered as
// the EHR sent the order.
func TestOrderInResultOut(t *testing.T) {
	t.Parallel()
	sink := &fakeSink{}
	addr, _ := startInbound(t, MLLPInboundOptions{Name: "hipokrat"}, sink, nil)
	if ack, _ := exchange(t, addr, readFile(t, "hipokrat_orm.hl7")); ack.Code != hl7.AA {
		t.Fatalf("ACK %+v", ack)
	}
	orders, _ := sink.snapshot()
	order := orders[0]

	e := &ehr{answer: echoAck("AA")}
	ob, _ := NewMLLPOutbound(MLLPOutboundOptions{Name: "hipokrat", Addr: e.start(t)}, quietLog())
	res := domain.Result{ID: "r1", OrderID: "o1", Measurement: "ABI", PerformedAt: time.Now(),
		Observations: []domain.Observation{{Code: "ABI-L", Name: "ABI left", Value: "0.92", Low: "0.9", High: "1.3"}}}
	if _, err := ob.Deliver(context.Background(), domain.Outgoing{Result: res, Order: &order}); err != nil {
		t.Fatal(err)
	}
	m := e.first()
	for p, want := range map[string]string{
		"MSH-3": "MESI", "MSH-4": "HUB", "MSH-5": "HIPOKRAT", "MSH-6": "AMB MARIBOR", "MSH-12": "2.5", "MSH-18": "UNICODE UTF-8",
		"PID-3": "998877", "PID-5.1": "Žužek", "ORC-2.1": "H-5001", "ORC-2.2": "HIPOKRAT", "OBR-4.2": "Gleženjsko-brahialni indeks",
		"OBR-24": "VAS", "OBX-5": "0.92", "OBX-7": "0.9-1.3", "PV1-19.4": "HIP",
	} {
		if got := m.Get(p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
}

// TestInboundDefaultCharset: a site that sends Windows-1250 without MSH-18
// is read with the connection's default and answered in the same set,
// labelled in MSH-18.
func TestInboundDefaultCharset(t *testing.T) {
	t.Parallel()
	sink := &fakeSink{}
	addr, _ := startInbound(t, MLLPInboundOptions{DefaultCharset: "CP1250"}, sink, nil)
	text := "MSH|^~\\&|IRIS|SB|MESI|HUB|20240510140000||ORM^O01|CP1|P|2.4\r" +
		"PID|1||55||Kočevar^Ivan||1960070\r" // bad birth date: the AE text quotes it
	msg, err := hl7.EncodeString(text, "CP1250")
	if err != nil {
		t.Fatal(err)
	}
	ack, m := exchange(t, addr, msg)
	if ack.Code != hl7.AE || m.Get("MSH-18") != "CP1250" || m.Charset != "CP1250" {
		t.Errorf("ACK %+v, MSH-18 %q, read as %s", ack, m.Get("MSH-18"), m.Charset)
	}
	good := strings.Replace(text, "1960070", "19600704", 1) + "ORC|NW|IR-1\rOBR|1|IR-1||ECG\r"
	msg, _ = hl7.EncodeString(good, "CP1250")
	if ack, _ := exchange(t, addr, msg); ack.Code != hl7.AA {
		t.Fatalf("ACK %+v", ack)
	}
	orders, _ := sink.snapshot()
	if len(orders) != 1 || orders[0].Patient.Name.Family != "Kočevar" {
		t.Errorf("orders %+v", orders)
	}
	if _, err := NewMLLPInbound(MLLPInboundOptions{ListenAddr: ":0", DefaultCharset: "klingon"}, sink, nil, nil); err == nil {
		t.Error("unknown default charset accepted")
	}
}
