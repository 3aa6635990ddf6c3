package gdt

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of the line format.
const (
	// MaxLineBytes is the longest line the 3-digit length prefix allows.
	MaxLineBytes = 999
	// lineOverhead is length prefix + field ID + CR LF.
	lineOverhead = 3 + 4 + 2
	// MaxContentBytes is the longest encoded field content on one line.
	MaxContentBytes = MaxLineBytes - lineOverhead
)

// Field IDs the codec itself relies on.
const (
	FieldRecordType  = "8000"
	FieldRecordBytes = "8100"
	FieldCharset     = "9206"
	FieldVersion     = "9218"
)

// Versions written in 9218.
const (
	Version21 = "02.10"
	Version30 = "03.00"
)

// Line is one field of a record, in file order.
type Line struct {
	// Num is the 1-based line number in the file (0 for lines built in memory).
	Num int
	// ID is the 4-digit field ID ("3101").
	ID string
	// Value is the decoded content.
	Value string
}

// Record is one GDT record (one file): its lines in order, unknown ones included.
type Record struct {
	Lines []Line
	// Charset is the charset the content was decoded with (or is to be encoded with).
	Charset Charset
	// Warnings are oddities that did not stop parsing (missing 8100 in 2.1,
	// 9206 disagreeing with the bytes).
	Warnings []string
}

// Type returns the record type (8000).
func (r *Record) Type() string { v, _ := r.Get(FieldRecordType); return v }

// Version returns 9218 ("02.10", "03.00"), "" when absent.
func (r *Record) Version() string { v, _ := r.Get(FieldVersion); return v }

// Get returns the first value of the field.
func (r *Record) Get(id string) (string, bool) {
	for _, l := range r.Lines {
		if l.ID == id {
			return l.Value, true
		}
	}
	return "", false
}

// Line returns the first line of the field.
func (r *Record) Line(id string) (Line, bool) {
	for _, l := range r.Lines {
		if l.ID == id {
			return l, true
		}
	}
	return Line{}, false
}

// All returns every value of a repeated field, in order.
func (r *Record) All(id string) []string {
	var out []string
	for _, l := range r.Lines {
		if l.ID == id {
			out = append(out, l.Value)
		}
	}
	return out
}

// Add appends a field (nothing is added for an empty value).
func (r *Record) Add(id, value string) {
	if value == "" {
		return
	}
	r.Lines = append(r.Lines, Line{ID: id, Value: value})
}

// ParseOptions control reading.
type ParseOptions struct {
	// Charset forces a charset; "" or CharsetAuto decides by 9206 and by
	// looking at the bytes (valid UTF-8 wins when 9206 is absent or disagrees).
	Charset Charset
}

// Error is a parse error located in the file. Its text never quotes field
// content, which may hold patient data.
type Error struct {
	Line  int    // 1-based, 0 when the problem concerns the whole file
	Field string // field ID when known
	Msg   string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Field != "":
		return fmt.Sprintf("gdt: line %d (field %s): %s", e.Line, e.Field, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("gdt: line %d: %s", e.Line, e.Msg)
	case e.Field != "":
		return fmt.Sprintf("gdt: field %s: %s", e.Field, e.Msg)
	}
	return "gdt: " + e.Msg
}

// ErrEmpty is returned for a file with no bytes.
var ErrEmpty = errors.New("gdt: empty file")

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

type rawLine struct {
	num     int
	id      string
	content []byte
}

