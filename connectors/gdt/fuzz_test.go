package gdt

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// addSeeds adds every testdata/*.gdt file (good and bad) as a seed.
func addSeeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.gdt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParse checks that no input panics the parser, the order mapping, the
// result reader or Complete, and that whatever parses re-encodes to a record
// that parses to the same fields.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = Complete(data)
		_ = CheckOrderType(data)
		rec, err := Parse(data, ParseOptions{})
		if err != nil {
			if rec != nil {
				t.Fatal("record and error")
			}
			return
		}
		if len(rec.Lines) == 0 || rec.Lines[0].ID != FieldRecordType {
			t.Fatal("parsed record does not start with 8000")
		}
		if msg, err := MapOrder(rec, data, MapOptions{}); err == nil {
			if err := CheckOrderType(data); err != nil {
				t.Fatalf("maps to an order of type %q but the record type check refuses it: %v", rec.Type(), err)
			}
			for _, fl := range msg.Order.Fields {
				if strings.TrimFunc(fl.Value, blank) != "" && fl.Text == "" {
					t.Fatalf("field %s %q has no text", fl.Key, fl.Value)
				}
				if utf8.RuneCountInString(fl.Text) > MaxTextRunes {
					t.Fatalf("field %s text over the cap", fl.Key)
				}
			}
		}
		_, _ = ReadResult(rec, time.UTC)
		switch rec.Charset {
		case CharsetUTF8, CharsetCP437, CharsetDIN66003:
		default:
			return // not every byte of these charsets maps back one to one
		}
		if rec.Charset == CharsetDIN66003 {
			return // '[' and 'Ä' are the same byte
		}
		out, err := Encode(rec, EncodeOptions{Charset: rec.Charset})
		if err != nil {
			return // e.g. a field too long once 8100 grows; not a parser bug
		}
		again, err := Parse(out, ParseOptions{Charset: rec.Charset})
		if err != nil {
			t.Fatalf("re-encoded record does not parse: %v", err)
		}
		a, b := without8100(rec.Lines), without8100(again.Lines)
		if len(a) != len(b) {
			t.Fatalf("%d lines, %d after round trip", len(a), len(b))
		}
		for i := range a {
			if a[i].ID != b[i].ID || a[i].Value != b[i].Value {
				t.Fatalf("line %d: %+v became %+v", i, a[i], b[i])
			}
		}
	})
}

// FuzzParseLenient: a record that parses strictly (CR LF everywhere, no
// warning) still parses to the same fields after what real transfers do to
// it — CRs lost, the last line end lost, an empty line added at the end —
// with a warning naming it.
func FuzzParseLenient(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.gdt"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			for mode := uint8(0); mode < 4; mode++ {
				f.Add(b, mode)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		rec, err := Parse(data, ParseOptions{})
		if err != nil || len(rec.Warnings) > 0 || rec.Charset != CharsetCP437 && rec.Charset != CharsetUTF8 {
			return
		}
		if bytes.Count(data, []byte("\n")) != bytes.Count(data, []byte("\r\n")) || !bytes.HasSuffix(data, []byte("\r\n")) {
			return
		}
		changed := data
		switch mode % 4 {
		case 0:
			changed = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
		case 1:
			changed = data[:len(data)-2]
		case 2:
			changed = bytes.ReplaceAll(data[:len(data)-2], []byte("\r\n"), []byte("\n"))
		case 3:
			changed = append(append([]byte(nil), data...), "\r\n"...)
		}
		again, err := Parse(changed, ParseOptions{Charset: rec.Charset})
		if err != nil {
			t.Fatalf("mode %d: %v", mode%4, err)
		}
		if len(again.Warnings) == 0 {
			t.Fatalf("mode %d: read without a warning", mode%4)
		}
		if len(again.Lines) != len(rec.Lines) {
			t.Fatalf("mode %d: %d lines, %d before", mode%4, len(again.Lines), len(rec.Lines))
		}
		for i := range rec.Lines {
			if rec.Lines[i].ID != again.Lines[i].ID || rec.Lines[i].Value != again.Lines[i].Value {
				t.Fatalf("mode %d: line %d: %+v became %+v", mode%4, i, rec.Lines[i], again.Lines[i])
			}
		}
	})
}

// FuzzCharsetDecode checks every charset's decoder on arbitrary content.
func FuzzCharsetDecode(f *testing.F) {
	f.Add([]byte("M\x81ller"), uint8(0))
	f.Add([]byte("M}ller"), uint8(1))
	f.Add([]byte("Gr\xc3\xb6\xc3\x9fe"), uint8(4))
	charsets := []Charset{CharsetCP437, CharsetDIN66003, CharsetWindows1252, CharsetISO885915, CharsetUTF8}
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		cs := charsets[int(which)%len(charsets)]
		s, err := decode(cs, b)
		if err != nil {
			return
		}
		if _, _, err := encode(cs, s); err != nil {
			t.Fatalf("decoded %s text does not encode: %v", cs, err)
		}
	})
}

func without8100(ls []Line) []Line {
	var out []Line
	for _, l := range ls {
		if l.ID != FieldRecordBytes {
			out = append(out, l)
		}
	}
	return out
}

// FuzzFieldText: the readable text of any value of any field never panics,
// is valid UTF-8 within the cap, holds no control character and no ^ & ~
// the value did not hold.
func FuzzFieldText(f *testing.F) {
	ids := []string{FieldBirthDate, FieldDate, FieldTestDate, FieldTime, FieldTestTime, FieldSex, FieldDeviceCode,
		FieldCharset, FieldRecordType, FieldHeight, FieldWeight, FieldFindings, "0000"}
	for _, v := range []string{"07031961", "093015", "W", "LUFU01", "6302", "61,5", "a\x00b  c", "\xff\xfe", "^&~"} {
		for i := range ids {
			f.Add(uint8(i), v)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		id := ids[int(which)%len(ids)]
		got := FieldText(id, value)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > MaxTextRunes {
			t.Fatalf("%s %q: %q invalid or over the cap", id, value, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("%s %q: control character in %q", id, value, got)
			}
		}
		for _, sep := range []string{"^", "&", "~"} {
			if strings.Count(got, sep) > strings.Count(value, sep) {
				t.Fatalf("%s %q: %q adds %s", id, value, got, sep)
			}
		}
		if strings.TrimFunc(value, blank) != "" && got == "" {
			t.Fatalf("%s %q: no text", id, value)
		}
	})
}

func blank(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }
