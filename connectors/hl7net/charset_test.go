package hl7net

import (
	"context"
	"strings"
	"testing"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/hl7"
)

// A message that declares UTF-8 in MSH-18 but is written in Windows-1250:
// without a default charset it is answered AE naming MSH-18; with one it is
// read in that set, the disagreement recorded on the order and in health —
// never stored with U+FFFD.
func TestDeclaredUTF8ButCP1250(t *testing.T) {
	t.Parallel()
	text := "MSH|^~\\&|IRIS|SB|MESI|HUB|20240510140000||ORM^O01|CP2|P|2.5|||||SI|UNICODE UTF-8\r" +
		"PID|1||55||Kočevar^Ivan||19600704\rORC|NW|IR-2\rOBR|1|IR-2||ECG\r"
	msg, err := hl7.EncodeString(text, "CP1250")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, def string
		code      hl7.AckCode
	}{
		{"no default charset", "", hl7.AE},
		{"default CP1250", "CP1250", hl7.AA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &fakeSink{}
			health := &healthLog{}
			h := NewOrderHandler(OrderHandlerOptions{Connection: "iris",
				Map: hl7.MapOptions{Parse: hl7.ParseOptions{DefaultCharset: tt.def}}}, sink, quietLog(), health)
			out := h.Handle(context.Background(), "test", msg)
			orders, _ := sink.snapshot()
			if out.Code != tt.code {
				t.Fatalf("answer %s, want %s: %q", out.Code, tt.code, out.ACK)
			}
			ack, err := hl7.ParseWith(out.ACK, hl7.ParseOptions{DefaultCharset: tt.def})
			if err != nil {
				t.Fatalf("ACK unreadable: %v (%q)", err, out.ACK)
			}
			if tt.code == hl7.AE {
				e := ack.Segment("ERR")
				if len(orders) != 0 || e == nil || e.Text(2) != "MSH^1^18" || !strings.Contains(e.Text(8), "MSH-18") {
					t.Fatalf("ERR %v, %d orders stored", e, len(orders))
				}
				return
			}
			if len(orders) != 1 || orders[0].Patient.Name.Family != "Kočevar" || strings.ContainsRune(orders[0].Patient.Name.Family, '\uFFFD') {
				t.Fatalf("orders %+v", orders)
			}
			if orders[0].Meta[hl7.MetaDeclaredCharset] != hl7.CharsetUTF8 || orders[0].Meta[hl7.MetaCharset] != "CP1250" {
				t.Errorf("meta %v", orders[0].Meta)
			}
			if ack.Get("MSH-18") != "CP1250" || ack.Charset != "CP1250" {
				t.Errorf("ACK declares %q, written in %s", ack.Get("MSH-18"), ack.Charset)
			}
			rep, ok := health.find("charset-mismatch")
			if !ok || rep.Severity != domain.SeverityWarning || rep.Arg("declared") != hl7.CharsetUTF8 || rep.Arg("used") != "CP1250" || rep.Arg("control_id") != "CP2" {
				t.Errorf("health %+v (%v)", rep, ok)
			}
		})
	}
}
