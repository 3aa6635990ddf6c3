package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
)

// bulkQueue writes n results with one queued delivery each to conn straight
// into the tables, generated inside SQLite (SaveResult's fsync per result
// would take minutes), the first inflight of them left in flight as by a
// hub that died. Result IDs are bulk0000000, bulk0000001 ...
func bulkQueue(tb testing.TB, s *store.Store, conn string, n, inflight int) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	tmpl, _ := json.Marshal(domain.Result{ID: "ID", Measurement: "ECG", ReceivedAt: now,
		Observations: []domain.Observation{{Code: "HR", Value: "72", Unit: "/min"}, {Code: "QRS", Value: "96", Unit: "ms"}}})
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	var first int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id),0)+1 FROM deliveries`).Scan(&first); err != nil {
		tb.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM seq WHERE i<?)
			INSERT INTO results(id, order_id, device_id, idempotency_key, measurement, received_at, data)
			SELECT printf('bulk%07d', i), '', '', '', 'ECG', ?, replace(?, '"ID"', '"' || printf('bulk%07d', i) || '"') FROM seq`,
			[]any{n - 1, now.UnixNano(), string(tmpl)}},
		{`WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM seq WHERE i<?)
			INSERT INTO deliveries(result_id, connection, state, attempts, created_at, updated_at, next_at)
			SELECT printf('bulk%07d', i), ?, CASE WHEN i<? THEN 'inflight' ELSE 'queued' END, CASE WHEN i<? THEN 1 ELSE 0 END, ?, ?, ? FROM seq ORDER BY i`,
			[]any{n - 1, conn, inflight, inflight, now.UnixNano(), now.UnixNano(), now.UnixNano()}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// countingEHR accepts everything at once and only counts.
type countingEHR struct{ n atomic.Int64 }

func (c *countingEHR) Deliver(ctx context.Context, out domain.Outgoing) (string, error) {
	c.n.Add(1)
	return "AA", nil
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// Recovery of 100,000 queued deliveries pages through the queue: the heap
// does not grow with the queue (Mirth #3089 loaded it all into memory).
func TestRecovery100kBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,000 rows; skipped with -short")
	}
	n, inflight, sends := 100_000, 200, 1_000
	if raceEnabled {
		// The race detector makes SQLite some fifty times slower; the memory
		// bound is checked at full size without it.
		n, sends = 10_000, 300
		t.Logf("race detector on: %d deliveries instead of 100,000", n)
	}
	s := openStore(t)
	bulkQueue(t, s, "ehr", n, inflight)
	base := heapInuse()
	ehr := &countingEHR{}
	ob := New(s, Options{Backoff: fast}, testLog(t))
	if err := ob.Register("ehr", ehr, Policy{Ambiguous: AmbiguousResend}); err != nil {
		t.Fatal(err)
	}
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if h := heapInuse(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	start(t, ob)
	waitFor(t, fmt.Sprintf("%d sends", sends), func() bool { return ehr.n.Load() >= int64(sends) })
	st, err := ob.Status(context.Background())
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	if h := heapInuse(); h > peak.Load() {
		peak.Store(h)
	}
	growth := int64(peak.Load()) - int64(base)
	t.Logf("heap in use: %.1f MB before start, peak %.1f MB while recovering and sending %d of %d (growth %.1f MB)",
		float64(base)/1e6, float64(peak.Load())/1e6, sends, n, float64(growth)/1e6)
	const limit = 8 << 20
	if growth > limit {
		t.Fatalf("heap grew by %.1f MB while recovering %d deliveries; want < %d MB (the queue must not be loaded into memory)", float64(growth)/1e6, n, limit>>20)
	}
	// The ambiguous ones went first, in order, then the queue, with no
	// more in flight than one step claims.
	if st[0].Depth[domain.DeliveryAmbiguous] != 0 || st[0].Depth[domain.DeliveryInflight] > DefaultClaimAhead ||
		st[0].Undelivered+st[0].Depth[domain.DeliveryDelivered] != n {
		t.Fatalf("status %+v", st[0])
	}
	ds, err := s.Deliveries(context.Background(), store.DeliveryFilter{Connection: "ehr", States: []domain.DeliveryState{domain.DeliveryQueued}, Limit: 1})
	if err != nil || len(ds) != 1 {
		t.Fatal(err)
	}
	first, _ := s.Deliveries(context.Background(), store.DeliveryFilter{Connection: "ehr", States: []domain.DeliveryState{domain.DeliveryDelivered}, Limit: 1})
	if len(first) != 1 || first[0].ID > int64(inflight+int(ehr.n.Load())+1) {
		t.Fatalf("newest delivered %+v: deliveries did not go in ID order", first)
	}
}
