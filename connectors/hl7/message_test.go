package hl7

import (
	"strings"
	"testing"
	"time"
)

func TestUnescape(t *testing.T) {
	t.Parallel()
	d := StandardDelimiters()
	tests := []struct{ in, want string }{
		{`plain`, `plain`},
		{`a\F\b`, `a|b`},
		{`a\S\b\T\c\R\d\E\e`, `a^b&c~d\e`},
		{`line1\.br\line2`, "line1\nline2"},
		{`\H\bold\N\`, `bold`},
		{`\X0D0A\`, "\r\n"},
		{`\XC5A0\`, "Š"},     // UTF-8 bytes
		{`\XE9\`, "é"},       // not UTF-8: read as Latin-1
		{`\Xzz\`, `\Xzz\`},   // bad hex kept
		{`\Zfoo\`, `\Zfoo\`}, // unknown kept
		{`open\F`, `open\F`}, // unterminated kept
		{`\.sp2\x`, "\nx"},
	}
	for _, tt := range tests {
		if got := Unescape(tt.in, d); got != tt.want {
			t.Errorf("Unescape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapeRoundTrip(t *testing.T) {
	t.Parallel()
	d := StandardDelimiters()
	for _, s := range []string{"a|b^c&d~e\\f", "Čšž äöü", "two\nlines", "ctl\x0b\x1cend", ""} {
		e := Escape(s, d)
		if strings.ContainsAny(e, "|^&~\x0b\x1c\r\n") {
			t.Errorf("Escape(%q) = %q still holds a delimiter or control byte", s, e)
		}
		if got := Unescape(e, d); got != s {
			t.Errorf("round trip %q -> %q -> %q", s, e, got)
		}
	}
	if got := Escape("a\r\nb", d); got != `a\.br\b` {
		t.Errorf("CRLF escaped as %q", got)
	}
}

func TestParseStructure(t *testing.T) {
	t.Parallel()
	// Custom delimiters: # field, $ component, * repetition, ! escape, % subcomponent.
	raw := "MSH#$*!%#APP#FAC\nPID#1##ID1$$$AUTH%X$MR*ID2#!F!x#\r\nOBX#1\rOBX#2#ST\r"
	m, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Delims.Field != '#' || m.Delims.Component != '$' || m.Delims.Escape != '!' {
		t.Fatalf("delimiters %+v", m.Delims)
	}
	checks := map[string]string{
		"MSH-1": "#", "MSH-2": "$*!%", "MSH-3": "APP", "MSH-4": "FAC",
		"PID-3": "ID1", "PID-3[1].4": "AUTH", "PID-3[1].4.2": "X", "PID-3[1].5": "MR",
		"PID-3[2].1": "ID2", "PID-3[3]": "", "PID-4": "#x", "OBX(2)-2": "ST", "OBX(3)-1": "", "PV1-1": "",
	}
	for p, want := range checks {
		if got := m.Get(p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	if n := len(m.All("OBX")); n != 2 {
		t.Errorf("OBX count %d", n)
	}
	if m.Segments[2].Seq != 1 || m.Segments[3].Seq != 2 || m.Segments[3].Pos != 4 {
		t.Errorf("positions: %+v %+v", m.Segments[2], m.Segments[3])
	}
}

func TestParsePath(t *testing.T) {
	t.Parallel()
	good := map[string]Path{
		"PID-5":        {"PID", 1, 5, 1, 1, 1},
		"PID-11[2].3":  {"PID", 1, 11, 2, 3, 1},
		"OBR-27.4":     {"OBR", 1, 27, 1, 4, 1},
		"OBX(3)-5.1.2": {"OBX", 3, 5, 1, 1, 2},
	}
	for in, want := range good {
		got, err := ParsePath(in)
		if err != nil || got != want {
			t.Errorf("ParsePath(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"PID", "pid-5", "PID-x", "PID-5[0]", "PID-0", "PID-1.2.3.4", "OBX(0)-1", "PID-5[2"} {
		if _, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) accepted", bad)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     string // substring of the error
		field    int
	}{
		{"empty", "", "does not start with MSH", 0},
		{"garbage", "\x00\x01\x02garbage", "does not start with MSH", 0},
		{"no MSH", "PID|1||123\r", "does not start with MSH", 0},
		{"short MSH", "MSH|^~", "too short", 2},
		{"bad encoding chars", "MSH|^~|APP\r", "4 encoding characters", 2},
		{"duplicate delimiter", "MSH|^^\\&|APP\r", "declared twice", 2},
		{"alnum delimiter", "MSH|^~\\A|APP\r", "not a printable non-alphanumeric", 2},
		{"no field after MSH-2", "MSH|^~\\&", "not followed by a field separator", 2},
		{"unknown charset", "MSH|^~\\&|A|B|C|D|20240101||ORM^O01|1|P|2.5|||||SI|KOI8-R\r", `unsupported character set "KOI8-R"`, 18},
		{"latin1 without MSH-18", "MSH|^~\\&|A|B|C|D|20240101||ORM^O01|1|P|2.5\rPID|1||1||M\xfcller\r", "not valid UTF-8", 18},
		{"bad segment id", "MSH|^~\\&|A\rpid|1\r", `segment 2: bad segment ID "pid"`, 0},
		{"second MSH", "MSH|^~\\&|A\rMSH|^~\\&|B\r", "MSH segment repeated", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want containing %q", err, tt.want)
			}
			e, ok := AsError(err)
			if !ok {
				t.Fatalf("not an *Error: %T", err)
			}
			if e.Field != tt.field {
				t.Errorf("field %d, want %d", e.Field, tt.field)
			}
		})
	}
}

func TestDefaultCharset(t *testing.T) {
	t.Parallel()
	raw := []byte("MSH|^~\\&|A|B|C|D|20240101||ORM^O01|1|P|2.5\rPID|1||1||\xa9ef\r") // 0xA9 = Š in 8859-2
	m, err := ParseWith(raw, ParseOptions{DefaultCharset: "8859/2"})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Get("PID-5"); got != "Šef" {
		t.Errorf("PID-5 = %q", got)
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	loc := time.FixedZone("CET", 3600)
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"2024", time.Date(2024, 1, 1, 0, 0, 0, 0, loc), false},
		{"20240315", time.Date(2024, 3, 15, 0, 0, 0, 0, loc), false},
		{"202403150830", time.Date(2024, 3, 15, 8, 30, 0, 0, loc), false},
		{"20240315083045.123", time.Date(2024, 3, 15, 8, 30, 45, 123e6, loc), false},
		{"20240315083045+0200", time.Date(2024, 3, 15, 6, 30, 45, 0, time.UTC), false},
		{"20240315083045-0500", time.Date(2024, 3, 15, 13, 30, 45, 0, time.UTC), false},
		{"20240230", time.Time{}, true},
		{"2024031", time.Time{}, true},
		{"20241315", time.Time{}, true},
		{"yesterday", time.Time{}, true},
		{"20240315+02", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, loc)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseTime(%q) accepted: %v", tt.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
