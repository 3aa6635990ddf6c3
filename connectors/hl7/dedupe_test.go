package hl7

import "testing"

func TestContentHash(t *testing.T) {
	t.Parallel()
	base := "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120000||ORM^O01|M9|P|2.5\rPID|1||P1||Doe^Jane\rORC|NW|A1\r"
	tests := []struct {
		name string
		msg  string
		same bool
	}{
		{"identical", base, true},
		{"other MSH-7", "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120500||ORM^O01|M9|P|2.5\rPID|1||P1||Doe^Jane\rORC|NW|A1\r", true},
		{"other MSH-10", "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120000||ORM^O01|M10|P|2.5\rPID|1||P1||Doe^Jane\rORC|NW|A1\r", true},
		{"LF terminators, trailing empty fields", "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120000||ORM^O01|M9|P|2.5||\nPID|1||P1||Doe^Jane|||\nORC|NW|A1\n", true},
		{"other patient name", "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120000||ORM^O01|M9|P|2.5\rPID|1||P1||Doe^Joan\rORC|NW|A1\r", false},
		{"component moved", "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120000||ORM^O01|M9|P|2.5\rPID|1||P1||Doe|Jane\rORC|NW|A1\r", false},
		{"other action", "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120000||ORM^O01|M9|P|2.5\rPID|1||P1||Doe^Jane\rORC|CA|A1\r", false},
	}
	parse := func(s string) *Message {
		m, err := Parse([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	want := ContentHash(parse(base))
	if len(want) != 32 {
		t.Fatalf("hash %q is not 32 hex digits", want)
	}
	for _, tt := range tests {
		if got := ContentHash(parse(tt.msg)); (got == want) != tt.same {
			t.Errorf("%s: hash %s vs %s, want same=%v", tt.name, got, want, tt.same)
		}
	}
	if k := SourceKey("31808297", want, 0); k != "31808297@"+want {
		t.Errorf("key of the first order %q", k)
	}
	if k := SourceKey("31808297", want, 11); k != "31808297@"+want+"#12" {
		t.Errorf("key of the 12th order %q", k)
	}
}

// TestContentHashIsStable pins the hash of a message: it is part of the
// stored de-duplication keys, so a message sent again after an update of
// the hub must hash as before.
func TestContentHashIsStable(t *testing.T) {
	m, err := Parse([]byte("MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120000||ORM^O01|M9|P|2.5\rPID|1||P1^^^H~P2||Doe^Jane&Ann||19800101|F\rORC|NW|A1\rOBR|1|A1||ECG^EKG\r"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ContentHash(m), "8f1c558f897c44e0415dd92b64966eb7"; got != want {
		t.Errorf("ContentHash = %s; want %s (the stored de-duplication keys depend on it)", got, want)
	}
}