// Parse reads one GDT record. It checks every line's length prefix against
// its encoded byte count, that the record starts with 8000, that 8100 (when
// present) equals the record's byte count, and that the content is valid in
// the charset. Every field is kept in order.
func Parse(data []byte, opts ParseOptions) (*Record, error) {
	if len(data) == 0 {
		return nil, ErrEmpty
	}
	bom := bytes.HasPrefix(data, utf8BOM)
	if bom {
		data = data[len(utf8BOM):]
	}
	var raws []rawLine
	rest := data
	for num := 1; len(rest) > 0; num++ {
		if len(rest) < 3 {
			return nil, &Error{Line: num, Msg: fmt.Sprintf("truncated: %d bytes left at end of file, no complete line", len(rest))}
		}
		n, ok := digits(rest[:3])
		if !ok {
			return nil, &Error{Line: num, Msg: fmt.Sprintf("length prefix %s is not 3 digits (not a GDT file or binary content)", quoteBytes(rest[:3]))}
		}
		if n < lineOverhead {
			return nil, &Error{Line: num, Msg: fmt.Sprintf("length prefix %03d is shorter than the minimum of %d bytes", n, lineOverhead)}
		}
		nl := bytes.IndexByte(rest, '\n')
		if n > len(rest) {
			if nl < 0 {
				return nil, &Error{Line: num, Msg: fmt.Sprintf("truncated: length prefix says %d bytes, only %d left in file and no CR LF", n, len(rest))}
			}
		}
		if nl < 0 {
			return nil, &Error{Line: num, Msg: "truncated: line does not end with CR LF"}
		}
		actual := nl + 1
		if actual != n {
			id := ""
			if len(rest) >= 7 {
				if _, ok := digits(rest[3:7]); ok {
					id = string(rest[3:7])
				}
			}
			hint := ""
			if nl > 0 && rest[nl-1] != '\r' {
				hint = " (line ends with LF only; GDT wants CR LF)"
			}
			return nil, &Error{Line: num, Field: id, Msg: fmt.Sprintf("wrong line length: prefix says %d bytes, line has %d%s", n, actual, hint)}
		}
		line := rest[:n]
		rest = rest[n:]
		if line[n-2] != '\r' {
			return nil, &Error{Line: num, Msg: "line ends with LF only; GDT wants CR LF"}
		}
		if _, ok := digits(line[3:7]); !ok {
			return nil, &Error{Line: num, Msg: fmt.Sprintf("field ID %s is not 4 digits", quoteBytes(line[3:7]))}
		}
		content := line[7 : n-2]
		if i := bytes.IndexAny(content, "\r\n"); i >= 0 {
			return nil, &Error{Line: num, Field: string(line[3:7]), Msg: "stray CR inside the line"}
		}
		raws = append(raws, rawLine{num: num, id: string(line[3:7]), content: content})
	}
	if raws[0].id != FieldRecordType {
		return nil, &Error{Line: 1, Field: raws[0].id, Msg: "record must start with field 8000 (record type)"}
	}
	for _, l := range raws[1:] {
		if l.id == FieldRecordType {
			return nil, &Error{Line: l.num, Field: l.id, Msg: "a second record starts here; one record per file expected"}
		}
	}
	rec := &Record{}
	// 8100: total bytes from the first byte of 8000 to the last CR LF.
	var has8100 bool
	for _, l := range raws {
		if l.id != FieldRecordBytes {
			continue
		}
		has8100 = true
		want, ok := digits(l.content)
		if !ok || len(l.content) == 0 || len(l.content) > 7 {
			return nil, &Error{Line: l.num, Field: l.id, Msg: fmt.Sprintf("record length %s is not a number of up to 7 digits", quoteBytes(l.content))}
		}
		if want != len(data) {
			kind := "file is longer than declared"
			if len(data) < want {
				kind = "file is shorter than declared (truncated?)"
			}
			return nil, &Error{Line: l.num, Field: l.id, Msg: fmt.Sprintf("record length mismatch: 8100 says %d bytes, record has %d: %s", want, len(data), kind)}
		}
		break
	}
	code := ""
	for _, l := range raws {
		if l.id == FieldCharset {
			code = strings.TrimSpace(string(l.content))
			break
		}
	}
	version := ""
	for _, l := range raws {
		if l.id == FieldVersion {
			version = strings.TrimSpace(string(l.content))
			break
		}
	}
	if !has8100 && strings.HasPrefix(version, "02") {
		rec.Warnings = append(rec.Warnings, "field 8100 (record length) missing; it is mandatory in GDT 2.x")
	}
	cs := opts.Charset
	if cs == "" {
		cs = CharsetAuto
	}
	if cs == CharsetAuto {
		cs = detect(data, code, bom, rec)
	}
	rec.Charset = cs
	rec.Lines = make([]Line, 0, len(raws))
	for _, l := range raws {
		v, err := decode(cs, l.content)
		if err != nil {
			return nil, &Error{Line: l.num, Field: l.id, Msg: err.Error()}
		}
		rec.Lines = append(rec.Lines, Line{Num: l.num, ID: l.id, Value: v})
	}
	return rec, nil
}

// detect picks the charset for CharsetAuto.
func detect(data []byte, code string, bom bool, rec *Record) Charset {
	declared, known := CharsetFromCode(code)
	if code != "" && !known {
		rec.Warnings = append(rec.Warnings, fmt.Sprintf("field 9206 has unknown charset code %q", code))
	}
	high := false
	for _, b := range data {
		if b >= 0x80 {
			high = true
			break
		}
	}
	if bom || (high && utf8.Valid(data)) {
		if known {
			rec.Warnings = append(rec.Warnings, fmt.Sprintf("field 9206 says charset %s but the content is valid UTF-8; read as UTF-8", declared))
		}
		return CharsetUTF8
	}
	if known {
		return declared
	}
	return CharsetCP437
}

// Complete reports whether data looks like a whole GDT record: it ends with
// CR LF and, when it has a well-formed 8100 line, the byte count matches.
// With no 8100 it returns false and the caller waits for a quiet period.
// Watchers use it to hand a file over before its quiet period ends.
func Complete(data []byte) bool {
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(data) < 2 || !bytes.HasSuffix(data, []byte("\r\n")) {
		return false
	}
	// 8100 is the second line in practice; look in the first few lines only.
	rest := data
	for i := 0; i < 4 && len(rest) >= lineOverhead; i++ {
		n, ok := digits(rest[:3])
		if !ok || n < lineOverhead || n > len(rest) {
			return false
		}
		if string(rest[3:7]) == FieldRecordBytes {
			want, ok := digits(rest[7 : n-2])
			return ok && want == len(data)
		}
		rest = rest[n:]
	}
	return false
}

