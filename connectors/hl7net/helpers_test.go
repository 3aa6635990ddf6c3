package hl7net

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/hl7"
	"github.com/mesi/mconnect/connectors/mllp"
)

// fakeSink stores orders in memory, de-duplicating by connection and
// source message ID like the real store; err, when set, is returned instead.
type fakeSink struct {
	mu     sync.Mutex
	orders []domain.Order
	seen   map[string]string
	calls  int
	err    error
	sync   *os.File // when set, write+fsync per order (stands in for the store)
}

func (s *fakeSink) AcceptOrder(_ context.Context, o domain.Order) (domain.Accepted, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.err != nil {
		return domain.Accepted{}, s.err
	}
	key := o.Connection + "\x00" + o.SourceMessageID
	if s.seen == nil {
		s.seen = map[string]string{}
	}
	if id, ok := s.seen[key]; ok {
		return domain.Accepted{OrderID: id, Duplicate: true, State: domain.OrderScheduled}, nil
	}
	if s.sync != nil {
		if _, err := s.sync.WriteString(o.SourceMessageID + "\n"); err != nil {
			return domain.Accepted{}, err
		}
		if err := s.sync.Sync(); err != nil {
			return domain.Accepted{}, err
		}
	}
	id := "ord-" + o.SourceMessageID
	s.seen[key] = id
	s.orders = append(s.orders, o)
	return domain.Accepted{OrderID: id, State: domain.OrderScheduled}, nil
}

func (s *fakeSink) snapshot() ([]domain.Order, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]domain.Order(nil), s.orders...), s.calls
}

type healthLog struct {
	mu sync.Mutex
	hs []domain.Health
}

func (h *healthLog) Report(x domain.Health) { h.mu.Lock(); h.hs = append(h.hs, x); h.mu.Unlock() }
func (h *healthLog) has(code string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, x := range h.hs {
		if x.Code == code {
			return true
		}
	}
	return false
}

func quietLog() logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

// startInbound runs an MLLP inbound on a loopback port until the test ends.
func startInbound(t testing.TB, opts MLLPInboundOptions, sink domain.OrderSink, log logrus.FieldLogger) (string, *healthLog) {
	t.Helper()
	health := &healthLog{}
	if opts.ListenAddr == "" {
		opts.ListenAddr = "127.0.0.1:0"
	}
	if opts.Name == "" {
		opts.Name = "test"
	}
	if log == nil {
		log = quietLog()
	}
	in, err := NewMLLPInbound(opts, sink, log, health)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", opts.ListenAddr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("inbound did not stop")
		}
	})
	return ln.Addr().String(), health
}

// exchange sends one frame on a new connection and returns the parsed ACK.
func exchange(t testing.TB, addr string, msg []byte) (hl7.AckResult, *hl7.Message) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return sendOn(t, c, msg)
}

func sendOn(t testing.TB, c net.Conn, msg []byte) (hl7.AckResult, *hl7.Message) {
	t.Helper()
	if err := mllp.WriteFrame(c, msg); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	reply, err := mllp.NewReader(c, 0).ReadFrame()
	if err != nil {
		t.Fatalf("no ACK: %v", err)
	}
	ack, err := hl7.ReadAck(reply)
	if err != nil {
		t.Fatalf("bad ACK %q: %v", reply, err)
	}
	m, err := hl7.Parse(reply)
	if err != nil {
		t.Fatal(err)
	}
	return ack, m
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
