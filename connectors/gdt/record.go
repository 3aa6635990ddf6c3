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

// Parse reads one GDT record. Lines are read by their line ends; each
// line's length prefix must agree with it, counted in bytes or in
// characters and with CR LF or LF as the line end (real EHRs do each). The
// record must start with 8000; 8100 (when present) is checked against the
// record's size counted the same ways. Every field is kept in order.
//
// Read leniently, each with a warning on the record: LF-only line ends,
// prefixes counting characters or LF, a last line without its line end,
// empty lines, and an 8100 that disagrees with the file but does not
// promise more than the file holds. Refused, because a field could not be
// read for certain: a line that is not LLL FFFF content, a prefix that
// matches no counting, a CR inside a line, a second record, a file shorter
// than its 8100 however counted (truncated), content invalid in the
// charset.
func Parse(data []byte, opts ParseOptions) (*Record, error) {
	if len(data) == 0 {
		return nil, ErrEmpty
	}
	bom := bytes.HasPrefix(data, utf8BOM)
	if bom {
		data = data[len(utf8BOM):]
	}
	rec := &Record{}
	var raws []rawLine
	var lfLines, charLines, lfCounted, noEOLCounted, emptyLines []int
	noFinalEOL := false
	offsets := map[int]bool{} // prefix minus line (bytes, characters) of lines with a line end
	counts := map[int]bool{}  // the line ends the prefixes count: 2 CR LF, 1 LF
	// Sizes of the record as the writer may have counted it (8100).
	var crlfBytes, lfBytes, crlfChars, lfChars int
	rest := data
	for num := 1; len(rest) > 0; num++ {
		seg := rest
		eol := 0 // bytes of the line end as found: 2 CR LF, 1 LF, 0 none
		if j := bytes.IndexByte(rest, '\n'); j >= 0 {
			seg, rest = rest[:j], rest[j+1:]
			eol = 1
			if len(seg) > 0 && seg[len(seg)-1] == '\r' {
				seg = seg[:len(seg)-1]
				eol = 2
			}
		} else {
			rest = nil
		}
		if len(seg) == 0 {
			if eol > 0 {
				emptyLines = append(emptyLines, num)
			}
			continue
		}
		if _, ok := digits(seg[:min(3, len(seg))]); ok && eol == 0 && len(seg) < 7 {
			return nil, &Error{Line: num, Msg: fmt.Sprintf("truncated: %d bytes left at end of file, no complete line", len(seg))}
		}
		if len(seg) < 3 {
			return nil, &Error{Line: num, Msg: fmt.Sprintf("line of %d bytes is too short for a length prefix and a field ID", len(seg))}
		}
		n, ok := digits(seg[:3])
		if !ok {
			return nil, &Error{Line: num, Msg: fmt.Sprintf("length prefix %s is not 3 digits (not a GDT file, binary content, or free text the hub cannot assign to a field)", quoteBytes(seg[:3]))}
		}
		if n < lineOverhead-1 {
			return nil, &Error{Line: num, Msg: fmt.Sprintf("length prefix %03d is shorter than the minimum of %d bytes", n, lineOverhead)}
		}
		if len(seg) < 7 {
			return nil, &Error{Line: num, Msg: fmt.Sprintf("line of %d bytes is too short for a length prefix and a field ID", len(seg))}
		}
		id := string(seg[3:7])
		if _, ok := digits(seg[3:7]); !ok {
			return nil, &Error{Line: num, Msg: fmt.Sprintf("field ID %s is not 4 digits", quoteBytes(seg[3:7]))}
		}
		if id == FieldRecordType && len(raws) > 0 {
			return nil, &Error{Line: num, Field: id, Msg: "a second record starts here; one record per file expected"}
		}
		content := seg[7:]
		if bytes.IndexByte(content, '\r') >= 0 {
			return nil, &Error{Line: num, Field: id, Msg: "stray CR inside the line"}
		}
		b := 7 + len(content)
		c := b
		if utf8.Valid(content) {
			c = 7 + utf8.RuneCount(content)
		}
		crlfBytes, lfBytes, crlfChars, lfChars = crlfBytes+b+2, lfBytes+b+1, crlfChars+c+2, lfChars+c+1
		if eol == 0 && len(raws) > 0 && !offsets[n-b] && !offsets[n-c] {
			// The last line lacks its line end: its prefix must count the
			// line end as the other lines do, or a line cut short by one
			// character would pass for one whose CR LF is missing.
			return nil, &Error{Line: num, Field: id, Msg: fmt.Sprintf("truncated: length prefix says %d bytes, the line has %d and no line end", n, len(seg))}
		}
		if eol > 0 {
			offsets[n-b], offsets[n-c] = true, true
		}
		switch {
		case n == b+2 || n == b+1:
			if n == b+1 && eol != 1 {
				lfCounted = append(lfCounted, num)
			}
			counts[n-b] = true
		case n == c+2 || n == c+1:
			charLines = append(charLines, num)
			counts[n-c] = true
		case n == b || n == c:
			noEOLCounted = append(noEOLCounted, num)
		case eol == 0 && n > b+2:
			return nil, &Error{Line: num, Field: id, Msg: fmt.Sprintf("truncated: length prefix says %d bytes, only %d left in file and no CR LF", n, len(seg))}
		default:
			hint := ""
			if eol == 1 {
				hint = " (line ends with LF only)"
			}
			return nil, &Error{Line: num, Field: id, Msg: fmt.Sprintf("wrong line length: prefix says %d bytes, line has %d%s", n, len(seg)+eol, hint)}
		}
		switch eol {
		case 1:
			lfLines = append(lfLines, num)
		case 0:
			noFinalEOL = true
		}
		raws = append(raws, rawLine{num: num, id: id, content: content})
	}
	if len(raws) == 0 {
		return nil, &Error{Msg: "no GDT lines, only line ends"}
	}
	if raws[0].id != FieldRecordType {
		for _, l := range raws {
			if l.id == FieldRecordType {
				return nil, &Error{Line: 1, Field: raws[0].id, Msg: "record must start with field 8000 (record type)"}
			}
		}
		return nil, &Error{Line: 1, Field: raws[0].id, Msg: "no record type (8000): record must start with field 8000"}
	}
	if len(lfLines) > 0 {
		rec.Warnings = append(rec.Warnings, fmt.Sprintf("%s end with LF only; GDT wants CR LF (read by their line ends)", lineList(lfLines)))
	}
	if len(lfCounted) > 0 {
		rec.Warnings = append(rec.Warnings, fmt.Sprintf("length prefixes of %s count LF, not CR LF, as the line end", lineList(lfCounted)))
	}
	if len(noEOLCounted) > 0 {
		rec.Warnings = append(rec.Warnings, fmt.Sprintf("length prefixes of %s do not count the line end", lineList(noEOLCounted)))
	}
	if len(charLines) > 0 {
		rec.Warnings = append(rec.Warnings, fmt.Sprintf("length prefixes of %s count characters, not bytes", lineList(charLines)))
	}
	if noFinalEOL {
		rec.Warnings = append(rec.Warnings, "the last line has no line end")
	}
	if len(emptyLines) > 0 {
		rec.Warnings = append(rec.Warnings, fmt.Sprintf("empty %s ignored", lineList(emptyLines)))
	}
	// 8100: total bytes from the first byte of 8000 to the last line end.
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
		// The sizes the writer may have meant: as the file is, and counted
		// the way its own prefixes count (not every way: a file cut short
		// at a line end must not pass for one with another count).
		sizes := []int{len(data)}
		if counts[2] {
			sizes = append(sizes, crlfBytes)
		}
		if counts[1] {
			sizes = append(sizes, lfBytes)
		}
		if len(charLines) > 0 && counts[2] {
			sizes = append(sizes, crlfChars)
		}
		if len(charLines) > 0 && counts[1] {
			sizes = append(sizes, lfChars)
		}
		if bom {
			sizes = append(sizes, len(data)+len(utf8BOM))
		}
		match, most := false, 0
		for _, sz := range sizes {
			match = match || sz == want
			most = max(most, sz)
		}
		switch {
		case match:
		case want > most:
			return nil, &Error{Line: l.num, Field: l.id, Msg: fmt.Sprintf("record length mismatch: 8100 says %d bytes, record has %d: file is shorter than declared (truncated?)", want, len(data))}
		default:
			w := fmt.Sprintf("8100 says %d, file has %d", want, len(data))
			if crlfBytes != len(data) {
				w += fmt.Sprintf(" (%d with CR LF line ends)", crlfBytes)
			}
			rec.Warnings = append(rec.Warnings, w)
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
		cs = detect(data, code, version, bom, rec)
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

// lineList names line numbers for a warning: "line 3", "lines 1-24",
// "lines 10, 14".
func lineList(nums []int) string {
	if len(nums) == 1 {
		return fmt.Sprintf("line %d", nums[0])
	}
	contiguous := nums[len(nums)-1]-nums[0] == len(nums)-1
	if contiguous {
		return fmt.Sprintf("lines %d-%d", nums[0], nums[len(nums)-1])
	}
	parts := make([]string, 0, min(len(nums), 6))
	for i, n := range nums {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("… (%d lines)", len(nums)))
			break
		}
		parts = append(parts, strconv.Itoa(n))
	}
	return "lines " + strings.Join(parts, ", ")
}

