package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/internal/testfs"
)

// BenchmarkApplyOrderParallel stores orders from 8 concurrent senders (as 8
// MLLP connections would), each order durable before its call returns.
func BenchmarkApplyOrderParallel(b *testing.B) {
	s, err := Open(filepath.Join(testfs.TempDir(b), "hub.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var n atomic.Int64
	b.SetParallelism(4) // 2 cores x 4 = 8 senders
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			o := order("bench", fmt.Sprintf("m%d", i), fmt.Sprintf("P%d", i), domain.ActionNew)
			if _, err := s.ApplyOrder(context.Background(), o); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
}

// BenchmarkApplyOrderSerial stores orders one after the other.
func BenchmarkApplyOrderSerial(b *testing.B) {
	s, err := Open(filepath.Join(testfs.TempDir(b), "hub.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < b.N; i++ {
		o := order("bench", fmt.Sprintf("m%d", i), fmt.Sprintf("P%d", i), domain.ActionNew)
		if _, err := s.ApplyOrder(context.Background(), o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
}
