package update

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testKey signs the tests' feeds; otherKey stands for anyone else.
var (
	testKey  = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	otherKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	testKeys = []ed25519.PublicKey{testKey.Public().(ed25519.PublicKey)}
)

func readManifest(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "manifests", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signed(t testing.TB, manifest []byte, priv ed25519.PrivateKey) []byte {
	t.Helper()
	feed, err := signRaw(manifest, priv)
	if err != nil {
		t.Fatal(err)
	}
	return feed
}

func TestParseManifests(t *testing.T) {
	tests := []struct {
		file    string
		version string // when valid
		problem string // in the error otherwise
	}{
		{"good-minimal.json", "1.2.0", ""},
		{"good-languages.json", "v2.0.0-rc.1", ""},
		{"bad-product.json", "", `manifest.product: "mtablet" is not "mconnect-hub"`},
		{"bad-version.json", "", `manifest.version: "1.2" is not a version`},
		{"bad-date.json", "", `manifest.date: "01.12.2026" is not a date`},
		{"bad-no-english.json", "", `manifest.notes: the English ("en") notes are missing`},
		{"bad-language.json", "", `manifest.notes: "english!" is not a language code`},
		{"bad-http-url.json", "", `manifest.url: "http://u.example.com/s.exe" is not an https address`},
		{"bad-sha256.json", "", `manifest.sha256: "abc" is not 64 hex digits`},
		{"bad-unknown-key.json", "", `manifest: unknown field "install"`},
		{"bad-notes-type.json", "", `manifest: notes: expected map[string]string, found string`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := Parse(signed(t, readManifest(t, tt.file), testKey), testKeys)
			if tt.problem == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if m.Version != tt.version || m.Notes["en"] == "" {
					t.Fatalf("manifest = %+v", m)
				}
				return
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.problem) {
				t.Fatalf("Parse error = %v, want ErrCorrupt with %q", err, tt.problem)
			}
		})
	}
}

func TestParseFeedDocument(t *testing.T) {
	good := readManifest(t, "good-minimal.json")
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(testKey, good))
	tampered := bytes.Replace(good, []byte("1.2.0"), []byte("1.2.1"), 1)
	tests := []struct {
		name string
		doc  string
		want error
		text string
	}{
		{"other key", string(signed(t, good, otherKey)), ErrSignature, "does not verify with the release key"},
		{"manifest changed after signing", `{"manifest":` + string(tampered) + `,"signature":"` + sig + `"}`, ErrSignature, "release key"},
		{"manifest re-formatted", `{"manifest": ` + strings.ReplaceAll(string(good), `":"`, `": "`) + `, "signature":"` + sig + `"}`, ErrSignature, "release key"},
		{"signature not base64", `{"manifest":` + string(good) + `,"signature":"%%%"}`, ErrCorrupt, "signature: not 64 bytes of base64"},
		{"signature too short", `{"manifest":` + string(good) + `,"signature":"AAAA"}`, ErrCorrupt, "signature: not 64 bytes"},
		{"no manifest", `{"signature":"` + sig + `"}`, ErrCorrupt, "manifest: missing"},
		{"null manifest", `{"manifest":null,"signature":"` + sig + `"}`, ErrCorrupt, "manifest: missing"},
		{"unknown key", `{"manifest":` + string(good) + `,"signature":"` + sig + `","key":"x"}`, ErrCorrupt, `unknown field "key"`},
		{"truncated", string(signed(t, good, testKey)[:80]), ErrCorrupt, "malformed"},
		{"trailing content", string(signed(t, good, testKey)) + `{}`, ErrCorrupt, "content after the JSON object"},
		{"not JSON", "<html>captive portal</html>", ErrCorrupt, "offset 1"},
		{"empty", "", ErrCorrupt, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), testKeys)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Parse error = %v, want %v with %q", err, tt.want, tt.text)
			}
		})
	}
}

func TestParseAcceptsAnyOfTheKeys(t *testing.T) {
	feed := signed(t, readManifest(t, "good-minimal.json"), otherKey)
	keys := append([]ed25519.PublicKey{}, testKeys...)
	if _, err := Parse(feed, keys); !errors.Is(err, ErrSignature) {
		t.Fatalf("with the test key only: %v", err)
	}
	keys = append(keys, otherKey.Public().(ed25519.PublicKey))
	if _, err := Parse(feed, keys); err != nil {
		t.Fatalf("with both keys (a key being replaced): %v", err)
	}
}

func TestSignChecksAndRoundTrips(t *testing.T) {
	m, err := Parse(signed(t, readManifest(t, "good-languages.json"), testKey), testKeys)
	if err != nil {
		t.Fatal(err)
	}
	feed, err := Sign(m, testKey)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(feed, testKeys)
	if err != nil {
		t.Fatalf("Parse(Sign(m)): %v\n%s", err, feed)
	}
	if back.Version != m.Version || back.Notes["pt-BR"] != m.Notes["pt-BR"] || back.SHA256 != m.SHA256 {
		t.Fatalf("round trip: %+v != %+v", back, m)
	}
	m.URL = "ftp://u.example.com/s.exe"
	if _, err := Sign(m, testKey); err == nil || !strings.Contains(err.Error(), "manifest.url") {
		t.Fatalf("Sign of a bad manifest: %v", err)
	}
}

func TestCompiledInReleaseKeyIsValid(t *testing.T) {
	if len(releaseKeys) == 0 {
		t.Fatal("no release key compiled in")
	}
	feed := signed(t, readManifest(t, "good-minimal.json"), testKey)
	if _, err := Parse(feed, releaseKeys); !errors.Is(err, ErrSignature) {
		t.Fatalf("a feed signed with the test key verified with the release key: %v", err)
	}
}
