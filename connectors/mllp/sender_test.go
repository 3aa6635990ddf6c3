package mllp

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeReceiver accepts connections and runs serve on each.
func fakeReceiver(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); serve(c) }()
		}
	}()
	return ln.Addr().String()
}

func TestSenderRoundTrip(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	addr := fakeReceiver(t, func(c net.Conn) {
		conns.Add(1)
		r := NewReader(c, 0)
		for {
			f, err := r.ReadFrame()
			if err != nil {
				return
			}
			_ = WriteFrame(c, append([]byte("ACK "), f...))
		}
	})
	for _, keep := range []bool{false, true} {
		conns.Store(0)
		s := NewSender(SenderOptions{Addr: addr, KeepAlive: keep})
		for _, m := range []string{"m1", "m2", "m3"} {
			reply, err := s.SendBytes(context.Background(), []byte(m))
			if err != nil || string(reply) != "ACK "+m {
				t.Fatalf("keepAlive=%v: %q %v", keep, reply, err)
			}
		}
		_ = s.Close()
		want := int32(3)
		if keep {
			want = 1
		}
		if got := conns.Load(); got != want {
			t.Errorf("keepAlive=%v: %d connections, want %d", keep, got, want)
		}
	}
}

// TestSenderLateReplyNotCredited: the receiver answers the first message
// after the timeout; that late answer must never be returned for the
// second message, with or without keep-alive.
func TestSenderLateReplyNotCredited(t *testing.T) {
	t.Parallel()
	for _, keep := range []bool{false, true} {
		addr := fakeReceiver(t, func(c net.Conn) {
			r := NewReader(c, 0)
			for {
				f, err := r.ReadFrame()
				if err != nil {
					return
				}
				if string(f) == "slow" {
					time.Sleep(400 * time.Millisecond)
				}
				_ = WriteFrame(c, append([]byte("ACK "), f...))
			}
		})
		s := NewSender(SenderOptions{Addr: addr, KeepAlive: keep, ReplyTimeout: 150 * time.Millisecond})
		_, err := s.SendBytes(context.Background(), []byte("slow"))
		if !errors.Is(err, ErrReplyTimeout) {
			t.Fatalf("keepAlive=%v: first send: %v", keep, err)
		}
		time.Sleep(400 * time.Millisecond) // the late ACK arrives meanwhile
		s.opts.ReplyTimeout = 2 * time.Second
		reply, err := s.SendBytes(context.Background(), []byte("fast"))
		if err != nil || string(reply) != "ACK fast" {
			t.Fatalf("keepAlive=%v: second send got %q, %v", keep, reply, err)
		}
		_ = s.Close()
	}
}

// TestSenderStaleBytesOnKeptConnection: bytes waiting on a kept-alive
// connection make the sender reconnect rather than read them as a reply.
func TestSenderStaleBytesOnKeptConnection(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	addr := fakeReceiver(t, func(c net.Conn) {
		conns.Add(1)
		r := NewReader(c, 0)
		for {
			f, err := r.ReadFrame()
			if err != nil {
				return
			}
			_ = WriteFrame(c, append([]byte("ACK "), f...))
			_ = WriteFrame(c, []byte("STRAY")) // a second, unsolicited answer
		}
	})
	s := NewSender(SenderOptions{Addr: addr, KeepAlive: true})
	defer s.Close()
	for _, m := range []string{"a", "b"} {
		reply, err := s.SendBytes(context.Background(), []byte(m))
		if err != nil || string(reply) != "ACK "+m {
			t.Fatalf("%q %v", reply, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if conns.Load() != 2 {
		t.Errorf("%d connections: the stray answer should force a reconnect", conns.Load())
	}
}

func TestSenderFailures(t *testing.T) {
	t.Parallel()
	closesMidSend := fakeReceiver(t, func(c net.Conn) {
		_, _ = io.ReadFull(c, make([]byte, 1000))
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
	})
	closesWithoutReply := fakeReceiver(t, func(c net.Conn) {
		_, _ = NewReader(c, 0).ReadFrame()
	})
	hugeReply := fakeReceiver(t, func(c net.Conn) {
		_, _ = NewReader(c, 0).ReadFrame()
		_ = WriteFrame(c, []byte(strings.Repeat("x", 5000)))
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := ln.Addr().String()
	ln.Close()

	big := []byte(strings.Repeat("OBX|1|ED|", 2_000_000))
	tests := []struct {
		name, addr string
		msg        []byte
		want       string
	}{
		{"receiver closes mid-send", closesMidSend, big, "writing message"},
		{"closed without reply", closesWithoutReply, []byte("m"), "closed the connection without a reply"},
		{"reply over limit", hugeReply, []byte("m"), "exceeds the limit"},
		{"connection refused", refused, []byte("m"), "connecting to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewSender(SenderOptions{Addr: tt.addr, MaxReplySize: 1000, WriteTimeout: 5 * time.Second})
			_, err := s.SendBytes(context.Background(), tt.msg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want containing %q", err, tt.want)
			}
			if s.conn != nil {
				t.Error("connection kept after a failure")
			}
		})
	}
	t.Run("context cancelled while waiting", func(t *testing.T) {
		t.Parallel()
		silent := fakeReceiver(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
		s := NewSender(SenderOptions{Addr: silent, ReplyTimeout: 10 * time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := s.SendBytes(ctx, []byte("m"))
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
			t.Fatalf("err %v after %v", err, time.Since(start))
		}
	})
	t.Run("writer error aborts the frame", func(t *testing.T) {
		t.Parallel()
		got := make(chan error, 1)
		addr := fakeReceiver(t, func(c net.Conn) { _, err := NewReader(c, 0).ReadFrame(); got <- err })
		s := NewSender(SenderOptions{Addr: addr})
		_, err := s.Send(context.Background(), func(w io.Writer) error {
			_, _ = w.Write([]byte("MSH|partial"))
			return errors.New("pdf vanished")
		})
		if err == nil || !strings.Contains(err.Error(), "pdf vanished") {
			t.Fatalf("err %v", err)
		}
		if rerr := <-got; rerr == nil {
			t.Error("receiver got a complete frame from an aborted send")
		}
	})
}
