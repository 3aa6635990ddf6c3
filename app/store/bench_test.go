package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
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

// listStore is a store of n open orders with 120 source fields each
// (about 14 KB stored, as a Birpis order), for the list benchmarks.
func listStore(b *testing.B, n int) *Store {
	b.Helper()
	s, err := Open(filepath.Join(testfs.TempDir(b), "hub.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	fields := make([]domain.Field, 120)
	for i := range fields {
		fields[i] = domain.Field{Key: fmt.Sprintf("OBX-%d", i), Label: "Observation value",
			Value: fmt.Sprintf("%03d value of a source field as the EHR sent it, kept for the details %d", i, i)}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				o := order("bench", fmt.Sprintf("m%d", i), fmt.Sprintf("P%d", i), domain.ActionNew)
				o.Fields = fields
				o.Meta = map[string]string{"hl7.version": "2.3", "hl7.sender": "BIRPIS"}
				if _, err := s.ApplyOrder(context.Background(), o); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return s
}

// BenchmarkOrdersList lists 10,000 open orders as the Dashboard's
// Worklist asks for them: every field (full) or what a row shows
// (summary). B/op is the garbage one answer leaves.
func BenchmarkOrdersList(b *testing.B) {
	s := listStore(b, 10000)
	open := []domain.OrderState{domain.OrderScheduled, domain.OrderInProgress}
	for _, bc := range []struct {
		name    string
		summary bool
	}{{"full", false}, {"summary", true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got, err := s.Orders(context.Background(), OrderFilter{States: open, Limit: 10000, Summary: bc.summary})
				if err != nil || len(got) != 10000 {
					b.Fatalf("%d orders, %v", len(got), err)
				}
			}
		})
	}
	b.Run("count", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			got, err := s.CountOrders(context.Background(), OrderFilter{States: open})
			if err != nil || got[domain.DefaultGroupID] != 10000 {
				b.Fatalf("%v, %v", got, err)
			}
		}
	})
}
