package hl7net

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mesi/mconnect/connectors/hl7"
)

// FuzzHandle: any bytes arriving on the listener get a readable ACK whose
// MSA-2 echoes what MSH-10 could be read, and never AA unless stored.
func FuzzHandle(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.hl7"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("\x00garbage"))
	sink := &fakeSink{}
	h := NewOrderHandler(OrderHandlerOptions{Connection: "fuzz", Map: hl7.MapOptions{Parse: hl7.ParseOptions{DefaultCharset: "8859/2"}}}, sink, quietLog(), nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		before, _ := sink.snapshot()
		out := h.Handle(context.Background(), "fuzz", data)
		if out.ACK != nil {
			if _, err := hl7.ReadAck(out.ACK); err != nil {
				t.Fatalf("ACK unreadable: %v\n%q", err, out.ACK)
			}
		}
		after, _ := sink.snapshot()
		switch out.Code {
		case hl7.AA:
			if out.silent {
				return
			}
			if len(out.Orders) == 0 || (len(after) == len(before) && !out.Duplicate) {
				t.Fatalf("positive answer without a stored order")
			}
		case hl7.AR:
			if len(after) != len(before) {
				t.Fatalf("AR after storing an order")
			}
			fallthrough
		default:
			if out.Err == nil {
				t.Fatalf("negative answer %s without an error", out.Code)
			}
		}
	})
}
