package setup

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestDocumentEdits(t *testing.T) {
	d, err := parseDocument([]byte(`{"ehr":"weda","a":{"n":5,"b":true,"list":["x","y"],"s":"keyring:kept"},"m":{"k.dot":"v"}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func()
		key  string
		want string
	}{
		{"number stays a number", func() { d.setText("a.n", "7") }, "a.n", "7"},
		{"list from lines", func() { d.setList("a.list", "1.2.3.4\n\n 5.6.7.8 ") }, "a.list", "1.2.3.4\n5.6.7.8"},
		{"new nested key", func() { d.set("a.c.d", "e") }, "a.c.d", "e"},
		{"secret keeps its reference name", func() { d.setSecret("a.s", "v1") }, "a.s", "keyring:kept"},
		{"new secret gets a name of the EHR and key", func() { d.setSecret("a.t", "v2") }, "a.t", "keyring:weda-a-t"},
	}
	for _, tc := range tests {
		tc.edit()
		if got := d.text(tc.key); got != tc.want {
			t.Errorf("%s: %s = %q, want %q", tc.name, tc.key, got, tc.want)
		}
	}
	names, values := d.pendingSecrets()
	if len(names) != 2 || names[0] != "kept" || values[0] != "v1" || names[1] != "weda-a-t" {
		t.Fatalf("pending %v %v", names, values)
	}
	d.setSecret("a.s", "")
	if names, _ := d.pendingSecrets(); len(names) != 1 {
		t.Fatal("an emptied secret field is still pending")
	}
	b, _ := d.marshal()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["a"].(map[string]any)["n"] != 7.0 {
		t.Fatalf("n = %v", m["a"].(map[string]any)["n"])
	}
	leaves := d.leaves("a")
	if len(leaves) != 6 { // b c.d list n s t
		t.Fatalf("leaves %v", leaves)
	}
	if got := problemField("hl7.whitelist[2]"); got != "hl7.whitelist" {
		t.Fatal(got)
	}
	for _, bad := range []string{``, `[]`, `null`, `{"a":`} {
		if _, err := parseDocument([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzDocument: any input either fails to parse or round-trips through
// marshal to a document with the same leaves.
func FuzzDocument(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, _ := os.ReadFile(name)
		f.Add(b)
	}
	f.Add([]byte(`{"a":{"b":[1,"x"],"c":1e400}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseDocument(b)
		if err != nil {
			return
		}
		out, err := d.marshal()
		if err != nil {
			t.Fatal(err)
		}
		d2, err := parseDocument(out)
		if err != nil {
			t.Fatalf("marshal output does not parse: %v", err)
		}
		for k := range d.root {
			if len(d.leaves(k)) != len(d2.leaves(k)) {
				t.Fatalf("leaves of %s differ", k)
			}
		}
	})
}
