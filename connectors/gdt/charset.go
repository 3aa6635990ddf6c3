package gdt

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// Charset names the byte encoding of a GDT file.
type Charset string

// Charsets. The GDT field 9206 names the first four by number; UTF-8 has no
// number but tomedo's GDT export writes it by default.
const (
	// CharsetAuto decodes by 9206 (CP437 when absent) unless the file is
	// valid UTF-8 with non-ASCII bytes, which then wins. Only for reading.
	CharsetAuto Charset = "auto"
	// CharsetDIN66003 is 9206=1: 7-bit German ISO 646 ([ \ ] { | } ~ @ are
	// Ä Ö Ü ä ö ü ß §).
	CharsetDIN66003 Charset = "din66003"
	// CharsetCP437 is 9206=2, the GDT default: IBM PC code page 437.
	CharsetCP437 Charset = "cp437"
	// CharsetWindows1252 is 9206=3, "ISO 8859-1 (ANSI)", read as Windows-1252.
	CharsetWindows1252 Charset = "windows-1252"
	// CharsetISO885915 is 9206=4, required by GDT 3.5.
	CharsetISO885915 Charset = "iso-8859-15"
	// CharsetUTF8 is UTF-8 (no 9206 code; 9206 is left out when writing it).
	CharsetUTF8 Charset = "utf-8"
)

// ParseCharset accepts a charset name as written in a config file
// ("cp437", "IBM437", "utf8", "ISO-8859-15", "1" ... "4", "auto").
func ParseCharset(s string) (Charset, error) {
	switch strings.ToLower(strings.TrimSpace(strings.ReplaceAll(s, "_", "-"))) {
	case "", "auto":
		return CharsetAuto, nil
	case "din66003", "din-66003", "7bit", "7-bit", "1":
		return CharsetDIN66003, nil
	case "cp437", "ibm437", "ibm-437", "437", "2":
		return CharsetCP437, nil
	case "windows-1252", "cp1252", "ansi", "iso-8859-1", "latin1", "latin-1", "3":
		return CharsetWindows1252, nil
	case "iso-8859-15", "iso8859-15", "latin9", "latin-9", "4":
		return CharsetISO885915, nil
	case "utf-8", "utf8":
		return CharsetUTF8, nil
	}
	return "", fmt.Errorf("gdt: unknown charset %q (want auto, din66003, cp437, windows-1252, iso-8859-15 or utf-8)", s)
}

// CharsetFromCode maps a 9206 value to a charset.
func CharsetFromCode(code string) (Charset, bool) {
	switch strings.TrimSpace(code) {
	case "1":
		return CharsetDIN66003, true
	case "2":
		return CharsetCP437, true
	case "3":
		return CharsetWindows1252, true
	case "4":
		return CharsetISO885915, true
	}
	return "", false
}

// Code returns the 9206 value for the charset, "" for UTF-8 (which has none).
func (c Charset) Code() string {
	switch c {
	case CharsetDIN66003:
		return "1"
	case CharsetCP437:
		return "2"
	case CharsetWindows1252:
		return "3"
	case CharsetISO885915:
		return "4"
	}
	return ""
}

// din66003 maps the German ISO 646 variant's national positions.
var din66003Dec = map[byte]rune{
	'@': '§', '[': 'Ä', '\\': 'Ö', ']': 'Ü', '{': 'ä', '|': 'ö', '}': 'ü', '~': 'ß',
}

