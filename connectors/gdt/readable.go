package gdt

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTextRunes caps a readable value; a longer one is cut and ends in "…".
const MaxTextRunes = 500

// dateFields hold a date as DDMMYYYY (TTMMJJJJ).
var dateFields = map[string]bool{FieldBirthDate: true, FieldDate: true, FieldTestDate: true}

// timeFields hold a time of day as HHMMSS or HHMM.
var timeFields = map[string]bool{FieldTime: true, FieldTestTime: true}

// sexWords are the meanings of 3110: GDT 2.1 1 male, 2 female (3 diverse
// seen); GDT 3.x M, W, D diverse, U unknown, X indeterminate.
var sexWords = map[string]string{
	"1": "male", "2": "female", "3": "diverse",
	"M": "male", "W": "female", "F": "female", "D": "diverse", "U": "unknown", "X": "indeterminate",
}

// charsetWords are the meanings of 9206.
var charsetWords = map[string]string{
	"1": "7-bit ASCII (DIN 66003)", "2": "IBM CP437", "3": "ISO 8859-1 (ANSI)", "4": "ISO 8859-15",
}

// deviceWords are the device/procedure codes (8402) the GDT sources
// define; LUFU01, LUFU02 ... are all lung function.
var deviceWords = map[string]string{
	"EKG01": "Resting ECG", "EKG04": "Holter ECG", "BDM01": "24-hour blood pressure", "ERGO01": "Stress ECG",
}

// FieldText renders the value of GDT field id for people: dates (3103,
// 6200, 8432: DDMMYYYY) as 2006-01-02 like the HL7 side, times (6201, 8439)
// as 15:04 or 15:04:05, the sex (3110) in words, a known device code (8402)
// as "Resting ECG (EKG01)", the charset (9206) and record type (8000) by
// name, height (3622) in cm and weight (3623) in kg. Anything else, and a
// value that does not read as its field's kind, is its text with control
// characters and runs of spaces made one space. The result is cut to
// MaxTextRunes.
func FieldText(id, value string) string {
	v := clean(value)
	if v == "" {
		return ""
	}
	switch {
	case dateFields[id]:
		if d, err := ParseDate(v); err == nil {
			return d
		}
	case timeFields[id]:
		if t, ok := clockText(v); ok {
			return t
		}
	case id == FieldSex:
		if w, ok := sexWords[strings.ToUpper(v)]; ok {
			return w
		}
	case id == FieldDeviceCode:
		if w := deviceWord(v); w != "" {
			return w + " (" + v + ")"
		}
	case id == FieldCharset:
		if w, ok := charsetWords[v]; ok {
			return w
		}
	case id == FieldRecordType:
		if n := RecordTypeName(v); n != "" {
			return strings.ToUpper(n[:1]) + n[1:] + " (" + v + ")"
		}
	case id == FieldHeight && isNumber(v):
		return v + " cm"
	case id == FieldWeight && isNumber(v):
		return v + " kg"
	}
	return shorten(v, MaxTextRunes)
}

func deviceWord(code string) string {
	c := strings.ToUpper(code)
	if w, ok := deviceWords[c]; ok {
		return w
	}
	if rest, ok := strings.CutPrefix(c, "LUFU"); ok && len(rest) == 2 && isDigits(rest) {
		return "Lung function"
	}
	return ""
}

// clockText reads HHMMSS or HHMM: "09:30", with seconds when not zero.
func clockText(s string) (string, bool) {
	if (len(s) != 4 && len(s) != 6) || !isDigits(s) {
		return "", false
	}
	if s[:2] > "23" || s[2:4] > "59" || (len(s) == 6 && s[4:] > "59") {
		return "", false
	}
	if len(s) == 6 && s[4:] != "00" {
		return s[:2] + ":" + s[2:4] + ":" + s[4:], true
	}
	return s[:2] + ":" + s[2:4], true
}

// isNumber reports whether s is a decimal number ("168", "61.5", "61,5").
func isNumber(s string) bool {
	sep := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case (c == '.' || c == ',') && !sep && i > 0 && i < len(s)-1:
			sep = true
		default:
			return false
		}
	}
	return s != ""
}

// clean trims s and turns runs of white space and control characters into
// one space.
func clean(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// shorten cuts s to at most n runes, marking the cut with "…".
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i < len(s) && count < n-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	return strings.TrimRightFunc(s[:i], unicode.IsSpace) + "…"
}
