package hl7

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.hl7"))
	more, _ := filepath.Glob(filepath.Join("testdata", "readable", "*.hl7"))
	files = append(files, more...)
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("MSH|^~\\&|A|B|C|D|20240101||ACK|X|P|2.5\rMSA|AA|M1\r"))
	f.Add([]byte("MSH#$*!%#A\nPID#1##X$$$Y%Z\n"))
	f.Add([]byte("MSH|^~\\&|||||||||||||||||\\X41\\\r"))
	f.Add([]byte("MSH|^~"))
	f.Add([]byte{})
}

// FuzzParse: the parser never panics, and what it accepts it can address.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			if _, ok := AsError(err); !ok {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			return
		}
		if len(m.Segments) == 0 || m.Segments[0].Name != "MSH" {
			t.Fatalf("accepted message without MSH first")
		}
		for _, s := range m.Segments {
			for i := 1; i <= s.NumFields(); i++ {
				_ = s.Text(i)
			}
		}
		_ = m.Get("PID-11[2].3")
		_ = HeaderOf(m)
	})
}

// FuzzMapOrder: mapping arbitrary messages never panics; errors are located.
func FuzzMapOrder(f *testing.F) {
	addSeeds(f)
	mp := NewMapper(MapOptions{WEDA: true, Now: func() time.Time { return fixedNow }, Parse: ParseOptions{DefaultCharset: "CP1250"}})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, orders, err := mp.Decode(data)
		if err != nil {
			if _, ok := AsError(err); !ok {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			ack, aerr := BuildAck(Ack{Request: ReadHeader(data), Code: AE, Errors: []*Error{mustErr(err)}, ControlID: "A"})
			if aerr != nil {
				t.Fatal(aerr)
			}
			if _, rerr := ReadAck(ack); rerr != nil {
				t.Fatalf("ACK does not read back: %v\n%q", rerr, ack)
			}
			return
		}
		if len(orders) == 0 || orders[0].Patient.ID == "" {
			t.Fatalf("order without patient accepted")
		}
		// With every ^ & ~ inside the values replaced, no value a person
		// sees holds one: the mapping never leaks a separator.
		msg, err := ParseWith(data, ParseOptions{DefaultCharset: "CP1250"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range msg.Segments {
			for i, f := range s.Fields {
				if s.Name == "MSH" && i <= 2 {
					continue
				}
				for _, r := range f {
					for _, c := range r {
						for j := range c {
							c[j] = strings.Map(noSeparator, c[j])
						}
					}
				}
			}
		}
		clean, err := mp.Orders(msg)
		if err != nil {
			t.Fatalf("sanitised message no longer maps: %v", err)
		}
		for _, o := range clean {
			if bad := separatorLeaks(o, nil); len(bad) > 0 {
				t.Fatalf("separators leak: %v", bad)
			}
		}
	})
}

func noSeparator(r rune) rune {
	if r == '^' || r == '&' || r == '~' {
		return '?'
	}
	return r
}

func mustErr(err error) *Error { e, _ := AsError(err); return e }

// FuzzReadAck: reading EHR answers never panics.
func FuzzReadAck(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ReadAck(data)
		_ = ReadHeader(data)
	})
}

// FuzzEscape: escaping then unescaping returns the text; escaped text holds
// no delimiter or framing byte.
func FuzzEscape(f *testing.F) {
	f.Add("a|b^c&d~e\\f\r\n\x0b\x1c")
	f.Add("Čšž")
	d := StandardDelimiters()
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s, d)
		for i := 0; i < len(e); i++ {
			if c := e[i]; c < 0x20 || c == '|' || c == '^' || c == '&' || c == '~' {
				t.Fatalf("escaped %q holds %q", e, c)
			}
		}
		want := s
		// CR LF and a lone CR both read back as one line break.
		want = strings.ReplaceAll(want, "\r\n", "\n")
		want = strings.ReplaceAll(want, "\r", "\n")
		if got := Unescape(e, d); got != want {
			t.Fatalf("round trip %q -> %q -> %q", s, e, got)
		}
	})
}

// FuzzParsePath: paths and times never panic.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"PID-5", "PID-11[2].3", "OBX(3)-5.1.2", "", "(-[."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParsePath(s)
		_, _ = ParseTime(s, time.UTC)
	})
}

// readableTypes are the data types and field keys FuzzReadable renders with.
var readableTypes = []string{"CE", "CNE", "CQ", "CWE", "CX", "DLN", "DT", "DTM", "EI", "EIP", "FC", "FT", "HD", "ID",
	"IS", "MSG", "NDL", "NM", "PL", "SI", "SPS", "ST", "TQ", "TS", "TX", "XAD", "XCN", "XON", "XPN", "XTN", "ZZZ",
	"PID-8", "PV1-2", "PV1-4", "ORC-1", "ORC-5", "OBR-5", "ORC-7.6", "ORC-7.4", "NTE-3", "PID-5", "PV1-3"}

// FuzzReadable: rendering any field value as any type never panics, stays
// within the display cap, is valid UTF-8 without control characters (line
// breaks in text types excepted), and shows no separator that the value
// did not hold as data: with every ^ & ~ inside the values replaced, the
// text holds none.
func FuzzReadable(f *testing.F) {
	for _, s := range []string{"Novak^Janez^^^dr.", "AMB^101^1", "^^^^^^^^Oak Ridge", "(217) 555-0100^PRN^PH",
		"12 Main St^^Springfield^IL^62701^US", "2054-5^Black^HL70005~x", "T1&Tech&Tom^20240101", "a\\S\\b\\T\\c",
		"20240704093015-0500", "^Q4H&0800^X3^2025^^A", "\\XC5A0\\\\.br\\", "&&&^^^~~~", "\\X00\\\x01\xff"} {
		for i := range readableTypes {
			f.Add(s, uint8(i))
		}
	}
	d := StandardDelimiters()
	loc := time.FixedZone("X", -5*3600)
	f.Fuzz(func(t *testing.T, raw string, which uint8) {
		what := readableTypes[int(which)%len(readableTypes)]
		render := func(fl Field) string {
			if strings.Contains(what, "-") {
				return FieldText(what, fl, loc)
			}
			return Readable(fl, DataType(what), loc)
		}
		field := parseField(raw, d)
		got := render(field)
		if n := utf8.RuneCountInString(got); n > MaxTextRunes {
			t.Fatalf("%s %q: %d runes", what, raw, n)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("%s %q: invalid UTF-8 %q", what, raw, got)
		}
		text := what == "FT" || what == "TX" || what == "ST" || what == "NTE-3"
		for _, r := range got {
			if (r < 0x20 || r == 0x7f) && !(r == '\n' && text) {
				t.Fatalf("%s %q: control character %q in %q", what, raw, r, got)
			}
		}
		for _, rep := range field {
			for _, c := range rep {
				for i := range c {
					c[i] = strings.Map(noSeparator, c[i])
				}
			}
		}
		if got := render(field); strings.ContainsAny(got, "^&~") {
			t.Fatalf("%s %q: separator in %q", what, raw, got)
		}
	})
}
