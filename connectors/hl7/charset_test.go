package hl7

import (
	"bytes"
	"testing"
	"time"
)

// A character the target set cannot hold is written as '?', never as the
// control character SUB (0x1A); a cut text's "…" as "..." where the set has
// no ellipsis.
func TestEncodeStringUnsupported(t *testing.T) {
	for _, c := range []struct{ in, charset, want string }{
		{"Žan", "8859/1", "?an"},
		{"Žan", "8859/2", "\xaean"},
		{"CA (ca…", "8859/1", "CA (ca..."},
		{"CA (ca…", "CP1252", "CA (ca\x85"},
		{"日本", "8859/15", "??"},
		{"Müller", "UNICODE UTF-8", "Müller"},
	} {
		got, err := EncodeString(c.in, c.charset)
		if err != nil {
			t.Fatalf("%q in %s: %v", c.in, c.charset, err)
		}
		if string(got) != c.want {
			t.Errorf("%q in %s: %q, want %q", c.in, c.charset, got, c.want)
		}
	}
}

// An ORU in 8859/2 (the order's charset) with an interpretation holding
// letters 8859/2 lacks: they are '?', and no byte is a control character
// other than the segment ends.
func TestORUUnsupportedLetters(t *testing.T) {
	out := sampleOutgoing(t, "birpis_orm.hl7", false)
	out.Result.Interpretation = "Normalen EKG… 日本 čšž"
	var buf bytes.Buffer
	if err := WriteORU(&buf, out, nil, ORUOptions{ControlID: "ORU1", Now: time.Date(2024, 3, 15, 9, 10, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	for i, b := range buf.Bytes() {
		if b < ' ' && b != '\r' {
			t.Fatalf("byte %d is control character %#x: %q", i, b, buf.Bytes()[max(0, i-20):i+1])
		}
	}
	m, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for _, obx := range m.All("OBX") {
		if obx.C(3, 1) == "INTERP" {
			got = obx.Text(5)
		}
	}
	if got != "Normalen EKG? ?? čšž" {
		t.Errorf("interpretation read back %q", got)
	}
}