// EncodeOptions control writing.
type EncodeOptions struct {
	// Charset to write in; "" or CharsetAuto means CP437 (the GDT default).
	Charset Charset
	// Without8100 leaves out the record-length line (allowed in 3.0).
	Without8100 bool
}

// Encode writes the record. The first line must be 8000; an 8100 line is
// (re)computed and placed second unless Without8100. 9206 lines are written
// as given: callers set them to match the charset. Values must fit one line
// (MaxContentBytes encoded bytes) and hold no CR or LF; split long text with
// SplitText first. Characters the charset lacks are written as '?'.
func Encode(r *Record, opts EncodeOptions) ([]byte, error) {
	cs := opts.Charset
	if cs == "" || cs == CharsetAuto {
		cs = CharsetCP437
	}
	if len(r.Lines) == 0 || r.Lines[0].ID != FieldRecordType {
		return nil, &Error{Field: FieldRecordType, Msg: "record must start with field 8000"}
	}
	var body bytes.Buffer
	var first []byte
	for i, l := range r.Lines {
		if l.ID == FieldRecordBytes {
			continue
		}
		if len(l.ID) != 4 {
			return nil, &Error{Field: l.ID, Msg: "field ID must be 4 digits"}
		}
		if _, ok := digits([]byte(l.ID)); !ok {
			return nil, &Error{Field: l.ID, Msg: "field ID must be 4 digits"}
		}
		if strings.ContainsAny(l.Value, "\r\n") {
			return nil, &Error{Field: l.ID, Msg: "value holds a line break; split it into repeated fields"}
		}
		b, _, err := encode(cs, l.Value)
		if err != nil {
			return nil, &Error{Field: l.ID, Msg: err.Error()}
		}
		if len(b) > MaxContentBytes {
			return nil, &Error{Field: l.ID, Msg: fmt.Sprintf("value is %d bytes encoded, more than the %d a line can hold", len(b), MaxContentBytes)}
		}
		var dst *bytes.Buffer = &body
		if i == 0 {
			var fb bytes.Buffer
			writeLine(&fb, l.ID, b)
			first = fb.Bytes()
			continue
		}
		writeLine(dst, l.ID, b)
	}
	out := make([]byte, 0, len(first)+body.Len()+16)
	out = append(out, first...)
	if !opts.Without8100 {
		total := len(first) + body.Len()
		width := 5
		for {
			lineLen := lineOverhead + width
			if n := total + lineLen; n < pow10(width) {
				var lb bytes.Buffer
				writeLine(&lb, FieldRecordBytes, []byte(fmt.Sprintf("%0*d", width, n)))
				out = append(out, lb.Bytes()...)
				break
			}
			width++
			if width > 7 {
				return nil, &Error{Field: FieldRecordBytes, Msg: fmt.Sprintf("record of %d bytes is too large for 8100", total)}
			}
		}
	}
	out = append(out, body.Bytes()...)
	return out, nil
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

func writeLine(w *bytes.Buffer, id string, content []byte) {
	n := lineOverhead + len(content)
	w.WriteString(strconv.Itoa(n/100%10) + strconv.Itoa(n/10%10) + strconv.Itoa(n%10))
	w.WriteString(id)
	w.Write(content)
	w.WriteString("\r\n")
}

// SplitText breaks text into pieces of at most max characters whose encoded
// form fits a line, at line breaks first and then at spaces where possible.
// Empty paragraphs are kept as a single space so the layout survives.
func SplitText(s string, max int) []string {
	if max <= 0 || max > MaxContentBytes/4 {
		max = MaxContentBytes / 4 // a UTF-8 rune is at most 4 bytes
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimRight(s, "\n ")
	if s == "" {
		return nil
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		para = strings.TrimRight(para, " ")
		if para == "" {
			out = append(out, " ")
			continue
		}
		runes := []rune(para)
		for len(runes) > max {
			cut := max
			for i := max; i > max/2; i-- {
				if runes[i] == ' ' {
					cut = i
					break
				}
			}
			out = append(out, strings.TrimRight(string(runes[:cut]), " "))
			runes = runes[cut:]
			for len(runes) > 0 && runes[0] == ' ' {
				runes = runes[1:]
			}
		}
		if len(runes) > 0 {
			out = append(out, string(runes))
		}
	}
	return out
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// quoteBytes shows a few raw bytes safely in an error message.
func quoteBytes(b []byte) string {
	if len(b) > 8 {
		b = b[:8]
	}
	return strconv.QuoteToASCII(string(b))
}
