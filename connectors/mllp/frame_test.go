package mllp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func frame(s string) string { return "\x0b" + s + "\x1c\x0d" }

func TestReadFrame(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		stream string
		max    int
		want   []string
		junk   int
		endErr error // error after the frames (io.EOF when clean)
	}{
		{"one", frame("MSH|a"), 0, []string{"MSH|a"}, 0, io.EOF},
		{"two in one read", frame("A") + frame("B"), 0, []string{"A", "B"}, 0, io.EOF},
		{"junk before VT reported", "garbage" + frame("A") + "\r\n" + frame("B"), 0, []string{"A", "B"}, 7, io.EOF},
		{"restart on VT inside frame", "\x0bpartial" + frame("A"), 0, []string{"A"}, 7, io.EOF},
		{"FS without CR", "\x0bA\x1c" + frame("B"), 0, []string{"A", "B"}, 0, io.EOF},
		{"empty frame", frame(""), 0, []string{""}, 0, io.EOF},
		{"unterminated", frame("A") + "\x0bMSH|half", 0, []string{"A"}, 0, ErrUnterminated},
		{"only junk", "hello", 0, nil, 5, io.EOF},
		{"at the limit", frame("12345"), 5, []string{"12345"}, 0, io.EOF},
		{"over the limit", frame("123456") + frame("ok"), 5, nil, 0, ErrFrameTooLarge},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			name := tt.name
			if oneByte {
				name += "/one byte per read"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var src io.Reader = strings.NewReader(tt.stream)
				if oneByte {
					src = iotest.OneByteReader(src)
				}
				r := NewReader(src, tt.max)
				junk := 0
				r.OnJunk = func(n int) { junk += n }
				var got []string
				var err error
				for {
					var f []byte
					f, err = r.ReadFrame()
					if err != nil {
						break
					}
					got = append(got, string(f))
				}
				if !errors.Is(err, tt.endErr) {
					t.Errorf("end error %v, want %v", err, tt.endErr)
				}
				if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
					t.Errorf("frames %q, want %q", got, tt.want)
				}
				if junk != tt.junk {
					t.Errorf("junk %d, want %d", junk, tt.junk)
				}
			})
		}
	}
}

// TestOversizeKeepsHeadAndResyncs: an oversize frame yields its head, is
// discarded without being buffered, and the next frame still reads.
func TestOversizeKeepsHeadAndResyncs(t *testing.T) {
	t.Parallel()
	big := "MSH|^~\\&|HEAD|" + strings.Repeat("x", 200_000)
	r := NewReader(iotest.HalfReader(strings.NewReader(frame(big)+frame("next"))), 100_000)
	_, err := r.ReadFrame()
	var tooBig *FrameTooLargeError
	if !errors.As(err, &tooBig) || !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if !bytes.HasPrefix(tooBig.Head, []byte("MSH|^~\\&|HEAD|")) || len(tooBig.Head) != headSize || !tooBig.Complete {
		t.Errorf("head %d bytes %q..., complete %v", len(tooBig.Head), tooBig.Head[:20], tooBig.Complete)
	}
	if r.frame.Cap() > 2*100_000+64<<10 {
		t.Errorf("buffered %d bytes for a frame limited to 100000", r.frame.Cap())
	}
	f, err := r.ReadFrame()
	if err != nil || string(f) != "next" {
		t.Errorf("next frame %q, %v", f, err)
	}
}

// TestLargeFrameAcrossReads: a 200 KB message split across many TCP-sized
// reads is framed whole (the node-hl7-server bug).
func TestLargeFrameAcrossReads(t *testing.T) {
	t.Parallel()
	msg := strings.Repeat("OBX|1|ED|PDF||^Application^PDF^Base64^QUJD\r", 5000)
	r := NewReader(iotest.HalfReader(strings.NewReader(frame(msg))), 0)
	f, err := r.ReadFrame()
	if err != nil || string(f) != msg {
		t.Fatalf("got %d bytes, %v", len(f), err)
	}
}

func TestWriteFrame(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteFrame(&b, []byte("MSH|x")); err != nil {
		t.Fatal(err)
	}
	if b.String() != "\x0bMSH|x\x1c\x0d" {
		t.Errorf("%q", b.String())
	}
	b.Reset()
	fw := NewFrameWriter(&b)
	_, _ = fw.Write([]byte("a"))
	_, _ = fw.Write([]byte("b"))
	_ = fw.Close()
	if b.String() != "\x0bab\x1c\x0d" {
		t.Errorf("%q", b.String())
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte(frame("MSH|a")+frame("b")), 0)
	f.Add([]byte("junk\x0bpart\x0bA\x1cB\x1c\x0d"), 3)
	f.Add([]byte("\x0b\x0b\x1c\x1c\x0d\x0d"), 1)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max < 0 {
			max = -(max + 1)
		}
		max = max%64 + 1
		r := NewReader(bytes.NewReader(data), max)
		for range len(data) + 2 {
			fr, err := r.ReadFrame()
			if err != nil {
				if errors.Is(err, ErrFrameTooLarge) {
					continue
				}
				return
			}
			if len(fr) > max {
				t.Fatalf("frame of %d bytes over limit %d", len(fr), max)
			}
			if bytes.IndexByte(fr, StartBlock) >= 0 || bytes.IndexByte(fr, EndBlock) >= 0 {
				t.Fatalf("frame holds framing bytes: %q", fr)
			}
		}
	})
}
