package update

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary documents to Parse: it must not panic, and a
// feed it accepts must pass Check and verify again once re-signed.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "manifests", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(signed(f, b, testKey))
	}
	f.Add([]byte(`{"manifest":{},"signature":""}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		m, err := Parse(doc, testKeys)
		if err != nil {
			return
		}
		if err := m.Check(); err != nil {
			t.Fatalf("accepted a manifest that fails Check: %v", err)
		}
		again, err := Sign(m, testKey)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(again, testKeys); err != nil {
			t.Fatalf("re-signed feed: %v", err)
		}
	})
}

// FuzzManifest signs arbitrary manifest bytes, so that the manifest's
// decoding and checks are reached past the signature.
func FuzzManifest(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "manifests", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, manifest []byte) {
		feed, err := signRaw(manifest, testKey)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(feed, testKeys)
		if err != nil {
			return
		}
		if _, err := ParseVersion(m.Version); err != nil {
			t.Fatalf("accepted version %q: %v", m.Version, err)
		}
	})
}
