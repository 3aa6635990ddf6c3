package hub

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/app/store/fill"
	"github.com/mesi/mconnect/connectors/hl7net"
	"github.com/mesi/mconnect/connectors/registry"
	"github.com/mesi/mconnect/internal/testfs"
)

// BenchmarkColdStart1M starts a Birpis hub on a data folder whose store
// holds 1,000,000 orders (999,000 done with a delivered result each, 1,000
// on the worklist) and measures until it serves: the MLLP listener and
// the tablets' endpoint accept connections and the worklist of the default
// group is read. The store is filled and closed first; the operating
// system's file cache is warm from the fill (a start after a reboot reads
// from disk as well). One op is one start: run with -benchtime=Nx.
func BenchmarkColdStart1M(b *testing.B) {
	const orders, open = 1_000_000, 1_000
	dir := testfs.TempDir(b)
	c, err := registry.Example("birpis", dir)
	if err != nil {
		b.Fatal(err)
	}
	c.Log.Level = "warn"
	st, err := store.Open(filepath.Join(dir, "mconnect.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	ctx := context.Background()
	if err := fill.Fill(ctx, st, fill.Spec{Orders: orders, Open: open, OldAt: now.AddDate(0, 0, -120), RecentAt: now.AddDate(0, 0, -1),
		Connection: c.EHR, Outbound: c.EHR}); err != nil {
		b.Fatal(err)
	}
	// As written by schema 3: without migration 5's table and index, nor
	// migration 4's indexes (migration 5 then copies the de-duplication
	// keys once more).
	for _, q := range []string{`DROP TABLE connection_orders`, `DROP INDEX orders_finished_age`, `DROP INDEX inbound_messages_order`,
		`DROP INDEX results_age`, `DROP INDEX deliveries_inflight`, `DROP INDEX orders_received`, `PRAGMA user_version = 3`} {
		if _, err := st.DB().ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	if _, _, err := st.Checkpoint(ctx); err != nil {
		b.Fatal(err)
	}
	st.Close()
	// The first start after the update builds the indexes once.
	t0 := time.Now()
	st, err = store.Open(filepath.Join(dir, "mconnect.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	upgrade := time.Since(t0)
	before := map[string]float64{}
	// What the start did before schema 4, on the same store: when each
	// connection last brought an order, and the deliveries left in flight,
	// each by a scan.
	for _, q := range []struct{ unit, sql string }{
		{"ms-before-last-order-scan", `SELECT connection, MAX(updated_at) FROM orders NOT INDEXED GROUP BY connection`},
		{"ms-before-inflight-scan", `SELECT COUNT(*) FROM deliveries NOT INDEXED WHERE state='inflight'`},
	} {
		t := time.Now()
		rows, err := st.DB().QueryContext(ctx, q.sql)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
		}
		rows.Close()
		before[q.unit] = float64(time.Since(t).Microseconds()) / 1000
	}
	st.Close()
	b.ResetTimer()
	b.ReportMetric(float64(upgrade.Milliseconds()), "ms-upgrade-once")
	for unit, v := range before {
		b.ReportMetric(v, unit)
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c.Device.Listen = freeAddr(b)
		mllpAddr := freeAddr(b)
		config.SectionOf[*hl7net.MLLPConfig](c, hl7net.MLLPSection).Listen = mllpAddr
		config.SectionOf[*hl7net.MLLPConfig](c, hl7net.MLLPSection).ResultHost = freeAddr(b)
		b.StartTimer()
		t0 := time.Now()
		h, err := New(c, Options{LogStderr: discard{}})
		if err != nil {
			b.Fatal(err)
		}
		opened := time.Since(t0)
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { h.Run(runCtx); close(done) }()
		waitListening(b, mllpAddr)
		waitListening(b, c.Device.Listen)
		wl, err := h.Store().Worklist(ctx, "default")
		if err != nil || len(wl) != open {
			b.Fatalf("worklist: %d orders, %v", len(wl), err)
		}
		serving := time.Since(t0)
		b.StopTimer()
		cancel()
		<-done
		h.Close()
		b.ReportMetric(float64(opened.Microseconds())/1000, "ms-new")
		b.ReportMetric(float64(serving.Microseconds())/1000, "ms-to-serving")
		b.StartTimer()
	}
}
