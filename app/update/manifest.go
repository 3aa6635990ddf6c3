// Package update tells the hub that a newer version of mCONNECT Hub is
// available. It reads the update feed (an HTTPS JSON document holding a
// manifest and its Ed25519 signature), at most once a day, and keeps the
// newest correctly signed version that is newer than the running one. It
// never downloads or installs anything: people decide, from the tray or
// the About box, with the download address and checksum of the manifest.
//
// A feed whose signature does not verify with the release key compiled in,
// whose manifest is malformed, or which offers a version older than the one
// running (or than one already announced) is ignored and logged.
package update

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Product is the manifest's product name: a manifest signed for another
// product with the same key is refused.
const Product = "mconnect-hub"

// MaxFeedBytes is the largest feed document read.
const MaxFeedBytes = 64 << 10

// maxNoteRunes bounds one language's release notes.
const maxNoteRunes = 4000

// Errors of a feed, wrapped with the place and the problem.
var (
	// ErrCorrupt: the feed or its manifest is not what this version reads.
	ErrCorrupt = errors.New("update feed is malformed")
	// ErrSignature: the signature does not verify with the release key.
	ErrSignature = errors.New("update feed signature does not verify")
	// ErrDowngrade: the feed offers a version older than one known.
	ErrDowngrade = errors.New("update feed offers an older version")
)

// Manifest describes one release.
type Manifest struct {
	Product string `json:"product"`
	// Version is MAJOR.MINOR.PATCH with an optional -prerelease.
	Version string `json:"version"`
	// Date is the release date, YYYY-MM-DD.
	Date string `json:"date"`
	// Notes are the release notes by language ("en" required, "de", "sl" …).
	Notes map[string]string `json:"notes"`
	// URL is where people download the installer (https).
	URL string `json:"url"`
	// SHA256 is the installer's SHA-256, 64 hex digits.
	SHA256 string `json:"sha256"`
}

// Feed is the document served at the feed address: the manifest exactly as
// signed, and the Ed25519 signature of those bytes (standard base64). The
// manifest's bytes are verified as served: re-formatting the file breaks
// the signature.
type Feed struct {
	Manifest  json.RawMessage `json:"manifest"`
	Signature string          `json:"signature"`
}

// Parse reads a feed document, verifies its signature with one of keys and
// checks the manifest. Errors wrap ErrCorrupt or ErrSignature and say what
// is wrong where.
func Parse(data []byte, keys []ed25519.PublicKey) (Manifest, error) {
	var f Feed
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Manifest{}, fmt.Errorf("%w: %v", ErrCorrupt, jsonProblem(err))
	}
	if dec.More() {
		return Manifest{}, fmt.Errorf("%w: content after the JSON object", ErrCorrupt)
	}
	if len(f.Manifest) == 0 || string(f.Manifest) == "null" {
		return Manifest{}, fmt.Errorf("%w: manifest: missing", ErrCorrupt)
	}
	sig, err := base64.StdEncoding.DecodeString(f.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Manifest{}, fmt.Errorf("%w: signature: not %d bytes of base64", ErrCorrupt, ed25519.SignatureSize)
	}
	ok := false
	for _, k := range keys {
		if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, f.Manifest, sig) {
			ok = true
			break
		}
	}
	if !ok {
		return Manifest{}, fmt.Errorf("%w with the release key", ErrSignature)
	}
	var m Manifest
	mdec := json.NewDecoder(bytes.NewReader(f.Manifest))
	mdec.DisallowUnknownFields()
	if err := mdec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("%w: manifest: %v", ErrCorrupt, jsonProblem(err))
	}
	if err := m.Check(); err != nil {
		return Manifest{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return m, nil
}

// Check reports the first problem of a manifest as "manifest.key: problem".
func (m Manifest) Check() error {
	if m.Product != Product {
		return fmt.Errorf("manifest.product: %q is not %q", m.Product, Product)
	}
	if _, err := ParseVersion(m.Version); err != nil {
		return fmt.Errorf("manifest.version: %v", err)
	}
	if _, err := time.Parse(time.DateOnly, m.Date); err != nil {
		return fmt.Errorf("manifest.date: %q is not a date like 2026-12-01", m.Date)
	}
	if strings.TrimSpace(m.Notes["en"]) == "" {
		return errors.New(`manifest.notes: the English ("en") notes are missing`)
	}
	for lang, text := range m.Notes {
		if !langOK(lang) {
			return fmt.Errorf("manifest.notes: %q is not a language code like en or pt-BR", lang)
		}
		if !utf8.ValidString(text) || utf8.RuneCountInString(text) > maxNoteRunes {
			return fmt.Errorf("manifest.notes.%s: not UTF-8 text of at most %d characters", lang, maxNoteRunes)
		}
	}
	u, err := url.Parse(m.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return fmt.Errorf("manifest.url: %q is not an https address", m.URL)
	}
	if b, err := hex.DecodeString(m.SHA256); err != nil || len(b) != 32 {
		return fmt.Errorf("manifest.sha256: %q is not 64 hex digits", m.SHA256)
	}
	return nil
}

// langOK accepts "en", "sl", "pt-BR", "zh-Hant".
func langOK(s string) bool {
	if len(s) < 2 || len(s) > 12 {
		return false
	}
	for i, part := range strings.Split(s, "-") {
		if part == "" || len(part) > 8 || (i == 0 && len(part) > 3) {
			return false
		}
		for _, r := range part {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

// Sign returns the feed document for m signed with priv (release
// managers: see internal/tools/sign-update-manifest). m is checked first.
func Sign(m Manifest, priv ed25519.PrivateKey) ([]byte, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("manifest: encode: %w", err)
	}
	return signRaw(mb, priv)
}

// signRaw signs manifest bytes as they are (tests sign broken manifests).
func signRaw(mb []byte, priv ed25519.PrivateKey) ([]byte, error) {
	// Written by hand: an encoder would re-format the manifest's bytes and
	// so break the signature.
	var b bytes.Buffer
	b.WriteString("{\n  \"manifest\": ")
	b.Write(mb)
	b.WriteString(",\n  \"signature\": \"")
	b.WriteString(base64.StdEncoding.EncodeToString(ed25519.Sign(priv, mb)))
	b.WriteString("\"\n}\n")
	return b.Bytes(), nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("offset %d: %v", se.Offset, se)
	case errors.As(err, &te):
		return fmt.Sprintf("%s: expected %s, found %s", te.Field, te.Type, te.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
