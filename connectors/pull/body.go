package pull

import (
	"fmt"
	"io"
)

// ReadBody reads an answer of at most limit bytes; a longer one is not
// read on (TooLarge), so a runaway answer cannot exhaust memory.
func ReadBody(r io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, Classify(fmt.Errorf("read %s: %w", what, err))
	}
	if int64(len(b)) > limit {
		return nil, TooLarge(what, limit)
	}
	return b, nil
}

// LimitReader reads r up to limit bytes; reading past the limit fails
// with the TooLarge error of what, for answers decoded as a stream.
func LimitReader(r io.Reader, limit int64, what string) io.Reader {
	return &limited{r: r, left: limit, limit: limit, what: what}
}

type limited struct {
	r           io.Reader
	left, limit int64
	what        string
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, TooLarge(l.what, l.limit)
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n - int(-l.left), TooLarge(l.what, l.limit)
	}
	return n, err
}
