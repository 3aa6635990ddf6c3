package retention

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/app/store/fill"
)

// BenchmarkSweep1M sweeps a store of 1,000,000 orders, 600,000 of them
// finished 120 days ago with a delivered result each (so 600,000 results,
// deliveries and attempts go), while one writer stores orders as fast as
// it can, like a busy MLLP connection. It reports the sweep's time, the
// ingest rate before and during the sweep, the slowest order during the
// sweep and the file sizes. One op is the whole sweep: run with
// -benchtime=1x.
func BenchmarkSweep1M(b *testing.B) {
	orders, old, open := 1_000_000, 600_000, 1_000
	if n, err := strconv.Atoi(os.Getenv("MCONNECT_SWEEP_ORDERS")); err == nil && n > 0 {
		orders, old = n, n*6/10 // a smaller store for a quick look
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ctx := context.Background()
		dir := b.TempDir()
		path := filepath.Join(dir, "mconnect.db")
		st, err := store.Open(path, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		t0 := time.Now()
		if err := fill.Fill(ctx, st, fill.Spec{Orders: orders, Old: old, Open: open, OldAt: now.AddDate(0, 0, -120), RecentAt: now.AddDate(0, 0, -10)}); err != nil {
			b.Fatal(err)
		}
		if _, _, err := st.Checkpoint(ctx); err != nil {
			b.Fatal(err)
		}
		b.Logf("filled %d orders in %v", orders, time.Since(t0).Round(time.Second))
		before, _ := st.Files(ctx)

		// Ingest alone for a while, then with the sweep.
		var stored atomic.Int64
		var slowest atomic.Int64
		var sweeping atomic.Bool
		var failed atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		noIngest := os.Getenv("MCONNECT_SWEEP_NO_INGEST") == "1" // the sweep alone
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !noIngest; n++ {
				select {
				case <-stop:
					return
				default:
				}
				t := time.Now()
				if _, err := st.ApplyOrder(ctx, domain.Order{Connection: "ehr", SourceMessageID: fmt.Sprint("live-", n), PlacerNumber: fmt.Sprint("L", n),
					Action: domain.ActionNew, Measurement: "ECG", Patient: domain.Patient{ID: "1"}}); err != nil {
					if failed.Add(1) == 1 {
						b.Logf("first refused order after %v: %v", time.Since(t), err)
					}
					continue
				}
				if sweeping.Load() {
					if d := int64(time.Since(t)); d > slowest.Load() {
						slowest.Store(d)
					}
				}
				stored.Add(1)
			}
		}()
		const alone = 5 * time.Second
		time.Sleep(alone)
		n0 := stored.Load()
		rateAlone := float64(n0) / alone.Seconds()

		sw := New(st, Policy{Orders: DefaultOrders, Results: DefaultResults, Archive: DefaultArchive}, Options{DataDir: dir})
		sweeping.Store(true)
		b.StartTimer()
		t1 := time.Now()
		rep := sw.Sweep(ctx)
		took := time.Since(t1)
		b.StopTimer()
		n1 := stored.Load()
		close(stop)
		wg.Wait()
		if rep.Error != "" {
			b.Fatal(rep.Error)
		}
		if rep.Orders != old || rep.Results != old {
			b.Fatalf("swept %d orders and %d results, want %d each", rep.Orders, rep.Results, old)
		}
		after, _ := st.Files(ctx)
		st.Close()
		fi, _ := os.Stat(path)
		b.ReportMetric(took.Seconds(), "s-sweep")
		b.ReportMetric(float64(rep.Batches), "batches")
		b.ReportMetric(float64(rep.LongestBatch.Microseconds())/1000, "ms-longest-batch")
		b.ReportMetric(float64(failed.Load()), "orders-refused")
		b.ReportMetric(rateAlone, "orders/s-alone")
		b.ReportMetric(float64(n1-n0)/took.Seconds(), "orders/s-during")
		b.ReportMetric(float64(slowest.Load())/1e6, "ms-slowest-order")
		b.ReportMetric(float64(before.DBBytes)/1e6, "MB-before")
		b.ReportMetric(float64(fi.Size())/1e6, "MB-after")
		b.ReportMetric(float64(after.FreeBytes)/1e6, "MB-free-inside")
	}
}
