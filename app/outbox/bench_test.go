package outbox

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// BenchmarkDrain10k drains 10,000 queued results to a local EHR that
// answers at once; one op is the whole drain. Run with -benchtime=1x.
func BenchmarkDrain10k(b *testing.B) {
	const n = 10_000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := openStore(b)
		bulkQueue(b, s, "ehr", n, 0)
		ehr := &countingEHR{}
		ob := New(s, Options{}, nil)
		if err := ob.Register("ehr", ehr, Policy{}); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		b.StartTimer()
		t0 := time.Now()
		go func() { done <- ob.Run(ctx) }()
		for {
			st, err := s.QueueCounts(context.Background(), "ehr", domain.DeliveryDelivered)
			if err != nil {
				b.Fatal(err)
			}
			if st[domain.DeliveryDelivered] == n {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		el := time.Since(t0)
		b.StopTimer()
		cancel()
		<-done
		b.ReportMetric(float64(n)/el.Seconds(), "deliveries/s")
		b.ReportMetric(float64(el.Microseconds())/n, "µs/delivery")
	}
}

// BenchmarkEnqueue is the cost of store.SaveResult (result plus one queued
// delivery per connection, one durable transaction) per result.
func BenchmarkEnqueue(b *testing.B) {
	for _, conns := range [][]string{{"a"}, {"a", "b"}} {
		b.Run(fmt.Sprintf("%d connections", len(conns)), func(b *testing.B) {
			s := openStore(b)
			ctx := context.Background()
			r := domain.Result{Measurement: "ECG", DeviceID: "tab", Observations: []domain.Observation{{Code: "HR", Value: "72", Unit: "/min"}}}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := s.SaveResult(ctx, r, conns); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRecovery100k starts an outbox on 100,000 queued deliveries (200
// left in flight) and measures the time to the first 1,000 sends and the
// heap growth meanwhile.
func BenchmarkRecovery100k(b *testing.B) {
	const n, inflight, sends = 100_000, 200, 1_000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := openStore(b)
		bulkQueue(b, s, "ehr", n, inflight)
		base := heapInuse()
		ehr := &countingEHR{}
		ob := New(s, Options{}, nil)
		if err := ob.Register("ehr", ehr, Policy{Ambiguous: AmbiguousResend}); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		var peak uint64
		b.StartTimer()
		t0 := time.Now()
		go func() { done <- ob.Run(ctx) }()
		for ehr.n.Load() < sends {
			if h := heapInuse(); h > peak {
				peak = h
			}
			time.Sleep(10 * time.Millisecond)
		}
		el := time.Since(t0)
		b.StopTimer()
		cancel()
		<-done
		b.ReportMetric(el.Seconds()*1000, "ms-to-1000-sends")
		b.ReportMetric(float64(int64(peak)-int64(base))/1e6, "heap-growth-MB")
	}
}
