package catalogue

import "testing"

func TestThirteenProfiles(t *testing.T) {
	want := []string{"bestpractice", "birpis", "doctolib", "hipokrat", "iris", "isoz", "join", "nextgen", "tomedo", "vena", "webdoc", "weda", "ziplanerx"}
	got := IDs()
	if len(got) != len(want) {
		t.Fatalf("got %d profiles %v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("profile %d = %s, want %s", i, got[i], want[i])
		}
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		id      string
		format  Format
		in      Inbound
		wantErr bool
	}{
		{"birpis", FormatHL7, InMLLP, false},
		{"WEDA", FormatHL7, InHL7Files, false},
		{" tomedo ", FormatGDT, InGDTFiles, false},
		{"bestpractice", FormatJSON, InPull, false},
		{"medis", "", "", true},
	}
	for _, tc := range tests {
		p, err := Lookup(tc.id)
		if (err != nil) != tc.wantErr {
			t.Fatalf("Lookup(%q) err = %v", tc.id, err)
		}
		if err == nil && (p.Format != tc.format || p.Inbound != tc.in) {
			t.Fatalf("Lookup(%q) = %+v", tc.id, p)
		}
	}
}

func TestProfilesHaveDefaults(t *testing.T) {
	for _, p := range All() {
		switch p.Format {
		case FormatGDT:
			if p.GDT.EHRID == "" || p.GDT.HubID == "" || p.GDT.Version == "" || p.GDT.Charset == "" {
				t.Errorf("%s: GDT defaults missing: %+v", p.ID, p.GDT)
			}
			// The connection charset forces how inbound files are read; a
			// profile default must follow 9206 so that every encoding the
			// EHR offers (tomedo: UTF-8 or ISO-8859-15) is read.
			if p.GDT.Charset != "auto" {
				t.Errorf("%s: default GDT charset %q, want auto", p.ID, p.GDT.Charset)
			}
		case FormatHL7:
			if p.HL7.ReceivingApp == "" {
				t.Errorf("%s: HL7 defaults missing", p.ID)
			}
		}
	}
}
