package gdt

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestParseLenient: framing real EHRs get wrong is read, each oddity named
// in a warning that also reaches the order (Meta[MetaWarnings]).
func TestParseLenient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		warnings []string          // substrings, each in some warning
		fields   map[string]string // field -> value
		charset  Charset
	}{
		{file: "lenient_lf_only.gdt", warnings: []string{"lines 1-25 end with LF only"},
			fields: map[string]string{"3101": "Müller", "3000": "100234"}, charset: CharsetCP437},
		{file: "lenient_lf_counted.gdt", warnings: []string{"end with LF only"},
			fields: map[string]string{"3101": "Öztürk", "3102": "Ayşe"}, charset: CharsetUTF8},
		{file: "lenient_chars_counted.gdt", warnings: []string{"count characters, not bytes", "end with LF only"},
			fields: map[string]string{"3101": "Öztürk", "2998": "Knöchel-Arm-Index"}, charset: CharsetUTF8},
		{file: "lenient_8100_smaller.gdt", warnings: []string{"8100 says 413, file has 417"},
			fields: map[string]string{"3000": "100234"}},
		{file: "lenient_no_final_eol.gdt", warnings: []string{"the last line has no line end"},
			fields: map[string]string{"6201": "093000"}},
		{file: "lenient_empty_last_line.gdt", warnings: []string{"empty line 26 ignored"},
			fields: map[string]string{"6201": "093000"}},
		{file: "gdt30_9206-3_iso8859-15.gdt", fields: map[string]string{"3101": "Šuštar", "3102": "Žarko", "6227": "Zuzahlung 10 €"},
			charset: CharsetISO885915},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			raw := readTestdata(t, tt.file)
			if err := CheckOrderType(raw); err != nil {
				t.Fatalf("record type: %v", err)
			}
			rec, err := Parse(raw, ParseOptions{})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			for _, w := range tt.warnings {
				if !strings.Contains(strings.Join(rec.Warnings, "\n"), w) {
					t.Errorf("no warning %q in %q", w, rec.Warnings)
				}
			}
			if len(tt.warnings) == 0 && len(rec.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", rec.Warnings)
			}
			if tt.charset != "" && rec.Charset != tt.charset {
				t.Errorf("charset %s, want %s", rec.Charset, tt.charset)
			}
			for id, want := range tt.fields {
				if got, _ := rec.Get(id); got != want {
					t.Errorf("field %s = %q, want %q", id, got, want)
				}
			}
			msg, err := MapOrder(rec, raw, MapOptions{Now: fixedNow})
			if err != nil {
				t.Fatalf("map: %v", err)
			}
			if got := msg.Order.Meta[MetaWarnings]; got != strings.Join(rec.Warnings, "; ") {
				t.Errorf("order warnings %q, want %q", got, rec.Warnings)
			}
		})
	}
}

// TestLastLineCutShort: a last line without its line end is read only
// when its prefix counts the line end as the other lines do; otherwise it
// may be a line cut short by one character.
func TestLastLineCutShort(t *testing.T) {
	t.Parallel()
	lf := "01280006302\n0113000123\n0163101Testfrau\n" // prefixes count LF
	if _, err := Parse([]byte(lf[:len(lf)-1]), ParseOptions{}); err != nil {
		t.Errorf("LF-counted file without its last LF: %v", err)
	}
	cut := lf[:len(lf)-2] // "Testfra": the prefix 016 would fit it with CR LF
	_, err := Parse([]byte(cut), ParseOptions{})
	if err == nil || !strings.Contains(err.Error(), "line 3 (field 3101): truncated") {
		t.Errorf("last line cut short by a character: %v", err)
	}
}

// TestLFFileCutShortAtALineEnd: an LF file whose prefixes and 8100 count
// LF, with its last line missing, is refused as truncated (its size counted
// with CR LF would exceed the 8100, but that is not how it counts).
func TestLFFileCutShortAtALineEnd(t *testing.T) {
	t.Parallel()
	lines := []string{"01280006302\n", "", "0113000123\n", "0163101Testfrau\n", "0123102Anna\n"}
	for i := 0; i < 8; i++ {
		lines = append(lines, "0096227x\n") // more lines than the last one has bytes
	}
	lines = append(lines, "0093110M\n")
	total := 0
	for _, l := range lines {
		total += len(l)
	}
	lines[1] = fmt.Sprintf("0138100%05d\n", total+13)
	whole := strings.Join(lines, "")
	if _, err := Parse([]byte(whole), ParseOptions{}); err != nil {
		t.Fatalf("whole file: %v", err)
	}
	cut := strings.TrimSuffix(whole, lines[len(lines)-1])
	_, err := Parse([]byte(cut), ParseOptions{})
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("file without its last line: %v", err)
	}
}

// TestCheckOrderTypeFirst: a file that is not an order is refused for its
// record type, even when its framing is broken too.
func TestCheckOrderTypeFirst(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string
		want string
	}{
		{"6310 with wrong line lengths", "01380006310\r\n0198315WRONGLEN\r\n", "line 1 (field 8000): record type 6310 is a result, not an order"},
		{"6100 after a 9206 line, LF only", "01092063\n01380006100\n0193101M\xfcller\n", "line 2 (field 8000): record type 6100 (patient master data (BDT)) is not an order"},
		{"no 8000, characters counted", "0113000123\n0153101Müller\n", "no record type (8000)"},
		{"binary: left to Parse", "\x00\x01\x02\x03\x04\x05\x06\x07", ""},
		{"order", "01380006302\r\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckOrderType([]byte(tt.data))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			var ue *UnsupportedRecordError
			var pe *Error
			if !errors.As(err, &ue) && !errors.As(err, &pe) {
				t.Errorf("error %T is neither *UnsupportedRecordError nor *Error", err)
			}
		})
	}
}
