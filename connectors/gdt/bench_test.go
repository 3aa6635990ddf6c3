package gdt

import (
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

func BenchmarkParseOrder(b *testing.B) {
	for _, file := range []string{"doctolib_6302_cp437.gdt", "tomedo_6302_utf8.gdt"} {
		b.Run(file, func(b *testing.B) {
			raw := readTestdata(b, file)
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				rec, err := Parse(raw, ParseOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := MapOrder(rec, raw, MapOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBuildResult(b *testing.B) {
	o := orderFrom(b, "doctolib_6302_cp437.gdt")
	res := sampleResult()
	out := domain.Outgoing{Order: o, Result: res}
	opts := ResultOptions{PDFReference: `C:\GDT\res-1.pdf`, Location: time.UTC}
	rec, cs, _ := BuildResult(out, opts)
	raw, _ := Encode(rec, EncodeOptions{Charset: cs})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		rec, cs, err := BuildResult(out, opts)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Encode(rec, EncodeOptions{Charset: cs}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseLarge parses a 3.0 result with a 1 MB embedded PDF (6329 lines).
func BenchmarkParseLarge(b *testing.B) {
	o := orderFrom(b, "tomedo_6302_utf8.gdt")
	pdf := make([]byte, 1<<20)
	for i := range pdf {
		pdf[i] = byte(i * 7)
	}
	rec, cs, err := BuildResult(domain.Outgoing{Order: o, Result: sampleResult()}, ResultOptions{PDFContent: pdf, PDFReference: "r.pdf"})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := Encode(rec, EncodeOptions{Charset: cs})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(raw, ParseOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
