package hl7

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
)

// Canonical MSH-18 character set names the hub reads and writes.
const (
	CharsetUTF8    = "UNICODE UTF-8"
	CharsetASCII   = "ASCII"
	Charset8859_1  = "8859/1"
	Charset8859_2  = "8859/2"
	Charset8859_15 = "8859/15"
	CharsetCP1250  = "CP1250"
	CharsetCP1252  = "CP1252"
)

// charsetSeparators spells "_" and " " in a character set's name as "-".
var charsetSeparators = strings.NewReplacer("_", "-", " ", "-")

// CanonicalCharset maps an MSH-18 value (HL7 table 0211 and the names sites
// really send) to the hub's canonical name. ok is false for an unknown set.
func CanonicalCharset(name string) (canon string, ok bool) {
	n := strings.ToUpper(strings.TrimSpace(name))
	n = charsetSeparators.Replace(n)
	switch n {
	case "", "ASCII", "US-ASCII":
		return CharsetASCII, true
	case "UNICODE-UTF-8", "UTF-8", "UTF8", "UNICODE":
		return CharsetUTF8, true
	case "8859/1", "ISO-8859-1", "ISO8859-1", "ISO-IR100", "LATIN1", "LATIN-1":
		return Charset8859_1, true
	case "8859/2", "ISO-8859-2", "ISO8859-2", "ISO-IR101", "LATIN2", "LATIN-2":
		return Charset8859_2, true
	case "8859/15", "ISO-8859-15", "ISO8859-15", "LATIN9":
		return Charset8859_15, true
	case "CP1250", "WINDOWS-1250", "WIN1250", "1250", "MS1250":
		return CharsetCP1250, true
	case "CP1252", "WINDOWS-1252", "WIN1252", "1252":
		return CharsetCP1252, true
	}
	return "", false
}

func encodingOf(canon string) encoding.Encoding {
	switch canon {
	case Charset8859_1:
		return charmap.ISO8859_1
	case Charset8859_2:
		return charmap.ISO8859_2
	case Charset8859_15:
		return charmap.ISO8859_15
	case CharsetCP1250:
		return charmap.Windows1250
	case CharsetCP1252:
		return charmap.Windows1252
	}
	return nil // UTF-8 and ASCII need no transformation
}

// charsetOf decides how the raw message is decoded: MSH-18 when present;
// otherwise UTF-8 when the bytes are valid UTF-8, else the default.
func charsetOf(data []byte, d Delimiters, validUTF8 bool, def string) (string, error) {
	line := data
	if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
		line = line[:i]
	}
	fields := bytes.Split(line, []byte{d.Field})
	raw := ""
	if len(fields) > 17 {
		raw = string(fields[17])
		if i := strings.IndexByte(raw, d.Repetition); i >= 0 {
			raw = raw[:i]
		}
		if i := strings.IndexByte(raw, d.Component); i >= 0 {
			raw = raw[:i]
		}
	}
	if strings.TrimSpace(raw) == "" {
		if validUTF8 {
			return CharsetUTF8, nil
		}
		if def == "" {
			return "", &Error{Pos: 1, Segment: "MSH", Seq: 1, Field: 18, Code: CodeTableValue, Reject: true,
				Problem: "MSH-18 names no character set and the message is not valid UTF-8; send MSH-18 (e.g. 8859/2) or configure the connection's default charset"}
		}
		canon, ok := CanonicalCharset(def)
		if !ok {
			return "", fmt.Errorf("hl7: configured default charset %q is not supported", def)
		}
		return canon, nil
	}
	canon, ok := CanonicalCharset(raw)
	if !ok {
		return "", &Error{Pos: 1, Segment: "MSH", Seq: 1, Field: 18, Code: CodeTableValue, Reject: true,
			Problem: fmt.Sprintf("unsupported character set %q in MSH-18 (supported: UNICODE UTF-8, 8859/1, 8859/2, 8859/15, CP1250, CP1252, ASCII)", truncate(raw, 40))}
	}
	if canon == CharsetUTF8 && !validUTF8 {
		// Declared UTF-8, written in another set (CP1250, 8859/2 …): read it
		// with the site's default when there is one (the message records
		// the disagreement), never as U+FFFD.
		if c, ok := CanonicalCharset(def); ok && def != "" && c != CharsetUTF8 {
			return c, nil
		}
		return "", &Error{Pos: 1, Segment: "MSH", Seq: 1, Field: 18, Code: CodeTableValue,
			Problem: fmt.Sprintf("MSH-18 declares UNICODE UTF-8 but the message is not valid UTF-8 (byte %d); send the character set it is written in (e.g. 8859/2 or CP1250) in MSH-18, or configure the connection's default charset", invalidUTF8At(data)+1)}
	}
	if canon == CharsetASCII && !validUTF8 && def != "" {
		// Declared ASCII but 8-bit bytes present: trust the site's default.
		if c, ok := CanonicalCharset(def); ok {
			return c, nil
		}
	}
	return canon, nil
}

// invalidUTF8At returns the offset of the first byte that is not UTF-8.
func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(data)
}

func decode(data []byte, canon string) (string, error) {
	enc := encodingOf(canon)
	if enc == nil {
		return string(bytes.ToValidUTF8(data, []byte("\uFFFD"))), nil
	}
	out, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// EncodeString encodes UTF-8 text into the named character set; characters
// the set cannot hold become '?'.
func EncodeString(s, charset string) ([]byte, error) {
	canon, ok := CanonicalCharset(charset)
	if !ok {
		return nil, fmt.Errorf("hl7: unsupported charset %q", charset)
	}
	enc := encodingOf(canon)
	if enc == nil {
		return []byte(s), nil
	}
	if !encodable(enc, '…') {
		s = strings.ReplaceAll(s, "…", "...") // a cut text (ACK MSA-3)
	}
	out, _, err := transform.Bytes(encoder(enc), []byte(s))
	return out, err
}

// encoder encodes into enc; a character enc cannot hold becomes '?'
// (x/text's own replacement is the control character SUB, 0x1A, which
// has no place in a message).
func encoder(enc encoding.Encoding) transform.Transformer {
	return transform.Chain(runes.Map(func(r rune) rune {
		if encodable(enc, r) {
			return r
		}
		return '?'
	}), enc.NewEncoder())
}

func encodable(enc encoding.Encoding, r rune) bool {
	if cm, ok := enc.(*charmap.Charmap); ok {
		_, ok := cm.EncodeRune(r)
		return ok && r != utf8.RuneError
	}
	return true
}

// encodingWriter wraps w so UTF-8 written to it reaches w in the charset.
func encodingWriter(w io.Writer, canon string) (io.Writer, func() error) {
	enc := encodingOf(canon)
	if enc == nil {
		return w, func() error { return nil }
	}
	tw := transform.NewWriter(w, encoder(enc))
	return tw, tw.Close
}
