package hub

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/gdt"
	"github.com/mesi/mconnect/connectors/gdtfile"
	"github.com/mesi/mconnect/connectors/registry"
	"github.com/mesi/mconnect/internal/testfs"
)

// gdtOrder builds a distinct Doctolib 6302 order (GDT 2.1, CP437, with 8100).
func gdtOrder(tb testing.TB, id int) []byte {
	tb.Helper()
	rec := &gdt.Record{}
	for _, kv := range [][2]string{
		{"8000", "6302"}, {"8315", "MESI"}, {"8316", "DOCTOLIB"}, {"9206", "2"}, {"9218", "02.10"},
		{"8402", "EKG01"}, {"2999", "DL-" + strconv.Itoa(id)}, {"3000", strconv.Itoa(id)},
		{"3101", "Müller"}, {"3102", "Jürgen"}, {"3103", "07031961"}, {"3110", "1"},
	} {
		rec.Add(kv[0], kv[1])
	}
	b, err := gdt.Encode(rec, gdt.EncodeOptions{Charset: gdt.CharsetCP437})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkGDTThousandFilesOnWorklist drops 1,000 GDT order files at once
// into a running Doctolib hub's inbound folder and measures until all 1,000
// are on the worklist in the real store.
func BenchmarkGDTThousandFilesOnWorklist(b *testing.B) {
	files := make([][]byte, 1000)
	for i := range files {
		files[i] = gdtOrder(b, 500000+i)
	}
	for b.Loop() {
		b.StopTimer()
		c, err := registry.Example("doctolib", testfs.TempDir(b))
		if err != nil {
			b.Fatal(err)
		}
		c.Device.Listen = freeAddr(b)
		c.Log.Level = "warn"
		h, err := New(c, Options{LogStderr: discard{}})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { h.Run(ctx); close(done) }()
		time.Sleep(300 * time.Millisecond) // watcher up
		b.StartTimer()
		start := time.Now()
		for i, data := range files {
			if err := os.WriteFile(filepath.Join(config.SectionOf[*gdtfile.Config](c, gdtfile.Section).InboundDir, fmt.Sprintf("O%04d.GDT", i)), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			wl, err := h.Worklist(ctx, domain.DefaultGroupID)
			if err != nil {
				b.Fatal(err)
			}
			if len(wl) == len(files) {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d orders on the worklist", len(wl), len(files))
			}
			time.Sleep(20 * time.Millisecond)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/1000files")
		b.StopTimer()
		cancel()
		<-done
		h.Close()
		b.StartTimer()
	}
}