// charsetOfCode is the charset 9206 names in a GDT version ("" unknown).
func charsetOfCode(code, version string) Charset {
	cs, ok := CharsetFromCode(code)
	if !ok {
		return ""
	}
	if cs == CharsetWindows1252 && strings.HasPrefix(version, "03") {
		return CharsetISO885915
	}
	return cs
}

// detect picks the charset for CharsetAuto. In GDT 3.x, 9206=3 is
// ISO 8859-15 (Š š Ž ž Œ œ Ÿ € differ from ISO 8859-1); in 2.x it is
// ISO 8859-1, read as Windows-1252 (its superset as EHRs write it).
func detect(data []byte, code, version string, bom bool, rec *Record) Charset {
	declared := charsetOfCode(code, version)
	known := declared != ""
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
// SplitText first. Characters the charset lacks are transliterated (Š as
// S; '?' only where no letter is near), each named in r.Warnings.
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
		b, replaced, err := encode(cs, l.Value)
		if err != nil {
			return nil, &Error{Field: l.ID, Msg: err.Error()}
		}
		if len(replaced) > 0 {
			r.Warnings = append(r.Warnings, fmt.Sprintf("field %s: charset %s lacks %s (written as the nearest letters)", l.ID, cs, strings.Join(replaced, ", ")))
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
