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
