package mllp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// SenderOptions configure a Sender. Zero values take the defaults named.
type SenderOptions struct {
	// Addr is the receiver's host:port.
	Addr string
	// DialTimeout bounds connecting (default 10 seconds).
	DialTimeout time.Duration
	// WriteTimeout bounds writing one message (default 60 seconds).
	WriteTimeout time.Duration
	// ReplyTimeout bounds the wait for the reply after the message was
	// written (default 30 seconds). On timeout the connection is closed so a
	// late reply can never be read as the answer to a later message.
	ReplyTimeout time.Duration
	// MaxReplySize bounds the reply (default 1 MB).
	MaxReplySize int
	// KeepAlive reuses the connection between messages; otherwise each
	// message gets its own connection, closed after the reply.
	KeepAlive bool
	// Dial overrides how connections are made (tests, proxies).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// ErrReplyTimeout: no reply arrived within ReplyTimeout.
var ErrReplyTimeout = errors.New("mllp: no reply within the timeout")

// Sender sends frames to one receiver and returns its replies. It is safe
// for concurrent use; sends are serialised.
type Sender struct {
	opts SenderOptions
	mu   sync.Mutex
	conn net.Conn
	r    *Reader
}

// NewSender returns a sender for opts.Addr.
func NewSender(opts SenderOptions) *Sender {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 60 * time.Second
	}
	if opts.ReplyTimeout <= 0 {
		opts.ReplyTimeout = 30 * time.Second
	}
	if opts.MaxReplySize <= 0 {
		opts.MaxReplySize = 1 << 20
	}
	if opts.Dial == nil {
		d := &net.Dialer{Timeout: opts.DialTimeout, KeepAlive: 30 * time.Second}
		opts.Dial = d.DialContext
	}
	return &Sender{opts: opts}
}

// SendBytes sends msg as one frame and returns the reply.
func (s *Sender) SendBytes(ctx context.Context, msg []byte) ([]byte, error) {
	return s.Send(ctx, func(w io.Writer) error { _, err := w.Write(msg); return err })
}

// Send frames what write produces, sends it and returns the raw reply. Any
// failure closes the connection; write's error aborts the frame unfinished
// (the receiver discards it).
func (s *Sender) Send(ctx context.Context, write func(io.Writer) error) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	conn := s.conn
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	fail := func(err error) ([]byte, error) {
		s.drop()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("mllp: send to %s: %w", s.opts.Addr, ctx.Err())
		}
		return nil, err
	}

	_ = conn.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
	bw := bufio.NewWriterSize(conn, 64<<10)
	fw := NewFrameWriter(bw)
	if err := write(fw); err != nil {
		return fail(fmt.Errorf("mllp: writing message to %s: %w", s.opts.Addr, err))
	}
	if err := fw.Close(); err != nil {
		return fail(fmt.Errorf("mllp: writing message to %s: %w", s.opts.Addr, err))
	}
	if err := bw.Flush(); err != nil {
		return fail(fmt.Errorf("mllp: writing message to %s: %w", s.opts.Addr, err))
	}
	_ = conn.SetReadDeadline(time.Now().Add(s.opts.ReplyTimeout))
	reply, err := s.r.ReadFrame()
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
			return fail(fmt.Errorf("mllp: %s: %w (%s)", s.opts.Addr, ErrReplyTimeout, s.opts.ReplyTimeout))
		}
		if errors.Is(err, io.EOF) {
			return fail(fmt.Errorf("mllp: %s closed the connection without a reply", s.opts.Addr))
		}
		return fail(fmt.Errorf("mllp: reading reply from %s: %w", s.opts.Addr, err))
	}
	if !s.opts.KeepAlive {
		s.drop()
	} else {
		_ = conn.SetDeadline(time.Time{})
	}
	return reply, nil
}

// connect reuses a kept-alive connection when it is clean, else dials.
func (s *Sender) connect(ctx context.Context) error {
	if s.conn != nil && !s.clean() {
		s.drop()
	}
	if s.conn != nil {
		return nil
	}
	dctx, cancel := context.WithTimeout(ctx, s.opts.DialTimeout)
	defer cancel()
	c, err := s.opts.Dial(dctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("mllp: connecting to %s: %w", s.opts.Addr, err)
	}
	s.conn, s.r = c, NewReader(c, s.opts.MaxReplySize)
	return nil
}

// clean reports whether a kept-alive connection is open and holds no
// unread bytes (a stray reply would be mistaken for the next answer).
func (s *Sender) clean() bool {
	if s.r.Buffered() > 0 {
		return false
	}
	_ = s.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	var b [1]byte
	n, err := s.conn.Read(b[:])
	_ = s.conn.SetReadDeadline(time.Time{})
	if n > 0 {
		return false
	}
	return errors.Is(err, os.ErrDeadlineExceeded)
}

func (s *Sender) drop() {
	if s.conn != nil {
		s.conn.Close()
		s.conn, s.r = nil, nil
	}
}

// Close closes a kept-alive connection.
func (s *Sender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop()
	return nil
}
