package hl7

import "testing"

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
