package testfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRemoveTree(t *testing.T) {
	dir, err := os.MkdirTemp("", "testfs-*")
	if err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(dir, "a", "b", "c")
	if err := os.MkdirAll(deep, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "top.txt"), filepath.Join(dir, "a", "mid.txt"), filepath.Join(deep, "leaf.txt")} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ro := filepath.Join(dir, "a", "read-only.txt")
	if err := os.WriteFile(ro, []byte("x"), 0o400); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := RemoveTree(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s still there: %v", dir, err)
	}
	if err := RemoveTree(dir); err != nil {
		t.Fatalf("removing a folder that is gone: %v", err)
	}
}

func TestTempDir(t *testing.T) {
	var dir string
	t.Run("sub/test with spaces", func(t *testing.T) {
		dir = TempDir(t)
		if err := os.WriteFile(filepath.Join(dir, "f.txt"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "archive"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "archive", "g.txt"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s outlived its test: %v", dir, err)
	}
	if p := pattern("TestX/sub test:1"); strings.ContainsAny(p[:len(p)-2], `/\: *`) {
		t.Fatalf("pattern %q", p)
	}
}
