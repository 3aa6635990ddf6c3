package hl7

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// BenchmarkParse measures codec throughput (MB/s) on a mix of the sample orders.
func BenchmarkParse(b *testing.B) {
	var all [][]byte
	size := 0
	for _, f := range []string{"birpis_orm.hl7", "hipokrat_orm.hl7", "iris_orm.hl7", "isoz_orm.hl7", "nextgen_orm.hl7", "weda_orm.hl7"} {
		d := readTestdata(b, f)
		all = append(all, d)
		size += len(d)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range all {
			if _, err := Parse(d); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkParseAndMap adds the ORM -> Order mapping to the parse.
func BenchmarkParseAndMap(b *testing.B) {
	d := readTestdata(b, "nextgen_orm.hl7")
	m := testMapper(false)
	b.SetBytes(int64(len(d)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := m.Decode(d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseLargeORU parses a 1 MB-PDF ORU (the big-message path).
func BenchmarkParseLargeORU(b *testing.B) {
	var buf bytes.Buffer
	if err := WriteORU(&buf, sampleOutgoing(b, "nextgen_orm.hl7", true), bytes.NewReader(makePDF(b, 1<<20)), ORUOptions{ControlID: "X"}); err != nil {
		b.Fatal(err)
	}
	d := buf.Bytes()
	b.SetBytes(int64(len(d)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteORU20MB builds an ORU with a 20 MB PDF and reports the peak
// heap growth relative to the PDF size (budget: under 3x).
func BenchmarkWriteORU20MB(b *testing.B) {
	const size = 20 << 20
	out := sampleOutgoing(b, "hipokrat_orm.hl7", true)
	b.SetBytes(size)
	var peak uint64
	for b.Loop() {
		if g := measureORU(b, out, streamedPDF(size)); g > peak {
			peak = g
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(peak)/size, "heap/pdf")
	if err := WriteORU(io.Discard, out, streamedPDF(size), ORUOptions{ControlID: "Y"}); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkBuildAck(b *testing.B) {
	req := Header{SendingApp: "BIRPIS", SendingFacility: "UKC", ReceivingApp: "MCONNECT", ControlID: "MSG00001",
		ProcessingID: "P", Version: "2.5", Event: "O01", Charset: "UNICODE UTF-8"}
	a := Ack{Request: req, Code: AA, ControlID: "AMSG00001", At: time.Date(2024, 3, 15, 8, 30, 0, 0, time.UTC)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildAck(a); err != nil {
			b.Fatal(err)
		}
	}
}
