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
		ack, err := hl7.ReadAck(out.ACK)
		if err != nil {
			t.Fatalf("ACK unreadable: %v\n%q", err, out.ACK)
		}
		after, _ := sink.snapshot()
		if ack.Code == hl7.AA || ack.Code == hl7.CA {
			if out.Err != nil || (len(after) == len(before) && !out.Duplicate) {
				t.Fatalf("positive ACK without a stored order")
			}
		} else if out.Err == nil {
			t.Fatalf("negative ACK %s without an error", ack.Code)
		}
	})
}
