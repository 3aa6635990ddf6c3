package hl7

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.hl7"))
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
	})
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
