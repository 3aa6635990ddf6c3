package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenkeySignVerify(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "release.key")
	var out bytes.Buffer
	if err := run([]string{"-genkey", "-key", key}, &out); err != nil {
		t.Fatal(err)
	}
	pub := strings.TrimSpace(strings.TrimPrefix(out.String(), "public key (app/update/key.go): "))
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm()&0o077 != 0 && os.PathSeparator == '/' {
		t.Fatalf("private key file: %v %v", fi, err)
	}
	if err := run([]string{"-genkey", "-key", key}, &out); err == nil {
		t.Fatal("-genkey overwrote an existing private key")
	}
	manifest := filepath.Join(dir, "manifest.json")
	os.WriteFile(manifest, []byte(`{"version":"1.2.0","date":"2026-12-01","notes":{"en":"Fixes."},`+
		`"url":"https://updates.example.com/setup.exe","sha256":"`+strings.Repeat("ab", 32)+`"}`), 0o600)
	feed := filepath.Join(dir, "feed.json")
	if err := run([]string{"-key", key, "-in", manifest, "-out", feed}, &out); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run([]string{"-verify", "-pub", pub, "-in", feed}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "valid, version 1.2.0 of 2026-12-01") {
		t.Fatalf("verify said %q", out.String())
	}

	os.WriteFile(manifest, []byte(`{"version":"1.2","date":"2026-12-01","notes":{"en":"x"},"url":"https://u.example.com/s.exe","sha256":"`+strings.Repeat("ab", 32)+`"}`), 0o600)
	if err := run([]string{"-key", key, "-in", manifest, "-out", feed}, &out); err == nil || !strings.Contains(err.Error(), "manifest.version") {
		t.Fatalf("signing a bad manifest: %v", err)
	}
	other := filepath.Join(dir, "other.key")
	out.Reset()
	run([]string{"-genkey", "-key", other}, &out)
	otherPub := strings.TrimSpace(strings.TrimPrefix(out.String(), "public key (app/update/key.go): "))
	if err := run([]string{"-verify", "-pub", otherPub, "-in", feed}, &out); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("verify with another key: %v", err)
	}
}
