package gdtfile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/gdt"
	"github.com/mesi/mconnect/internal/testfs"
)

// orderFile builds a distinct Doctolib-style 6302 file for patient id.
func orderFile(tb testing.TB, id int, with8100 bool) []byte {
	tb.Helper()
	rec := &gdt.Record{}
	for _, kv := range [][2]string{
		{"8000", "6302"}, {"8315", "MESI"}, {"8316", "DOCTOLIB"}, {"9206", "2"}, {"9218", "02.10"},
		{"8402", "EKG01"}, {"2999", "DL-" + strconv.Itoa(id)}, {"3000", strconv.Itoa(id)},
		{"3101", "Müller"}, {"3102", "Jürgen"}, {"3103", "07031961"}, {"3110", "1"},
		{"3112", "80331"}, {"3113", "München"}, {"3107", "Schößlstraße 12"},
	} {
		rec.Add(kv[0], kv[1])
	}
	b, err := gdt.Encode(rec, gdt.EncodeOptions{Charset: gdt.CharsetCP437, Without8100: !with8100})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkThousandFiles drops 1,000 GDT files at once into a running
// inbound folder and measures until the last one reached the sink, which
// writes and fsyncs a file per order (standing in for the store).
func BenchmarkThousandFiles(b *testing.B) {
	files := make([][]byte, 1000)
	for i := range files {
		files[i] = orderFile(b, 100000+i, true)
	}
	for b.Loop() {
		b.StopTimer()
		sink := newSink()
		sink.fsync = testfs.TempDir(b)
		sink.notify = make(chan string, len(files))
		opts := DoctolibDefaults()
		ctx, cancel := context.WithCancel(context.Background())
		opts.InboundDir = filepath.Join(testfs.TempDir(b), "in")
		in, err := NewInbound(opts, sink, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- in.Run(ctx) }()
		time.Sleep(100 * time.Millisecond) // watcher up
		b.StartTimer()
		start := time.Now()
		for i, data := range files {
			if err := os.WriteFile(filepath.Join(opts.InboundDir, fmt.Sprintf("O%04d.GDT", i)), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		for range files {
			select {
			case <-sink.notify:
			case <-time.After(2 * time.Minute):
				b.Fatal("files did not all arrive")
			}
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/1000files")
		b.StopTimer()
		cancel()
		<-done
		b.StartTimer()
	}
}

// BenchmarkFileLatency measures one file from close to the sink. GDT 2.1
// files carry 8100 and go through as soon as the length matches; a file
// without 8100 waits out the quiet period (500 ms here).
func BenchmarkFileLatency(b *testing.B) {
	for _, with8100 := range []bool{true, false} {
		b.Run(map[bool]string{true: "with8100", false: "quiet500ms"}[with8100], func(b *testing.B) {
			sink := newSink()
			sink.fsync = testfs.TempDir(b)
			sink.notify = make(chan string, 1)
			opts := DoctolibDefaults()
			opts.QuietPeriod = 500 * time.Millisecond
			opts.InboundDir = filepath.Join(testfs.TempDir(b), "in")
			in, err := NewInbound(opts, sink, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- in.Run(ctx) }()
			defer func() { cancel(); <-done }()
			time.Sleep(100 * time.Millisecond)
			var lat []time.Duration
			i := 0
			for b.Loop() {
				i++
				data := orderFile(b, 200000+i, with8100)
				f, err := os.Create(filepath.Join(opts.InboundDir, fmt.Sprintf("L%05d.GDT", i)))
				if err != nil {
					b.Fatal(err)
				}
				f.Write(data)
				f.Close()
				start := time.Now()
				select {
				case <-sink.notify:
				case <-time.After(time.Minute):
					b.Fatal("file did not arrive")
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[(len(lat)*95)/100].Microseconds())/1000, "p95-ms")
		})
	}
}

// BenchmarkResultWith10MBPDF writes a 6310 result and a 10 MB PDF.
func BenchmarkResultWith10MBPDF(b *testing.B) {
	dir := testfs.TempDir(b)
	pdf := make([]byte, 10<<20)
	for i := range pdf {
		pdf[i] = byte(i)
	}
	src := filepath.Join(dir, "stored.pdf")
	os.WriteFile(src, pdf, 0o644)
	opts := DoctolibDefaults()
	opts.ResultDir = filepath.Join(dir, "out")
	opts.PDFDir = filepath.Join(dir, "pdf")
	ob, err := NewOutbound(opts, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	raw := orderFile(b, 1, true)
	rec, _ := gdt.Parse(raw, gdt.ParseOptions{})
	msg, _ := gdt.MapOrder(rec, raw, gdt.MapOptions{})
	o := msg.Order
	b.SetBytes(int64(len(pdf)))
	i := 0
	for b.Loop() {
		i++
		res := domain.Result{ID: fmt.Sprintf("r%d", i), Measurement: "ECG", PerformedAt: time.Now(),
			Observations: []domain.Observation{{Code: "HR", Value: "70", Unit: "/min"}},
			Report:       &domain.Attachment{Path: src}}
		if _, err := ob.Deliver(context.Background(), domain.Outgoing{Order: &o, Result: res}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(opts.ResultDir)
		os.RemoveAll(opts.PDFDir)
		b.StartTimer()
	}
}
