package folder

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesi/mconnect/internal/testfs"
)

func TestWriterFixedNameNeverOverwrites(t *testing.T) {
	t.Parallel()
	base := testfs.TempDir(t)
	dir := filepath.Join(base, "results")
	w, err := NewWriter(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.WriteFile("MESITOME.GDT", strings.NewReader("first"))
	if err != nil {
		t.Fatal(err)
	}
	if p != filepath.Join(dir, "MESITOME.GDT") {
		t.Fatalf("path %s", p)
	}
	_, err = w.WriteFile("MESITOME.GDT", strings.NewReader("second"))
	if !errors.Is(err, ErrExists) {
		t.Fatalf("second write: %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "first" {
		t.Fatalf("overwritten: %q", b)
	}
	// The temp folder is a sibling, not inside the target, and is left empty.
	des, _ := os.ReadDir(dir)
	if len(des) != 1 {
		t.Errorf("target holds %d entries", len(des))
	}
	tmp, _ := os.ReadDir(filepath.Join(base, TempDirName))
	if len(tmp) != 0 {
		t.Errorf("temp files left: %v", tmp)
	}
	// The reader picked it up: the name is free again.
	os.Remove(p)
	if _, err := w.WriteFile("MESITOME.GDT", strings.NewReader("third")); err != nil {
		t.Fatal(err)
	}
}

func TestWriterNumbered(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	w, err := NewWriter(filepath.Join(dir, "out"), filepath.Join(dir, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		p, err := w.WriteNumbered("MESI", strings.NewReader(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("MESI.%03d", i); filepath.Base(p) != want {
			t.Fatalf("got %s, want %s", filepath.Base(p), want)
		}
	}
	// The EHR took .000 and .001: the next is still one past the highest.
	os.Remove(filepath.Join(dir, "out", "MESI.000"))
	os.Remove(filepath.Join(dir, "out", "MESI.001"))
	p, _ := w.WriteNumbered("MESI", strings.NewReader("x"))
	if filepath.Base(p) != "MESI.003" {
		t.Fatalf("got %s", p)
	}
	// After .999 it wraps to the lowest free number.
	os.WriteFile(filepath.Join(dir, "out", "MESI.999"), nil, 0o644)
	p, _ = w.WriteNumbered("MESI", strings.NewReader("x"))
	if filepath.Base(p) != "MESI.000" {
		t.Fatalf("got %s", p)
	}
}

func TestWriterNoFreeNumber(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	for i := 0; i < 1000; i++ {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("R.%03d", i)), nil, 0o644)
	}
	w, _ := NewWriter(dir, filepath.Join(testfs.TempDir(t), "tmp"))
	if _, err := w.WriteNumbered("R", strings.NewReader("x")); !errors.Is(err, ErrNoFreeNumber) {
		t.Fatalf("err %v", err)
	}
}

func TestWriterErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(testfs.TempDir(t), "f")
	os.WriteFile(file, nil, 0o644)
	if _, err := NewWriter(filepath.Join(file, "sub"), ""); err == nil || !strings.Contains(err.Error(), "cannot be created") {
		t.Errorf("err %v", err)
	}
	w, _ := NewWriter(testfs.TempDir(t), "")
	for _, name := range []string{"", "../x", "a/b", ".."} {
		if _, err := w.WriteFile(name, strings.NewReader("")); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
}
