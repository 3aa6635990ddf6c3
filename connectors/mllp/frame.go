// Package mllp is the Minimal Lower Layer Protocol transport HL7 v2 travels
// on: a frame is 0x0B, the message, 0x1C 0x0D. It provides a framer that
// reads frames across TCP reads with a size limit, a TCP listener with an IP
// allow-list, bounded connections, timeouts and graceful shutdown, and a
// sender that waits for the reply to each frame.
//
// The package knows nothing of HL7 beyond the framing: what a message means
// and what the reply says is the Handler's business.
package mllp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Framing bytes.
const (
	StartBlock     = 0x0B // VT
	EndBlock       = 0x1C // FS
	CarriageReturn = 0x0D // CR
)

// DefaultMaxMessageSize is the largest message accepted unless configured.
const DefaultMaxMessageSize = 50 << 20

// headSize is how much of an oversize frame is kept for the reply.
const headSize = 4096

var (
	// ErrFrameTooLarge: a frame exceeds the size limit (see FrameTooLargeError).
	ErrFrameTooLarge = errors.New("mllp: frame exceeds the size limit")
	// ErrUnterminated: the stream ended inside a frame.
	ErrUnterminated = errors.New("mllp: stream ended inside a frame (no 0x1C 0x0D)")
)

// FrameTooLargeError is returned for a frame over the limit. Head holds the
// frame's first bytes (enough for the MSH an error answer needs); the rest
// was discarded while reading, never buffered.
type FrameTooLargeError struct {
	Limit int
	Head  []byte
	// Complete reports whether the frame's end was reached while discarding
	// (the stream is positioned after it).
	Complete bool
}

func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("mllp: frame exceeds the limit of %d bytes", e.Limit)
}

// Is makes errors.Is(err, ErrFrameTooLarge) true.
func (e *FrameTooLargeError) Is(target error) bool { return target == ErrFrameTooLarge }

// Reader reads frames from a byte stream.
type Reader struct {
	br  *bufio.Reader
	max int
	// OnJunk, when set, is told how many bytes other than whitespace were
	// discarded before a start block or in an abandoned partial frame.
	OnJunk func(n int)
	frame  bytes.Buffer
}

// NewReader reads frames of at most max bytes (DefaultMaxMessageSize when
// max <= 0) from r.
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxMessageSize
	}
	return &Reader{br: bufio.NewReaderSize(r, 16<<10), max: max}
}

// Buffered is the number of bytes read from the stream but not yet framed.
func (r *Reader) Buffered() int { return r.br.Buffered() }

func (r *Reader) junk(b []byte) {
	if r.OnJunk == nil {
		return
	}
	n := 0
	for _, c := range b {
		if c != ' ' && c != '\r' && c != '\n' && c != '\t' {
			n++
		}
	}
	if n > 0 {
		r.OnJunk(n)
	}
}

// ReadFrame returns the next message without its framing bytes. It returns
// io.EOF at a clean end of stream, ErrUnterminated (wrapping
// io.ErrUnexpectedEOF) when the stream ends inside a frame and a
// *FrameTooLargeError for a frame over the limit. A start block inside a
// frame abandons the partial frame (the sender started over). The returned
// slice is the caller's.
func (r *Reader) ReadFrame() ([]byte, error) {
	// Seek the start block.
	for {
		chunk, err := r.br.ReadSlice(StartBlock)
		if err == nil {
			r.junk(chunk[:len(chunk)-1])
			break
		}
		r.junk(chunk)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return nil, err
	}
	r.frame.Reset()
	for {
		chunk, err := r.br.ReadSlice(EndBlock)
		body := chunk
		if err == nil {
			body = chunk[:len(chunk)-1]
		}
		if i := bytes.LastIndexByte(body, StartBlock); i >= 0 {
			r.junk(r.frame.Bytes())
			r.junk(body[:i])
			r.frame.Reset()
			body = body[i+1:]
		}
		if r.frame.Len()+len(body) > r.max {
			return nil, r.discardOversize(body, err == nil)
		}
		r.frame.Write(body)
		switch {
		case err == nil:
			// End block: a CR should follow; anything else is left for the
			// next frame's seek (and reported as junk there).
			if c, perr := r.br.Peek(1); perr == nil && c[0] == CarriageReturn {
				_, _ = r.br.ReadByte()
			}
			out := make([]byte, r.frame.Len())
			copy(out, r.frame.Bytes())
			r.frame.Reset()
			return out, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return nil, fmt.Errorf("%w: %w after %d bytes", ErrUnterminated, io.ErrUnexpectedEOF, r.frame.Len())
		default:
			return nil, err
		}
	}
}

// discardOversize keeps the head of an oversize frame and discards the rest
// up to its end block, reading at most another limit's worth of bytes.
func (r *Reader) discardOversize(body []byte, ended bool) error {
	head := make([]byte, 0, headSize)
	head = append(head, r.frame.Bytes()[:min(r.frame.Len(), headSize)]...)
	if len(head) < headSize {
		head = append(head, body[:min(len(body), headSize-len(head))]...)
	}
	r.frame.Reset()
	e := &FrameTooLargeError{Limit: r.max, Head: head}
	if ended {
		e.Complete = true
		if c, err := r.br.Peek(1); err == nil && c[0] == CarriageReturn {
			_, _ = r.br.ReadByte()
		}
		return e
	}
	budget := r.max
	for budget > 0 {
		chunk, err := r.br.ReadSlice(EndBlock)
		budget -= len(chunk)
		if err == nil {
			e.Complete = true
			if c, err := r.br.Peek(1); err == nil && c[0] == CarriageReturn {
				_, _ = r.br.ReadByte()
			}
			return e
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return e
		}
	}
	return e
}

// WriteFrame writes msg as one frame.
func WriteFrame(w io.Writer, msg []byte) error {
	fw := NewFrameWriter(w)
	if _, err := fw.Write(msg); err != nil {
		return err
	}
	return fw.Close()
}

// FrameWriter streams one frame: the start block before the first byte, the
// end block on Close. Framing bytes inside the message are the writer's
// responsibility (HL7 escapes them).
type FrameWriter struct {
	w       io.Writer
	started bool
	err     error
}

// NewFrameWriter starts a frame on w.
func NewFrameWriter(w io.Writer) *FrameWriter { return &FrameWriter{w: w} }

func (f *FrameWriter) start() {
	if !f.started && f.err == nil {
		f.started = true
		_, f.err = f.w.Write([]byte{StartBlock})
	}
}

// Write writes message bytes.
func (f *FrameWriter) Write(p []byte) (int, error) {
	f.start()
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.w.Write(p)
	if err != nil {
		f.err = err
	}
	return n, err
}

// Close ends the frame.
func (f *FrameWriter) Close() error {
	f.start()
	if f.err != nil {
		return f.err
	}
	_, f.err = f.w.Write([]byte{EndBlock, CarriageReturn})
	return f.err
}
