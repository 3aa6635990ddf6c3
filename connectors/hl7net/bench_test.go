package hl7net

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mesi/mconnect/connectors/hl7"
	"github.com/mesi/mconnect/connectors/mllp"
)

// BenchmarkMLLPIngest8Conns measures order ingest over 8 concurrent MLLP
// connections into a sink that writes and fsyncs a file per order (standing
// in for the store's commit), and the ACK latency each sender sees.
func BenchmarkMLLPIngest8Conns(b *testing.B) {
	const conns = 8
	f, err := os.Create(filepath.Join(b.TempDir(), "store.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sink := &fakeSink{sync: f}
	addr, _ := startInbound(b, MLLPInboundOptions{MaxConnections: conns}, sink, nil)
	base := string(readFile(b, "nextgen_orm.hl7"))
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.SetBytes(int64(len(base)))
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close()
			r := mllp.NewReader(c, 0)
			var local []time.Duration
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					break
				}
				id := fmt.Sprintf("B%d-%d", b.N, n)
				msg := strings.Replace(base, "NG20240704093015001", id, 1)
				t0 := time.Now()
				if err := mllp.WriteFrame(c, []byte(msg)); err != nil {
					b.Error(err)
					return
				}
				reply, err := r.ReadFrame()
				if err != nil {
					b.Error(err)
					return
				}
				local = append(local, time.Since(t0))
				if ack, err := hl7.ReadAck(reply); err != nil || ack.ControlID != id || !ack.Accepted() {
					b.Errorf("ACK %+v %v", ack, err)
					return
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(pct(0.50), "ack-p50-ms")
	b.ReportMetric(pct(0.99), "ack-p99-ms")
	b.ReportMetric(pct(1.0), "ack-max-ms")
}
