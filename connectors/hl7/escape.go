package hl7

import (
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// Unescape resolves the escape sequences of one ER7 value: \F\ \S\ \T\ \R\
// \E\ become the delimiters, \Xhh..\ the bytes hh.. (read as UTF-8, or as
// Latin-1 when they are not valid UTF-8), \.br\ and \.sp\ a line break; the
// highlighting escapes \H\ and \N\ are dropped. An unknown or unterminated
// sequence is kept as it stands.
func Unescape(s string, d Delimiters) string {
	if strings.IndexByte(s, d.Escape) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != d.Escape {
			b.WriteByte(c)
			i++
			continue
		}
		j := strings.IndexByte(s[i+1:], d.Escape)
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		seq := s[i+1 : i+1+j]
		next := i + j + 2
		switch {
		case seq == "F":
			b.WriteByte(d.Field)
		case seq == "S":
			b.WriteByte(d.Component)
		case seq == "T":
			b.WriteByte(d.Subcomponent)
		case seq == "R":
			b.WriteByte(d.Repetition)
		case seq == "E":
			b.WriteByte(d.Escape)
		case seq == "H" || seq == "N":
			// highlighting on/off: no meaning in plain text
		case seq == ".br" || strings.HasPrefix(seq, ".sp"):
			b.WriteByte('\n')
		case len(seq) > 1 && seq[0] == 'X' && len(seq)%2 == 1:
			raw, err := hex.DecodeString(seq[1:])
			if err != nil {
				b.WriteString(s[i:next])
				break
			}
			if utf8.Valid(raw) {
				b.Write(raw)
			} else {
				for _, r := range raw {
					b.WriteRune(rune(r))
				}
			}
		default:
			if seq == "" {
				// "\\" is not a valid sequence: keep both characters.
				b.WriteString(s[i:next])
				break
			}
			b.WriteString(s[i:next])
		}
		i = next
	}
	return b.String()
}

// Escape escapes one value for ER7 with the given delimiters: delimiters
// become \F\ \S\ \T\ \R\ \E\, a line break \.br\, and other control
// characters \Xhh\ (so no value can carry MLLP framing bytes).
func Escape(s string, d Delimiters) string {
	if !needsEscape(s, d) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	esc := string(d.Escape)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == d.Escape:
			b.WriteString(esc + "E" + esc)
		case c == d.Field:
			b.WriteString(esc + "F" + esc)
		case c == d.Component:
			b.WriteString(esc + "S" + esc)
		case c == d.Subcomponent:
			b.WriteString(esc + "T" + esc)
		case c == d.Repetition:
			b.WriteString(esc + "R" + esc)
		case c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			// CR LF: one line break
		case c == '\n' || c == '\r':
			b.WriteString(esc + ".br" + esc)
		case c < 0x20 || c == 0x7f:
			b.WriteString(esc + "X" + strings.ToUpper(hex.EncodeToString([]byte{c})) + esc)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func needsEscape(s string, d Delimiters) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c == d.Escape || c == d.Field || c == d.Component || c == d.Subcomponent || c == d.Repetition {
			return true
		}
	}
	return false
}
