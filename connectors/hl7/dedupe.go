package hl7

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
)

// ContentHash returns the hex SHA-256 (first 16 bytes) of what a message
// says, for de-duplication: every segment's fields as parsed (escapes
// resolved, decoded to UTF-8), without MSH-7 (the time of sending, which an
// EHR may renew when it re-sends) and MSH-10 (the control ID, which the
// de-duplication key carries beside the hash). Trailing empty fields,
// segment terminators (CR, LF, CR LF) and the character set the bytes came
// in do not change the hash; any other difference does.
func ContentHash(m *Message) string {
	h := sha256.New()
	// One buffer for every segment, written to the hash segment by segment
	// (the bytes hashed are the stored keys: never change them).
	var b bytes.Buffer
	for _, seg := range m.Segments {
		b.Reset()
		b.WriteString(seg.Name)
		last := len(seg.Fields) - 1
		for last > 0 && fieldEmpty(seg.Fields[last]) {
			last--
		}
		for i := 1; i <= last; i++ {
			b.WriteByte(0x1e)
			if seg.Name == "MSH" && (i == 7 || i == 10) {
				continue
			}
			for r, rep := range seg.Fields[i] {
				if r > 0 {
					b.WriteByte(0x1d)
				}
				for c, comp := range rep {
					if c > 0 {
						b.WriteByte(0x1c)
					}
					for s, sub := range comp {
						if s > 0 {
							b.WriteByte(0x1f)
						}
						b.WriteString(sub)
					}
				}
			}
		}
		b.WriteByte('\n')
		h.Write(b.Bytes())
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func fieldEmpty(f Field) bool {
	for _, rep := range f {
		for _, comp := range rep {
			for _, sub := range comp {
				if sub != "" {
					return false
				}
			}
		}
	}
	return true
}

// SourceKey is the de-duplication key of the order at index i (from 0) of a
// message with control ID controlID and content hash hash: "<MSH-10>@<hash>",
// with "#<i+1>" appended for the second and later orders. Two messages with
// the same control ID but different content get different keys, so neither
// is taken for a re-send of the other.
func SourceKey(controlID, hash string, i int) string {
	k := controlID + "@" + hash
	if i > 0 {
		k += "#" + itoa(i+1)
	}
	return k
}

func itoa(n int) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(buf[i:])
}
