package folder

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesi/mconnect/internal/testfs"
)

// TestStagingPublish: a staged file is either staged or published, never
// both; a taken target leaves it staged; counting names go on from the
// highest.
func TestStagingPublish(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	w, err := NewWriter(filepath.Join(dir, "out"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Stage("s1", strings.NewReader("one")); err != nil {
		t.Fatal(err)
	}
	if !w.Staged("s1") {
		t.Fatal("not staged")
	}
	if ents, _ := os.ReadDir(w.Dir()); len(ents) != 0 {
		t.Fatalf("staging shows in the target folder: %v", ents)
	}
	p, err := w.Publish("s1", "R.GDT")
	if err != nil {
		t.Fatal(err)
	}
	if w.Staged("s1") {
		t.Error("still staged after publishing")
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Errorf("published %q", b)
	}
	// The reader has not taken R.GDT: a second one stays staged.
	w.Stage("s2", strings.NewReader("two"))
	if _, err := w.Publish("s2", "R.GDT"); !errors.Is(err, ErrExists) {
		t.Fatalf("publish over a waiting file: %v", err)
	}
	if !w.Staged("s2") {
		t.Error("staging file lost when the target was taken")
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Errorf("waiting file overwritten: %q", b)
	}
	// Restaging replaces the staging file.
	w.Stage("s2", strings.NewReader("two again"))
	os.WriteFile(filepath.Join(w.Dir(), "R.007"), nil, 0o644)
	p, err = w.PublishNumbered("s2", "R")
	if err != nil || filepath.Base(p) != "R.008" {
		t.Fatalf("numbered: %s %v", p, err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two again" {
		t.Errorf("published %q", b)
	}
	if err := w.Unstage("gone"); err != nil {
		t.Errorf("unstage of nothing: %v", err)
	}
}
