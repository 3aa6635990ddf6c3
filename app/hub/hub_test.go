package hub

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/hl7net"
	"github.com/mesi/mconnect/connectors/mllp"
	"github.com/mesi/mconnect/connectors/registry"
	"github.com/mesi/mconnect/internal/testfs"
)

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// newBirpisHub builds and runs a hub with a Birpis (HL7/MLLP) config on
// loopback ports in a temp data folder.
func newBirpisHub(t testing.TB, edits ...func(*config.Config)) (*Hub, *config.Config) {
	t.Helper()
	c, err := registry.Example("birpis", testfs.TempDir(t))
	if err != nil {
		t.Fatal(err)
	}
	c.Device.Listen = freeAddr(t)
	config.SectionOf[*hl7net.MLLPConfig](c, hl7net.MLLPSection).Listen = freeAddr(t)
	config.SectionOf[*hl7net.MLLPConfig](c, hl7net.MLLPSection).ResultHost = freeAddr(t)
	c.Log.Level = "warn"
	for _, edit := range edits {
		edit(c)
	}
	h, err := New(c, Options{LogStderr: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; h.Close() })
	waitListening(t, config.SectionOf[*hl7net.MLLPConfig](c, hl7net.MLLPSection).Listen)
	return h, c
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func waitListening(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never listened", addr)
}

func orm(id string) []byte {
	return []byte("MSH|^~\\&|BIRPIS|ZDL|MCONNECT|MESI|20240315083000||ORM^O01|" + id + "|P|2.3\r" +
		"PID|1||P" + id + "^^^ZZZS^MR||Novak^Ana||19800101|F\r" +
		"PV1|1|O|KARD\r" +
		"ORC|NW|ORD" + id + "^BIRPIS||||||20240315083000\r" +
		"OBR|1|ORD" + id + "^BIRPIS||ECG^EKG\r")
}

type mllpClient struct {
	conn net.Conn
	r    *mllp.Reader
}

func dialMLLP(t testing.TB, addr string) *mllpClient {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return &mllpClient{conn: c, r: mllp.NewReader(c, 1<<20)}
}

func (c *mllpClient) send(msg []byte) ([]byte, error) {
	if err := mllp.WriteFrame(c.conn, msg); err != nil {
		return nil, err
	}
	return c.r.ReadFrame()
}

func TestOrderStoredBeforeACKAndDuplicateRecognised(t *testing.T) {
	h, c := newBirpisHub(t)
	cl := dialMLLP(t, config.SectionOf[*hl7net.MLLPConfig](c, hl7net.MLLPSection).Listen)
	defer cl.conn.Close()
	for i := 0; i < 2; i++ {
		ack, err := cl.send(orm("X1"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(ack, []byte("MSA|AA|X1")) {
			t.Fatalf("ack %d: %q", i, ack)
		}
		// The ACK came: the order must already be in the store.
		wl, err := h.store.Worklist(context.Background(), domain.DefaultGroupID)
		if err != nil {
			t.Fatal(err)
		}
		if len(wl) != 1 || wl[0].PlacerNumber != "ORDX1" {
			t.Fatalf("after ack %d the worklist is %v", i, wl)
		}
	}
}

func TestHealthCoversEveryComponent(t *testing.T) {
	h, _ := newBirpisHub(t)
	deadline := time.Now().Add(30 * time.Second)
	want := []string{"store", "device", "conn:birpis", "conn:birpis/outbox"}
	for {
		got := map[string]domain.Health{}
		for _, x := range h.Health() {
			got[x.Component] = x
		}
		missing := ""
		for _, w := range want {
			if _, ok := got[w]; !ok {
				missing = w
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no health from %s: %v", missing, h.Health())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSecondHubOnSameDataFolderRefused(t *testing.T) {
	_, c := newBirpisHub(t)
	c2 := *c
	h2, err := New(&c2, Options{LogStderr: discard{}})
	if err == nil {
		h2.Close()
		t.Fatal("a second hub started on the same data folder")
	}
	if !errorsIs(err, ErrAlreadyRunning) {
		t.Fatalf("err = %v", err)
	}
}

// BenchmarkMLLPIngestDurable sends ORM^O01 orders over 8 MLLP connections to
// a running hub with its real SQLite store; every ACK follows a durable commit.
func BenchmarkMLLPIngestDurable(b *testing.B) {
	_, c := newBirpisHub(b)
	const conns = 8
	var next atomic.Int64
	var wg sync.WaitGroup
	lat := make([][]time.Duration, conns)
	b.ResetTimer()
	for k := 0; k < conns; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			cl := dialMLLP(b, config.SectionOf[*hl7net.MLLPConfig](c, hl7net.MLLPSection).Listen)
			defer cl.conn.Close()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				start := time.Now()
				ack, err := cl.send(orm(fmt.Sprintf("B%d", i)))
				if err != nil || !bytes.Contains(ack, []byte("MSA|AA")) {
					b.Errorf("send %d: %v %q", i, err, ack)
					return
				}
				lat[k] = append(lat[k], time.Since(start))
			}
		}(k)
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	b.ReportMetric(float64(p99(lat).Microseconds())/1000, "p99-ack-ms")
}

// BenchmarkMLLPAckLatencyAt200 sends orders at 200 messages/s over one
// connection and reports the ACK latency.
func BenchmarkMLLPAckLatencyAt200(b *testing.B) {
	_, c := newBirpisHub(b)
	cl := dialMLLP(b, config.SectionOf[*hl7net.MLLPConfig](c, hl7net.MLLPSection).Listen)
	defer cl.conn.Close()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	lat := [][]time.Duration{nil}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		<-tick.C
		start := time.Now()
		ack, err := cl.send(orm(fmt.Sprintf("L%d", i)))
		if err != nil || !bytes.Contains(ack, []byte("MSA|AA")) {
			b.Fatalf("send %d: %v %q", i, err, ack)
		}
		lat[0] = append(lat[0], time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(p99(lat).Microseconds())/1000, "p99-ack-ms")
}

func p99(lat [][]time.Duration) time.Duration {
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return 0
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return all[len(all)*99/100]
}
