package logging

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWritesJSONFileAndTextStderr(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	l, err := New(Options{Dir: dir, Level: "info", Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	l.WithField("order", "ord_1").Info("order stored")
	l.Debug("not at info level")
	l.Close()
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 1 {
		t.Fatalf("log file has %d lines: %q", len(lines), b)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil || m["order"] != "ord_1" || m["msg"] != "order stored" {
		t.Fatalf("log line %q: %v", lines[0], err)
	}
	if !strings.Contains(stderr.String(), `msg="order stored"`) || strings.Contains(stderr.String(), "not at info") {
		t.Fatalf("stderr: %q", stderr.String())
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	l, err := New(Options{Dir: dir, Level: "debug", Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"token", "apiToken", "password", "client_secret", "Authorization"} {
		l.WithField(key, "hunter2-"+key).Info("call")
	}
	l.Close()
	b, _ := os.ReadFile(filepath.Join(dir, FileName))
	for _, out := range []string{string(b), stderr.String()} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("a secret reached the log: %s", out)
		}
		if strings.Count(out, "[redacted]") != 5 {
			t.Fatalf("expected 5 redactions: %s", out)
		}
	}
}

func TestUnwritableFolder(t *testing.T) {
	if os.Getuid() == 0 {
		// root writes everywhere; use a path under a file instead.
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, nil, 0o600)
		if _, err := New(Options{Dir: filepath.Join(f, "logs")}); err == nil || !strings.Contains(err.Error(), f) {
			t.Fatalf("err = %v", err)
		}
		return
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	if _, err := New(Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Fatalf("err = %v", err)
	}
}