// decode turns the bytes of one field's content into a string. It fails on
// bytes the charset cannot hold (8-bit bytes in a 7-bit file, invalid UTF-8).
func decode(c Charset, b []byte) (string, error) {
	ascii := true
	for _, x := range b {
		if x >= 0x80 {
			ascii = false
			break
		}
	}
	switch c {
	case CharsetDIN66003:
		var sb strings.Builder
		for i, x := range b {
			if x >= 0x80 {
				return "", fmt.Errorf("byte 0x%02X at offset %d is not 7-bit (charset DIN 66003, 9206=1)", x, i)
			}
			if r, ok := din66003Dec[x]; ok {
				sb.WriteRune(r)
			} else {
				sb.WriteByte(x)
			}
		}
		return sb.String(), nil
	case CharsetUTF8:
		if !utf8.Valid(b) {
			i := firstInvalidUTF8(b)
			return "", fmt.Errorf("invalid UTF-8 byte 0x%02X at offset %d (charset utf-8)", b[i], i)
		}
		return string(b), nil
	}
	if ascii {
		return string(b), nil
	}
	cm := charmapOf(c)
	if cm == nil {
		return "", fmt.Errorf("charset %q cannot be decoded", c)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for _, x := range b {
		if x < 0x80 {
			sb.WriteByte(x)
		} else {
			sb.WriteRune(cm.DecodeByte(x))
		}
	}
	return sb.String(), nil
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return 0
}

func charmapOf(c Charset) *charmap.Charmap {
	switch c {
	case CharsetCP437:
		return charmap.CodePage437
	case CharsetWindows1252:
		return charmap.Windows1252
	case CharsetISO885915:
		return charmap.ISO8859_15
	}
	return nil
}

// encode turns s into bytes of the charset. A character the charset
// cannot hold is transliterated (Š as S, ß as ss, € as EUR) and, when even
// that is impossible, written as '?'; each is reported in replaced
// ("Š as S") so callers can warn. Nothing is replaced silently.
func encode(c Charset, s string) (out []byte, replaced []string, err error) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	var one func(r rune) (byte, bool)
	switch c {
	case CharsetUTF8:
		if !utf8.ValidString(s) {
			return nil, nil, fmt.Errorf("value is not valid UTF-8")
		}
		return []byte(s), nil, nil
	case CharsetDIN66003:
		one = func(r rune) (byte, bool) {
			if b, ok := din66003Enc[r]; ok {
				return b, true
			}
			switch r {
			case '@', '[', '\\', ']', '{', '|', '}', '~':
				return 0, false // these ASCII characters do not exist in DIN 66003
			}
			return byte(r), r < 0x80
		}
	default:
		if ascii {
			return []byte(s), nil, nil
		}
		cm := charmapOf(c)
		if cm == nil {
			return nil, nil, fmt.Errorf("charset %q cannot be encoded", c)
		}
		one = func(r rune) (byte, bool) {
			if r < 0x80 {
				return byte(r), true
			}
			return cm.EncodeRune(r)
		}
	}
	out = make([]byte, 0, len(s))
	for _, r := range s {
		if b, ok := one(r); ok {
			out = append(out, b)
			continue
		}
		t := transliterate(r, func(x rune) bool { _, ok := one(x); return ok })
		if t == "" {
			t = "?"
		}
		for _, x := range t {
			b, _ := one(x)
			out = append(out, b)
		}
		replaced = append(replaced, string(r)+" as "+t)
	}
	return out, replaced, nil
}

var din66003Enc = map[rune]byte{'§': '@', 'Ä': '[', 'Ö': '\\', 'Ü': ']', 'ä': '{', 'ö': '|', 'ü': '}', 'ß': '~'}

// translitTable holds the letters and signs that do not decompose into a
// base letter and accents.
var translitTable = map[rune]string{
	'ß': "ss", 'ẞ': "SS", 'Æ': "AE", 'æ': "ae", 'Œ': "OE", 'œ': "oe", 'Ø': "O", 'ø': "o",
	'Ł': "L", 'ł': "l", 'Đ': "D", 'đ': "d", 'Þ': "Th", 'þ': "th", 'ı': "i", 'Ŀ': "L", 'ŀ': "l",
	'€': "EUR", '–': "-", '—': "-", '‘': "'", '’': "'", '‚': ",", '“': "\"", '”': "\"", '„': "\"",
	'…': "...", '\u00a0': " ", '§': "S.", '°': "o",
}

// transliterate writes r with characters can holds: a letter without its
// accents (Š as S, ő as o), or as in translitTable; "" when impossible.
func transliterate(r rune, can func(rune) bool) string {
	all := func(t string) bool {
		for _, x := range t {
			if !can(x) {
				return false
			}
		}
		return t != ""
	}
	if t, ok := translitTable[r]; ok && all(t) {
		return t
	}
	var b strings.Builder
	for _, x := range norm.NFD.String(string(r)) {
		if unicode.Is(unicode.Mn, x) {
			continue // a combining accent
		}
		b.WriteRune(x)
	}
	if t := b.String(); t != string(r) && all(t) {
		return t
	}
	return ""
}
