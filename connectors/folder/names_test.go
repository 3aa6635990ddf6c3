package folder

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/mesi/mconnect/internal/testfs"
)

func TestStoredName(t *testing.T) {
	t.Parallel()
	long := func(n int, ext string) string { return strings.Repeat("a", n-len(ext)) + ext }
	for _, tc := range []struct {
		name      string
		in        string
		i         int
		reserve   int
		want      string // exact, when short enough to stay
		wantLen   int    // else the byte length
		wantStart string
		wantExt   string
	}{
		{name: "short stays", in: "ORDER.GDT", want: "ORDER.GDT"},
		{name: "short numbered", in: "ORDER.GDT", i: 2, want: "ORDER-2.GDT"},
		{name: "no extension numbered", in: "ORDER", i: 1, want: "ORDER-1"},
		{name: "249 fits with its note", in: long(249, ".gdt"), reserve: 6, want: long(249, ".gdt")},
		{name: "250 shortened for its note", in: long(250, ".gdt"), reserve: 6, wantLen: 249, wantStart: "aaaa", wantExt: ".gdt"},
		{name: "255 in the archive stays", in: long(255, ".gdt"), want: long(255, ".gdt")},
		{name: "254 numbered in the archive", in: long(254, ".gdt"), i: 1, wantLen: 255, wantExt: "-1.gdt"},
		{name: "counting extension kept", in: long(254, ".001"), i: 12, reserve: 6, wantLen: 249, wantExt: "-12.001"},
		{name: "long extension is no extension", in: "x." + strings.Repeat("e", 252), reserve: 6, wantLen: 249, wantStart: "x.eee"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := storedName(tc.in, tc.i, tc.reserve)
			if tc.want != "" {
				if got != tc.want {
					t.Errorf("got %q, want %q", got, tc.want)
				}
				return
			}
			if len(got) != tc.wantLen || !strings.HasPrefix(got, tc.wantStart) || !strings.HasSuffix(got, tc.wantExt) {
				t.Errorf("got %q (%d bytes)", got, len(got))
			}
			if !strings.Contains(got, "~") {
				t.Errorf("%q has no hash", got)
			}
		})
	}
	// Two long names with the same beginning stay apart.
	a, b := storedName(long(300, "1.gdt"), 0, 6), storedName(long(300, "2.gdt"), 0, 6)
	if a == b {
		t.Errorf("both stored as %q", a)
	}
	// Cut at a character boundary: "ž" is two bytes.
	z := storedName(strings.Repeat("ž", 130)+".gdt", 0, 6)
	if !utf8.ValidString(z) || len(z) > 249 || !strings.HasPrefix(z, "žž") {
		t.Errorf("got %q (%d bytes, valid %v)", z, len(z), utf8.ValidString(z))
	}
}

func TestLongNamesLandWithTheirNote(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	bad249 := strings.Repeat("b", 245) + ".gdt"
	bad255 := strings.Repeat("c", 251) + ".GDT"
	good254 := strings.Repeat("g", 250) + ".gdt"
	// The good file's name is taken in the archive already (the EHR
	// writes the same name each time): the numbered name needs shortening.
	os.MkdirAll(filepath.Join(dir, "archive"), 0o755)
	os.WriteFile(filepath.Join(dir, "archive", good254), []byte("earlier"), 0o644)
	rec := newRecorder()
	start(t, Options{Dir: dir, QuietPeriod: 20 * time.Millisecond, RetryDelay: 10 * time.Millisecond}, rec.handle(func(f File, _ int) error {
		if strings.HasPrefix(f.Name, "g") {
			return nil
		}
		return errors.New("gdt: line 2 (field 8100): bad length")
	}))
	for _, n := range []string{bad249, bad255, good254} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("content of "+n[:1]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "inbound folder empty", func() bool {
		return !exists(filepath.Join(dir, bad249)) && !exists(filepath.Join(dir, bad255)) && !exists(filepath.Join(dir, good254))
	})
	// bad249 keeps its name; its note has exactly 255 bytes.
	if !exists(filepath.Join(dir, "error", bad249)) || !exists(filepath.Join(dir, "error", bad249+".error")) {
		t.Error("249-character name: file or note missing in error/")
	}
	// bad255 is shortened, with its note beside, naming the original.
	var short string
	des, _ := os.ReadDir(filepath.Join(dir, "error"))
	for _, de := range des {
		if len(de.Name()) > maxNameBytes {
			t.Errorf("name of %d bytes in error/", len(de.Name()))
		}
		if strings.HasPrefix(de.Name(), "cccc") && strings.HasSuffix(de.Name(), ".GDT") {
			short = de.Name()
		}
	}
	if short == "" || !exists(filepath.Join(dir, "error", short+".error")) {
		t.Fatalf("255-character name: no shortened file with its note in error/ (%d entries)", len(des))
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "error", short)); string(b) != "content of c" {
		t.Errorf("shortened file holds %q", b)
	}
	note, _ := readNote(filepath.Join(dir, "error", short+".error"))
	if !strings.Contains(string(note), "file: "+bad255) || !strings.Contains(string(note), "stored as: "+short) ||
		!strings.Contains(string(note), "bad length") {
		t.Errorf("note %q", note)
	}
	// good254 is archived once, under a shortened numbered name.
	if c := rec.count(good254); c != 1 {
		t.Errorf("254-character good file handled %d times", c)
	}
	var archived []string
	des, _ = os.ReadDir(filepath.Join(dir, "archive"))
	for _, de := range des {
		archived = append(archived, de.Name())
		if len(de.Name()) > maxNameBytes {
			t.Errorf("name of %d bytes in archive/", len(de.Name()))
		}
	}
	if len(archived) != 2 {
		t.Fatalf("archive holds %d files", len(archived))
	}
	for _, n := range archived {
		if n != good254 && !(strings.HasPrefix(n, "gggg") && strings.HasSuffix(n, "-1.gdt")) {
			t.Errorf("archived as %q", n)
		}
	}
	// Nothing left behind: no temp notes.
	des, _ = os.ReadDir(filepath.Join(dir, "error"))
	for _, de := range des {
		if strings.HasSuffix(de.Name(), ".tmp") {
			t.Errorf("temp file %s left in error/", de.Name())
		}
	}
}

type logWaiter struct {
	hook *test.Hook
}

func (l logWaiter) has(msg string) bool {
	for _, e := range l.hook.AllEntries() {
		if strings.Contains(e.Message, msg) {
			return true
		}
	}
	return false
}

func TestArchiveFailureIsBounded(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	rec := newRecorder()
	w := start(t, Options{Dir: dir, QuietPeriod: 20 * time.Millisecond, RetryDelay: 5 * time.Millisecond, MaxRetries: 3, Patterns: []string{"*.gdt"}}, rec.handle(nil))
	// The archive folder is replaced by a file: archiving cannot succeed.
	archive := filepath.Join(w.Dir(), "archive")
	os.RemoveAll(archive)
	os.WriteFile(archive, nil, 0o644)
	os.WriteFile(filepath.Join(dir, "a.gdt"), []byte("x"), 0o644)
	note := filepath.Join(dir, "error", "a.gdt.error")
	waitFor(t, "the file in error/ with its note", func() bool { return exists(note) })
	if c := rec.count("a.gdt"); c != 3 {
		t.Errorf("handled %d times, want MaxRetries = 3", c)
	}
	b, _ := readNote(note)
	if !strings.Contains(string(b), "processed and accepted, but could not be moved to the archive folder in 3 attempts") {
		t.Errorf("note %q", b)
	}
	if exists(filepath.Join(dir, "a.gdt")) {
		t.Error("file still in the inbound folder")
	}
}

func TestUnfileableFileIsLeftAloneUntilItChanges(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	rec := newRecorder()
	log, hook := test.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	logs := logWaiter{hook}
	w := start(t, Options{Dir: dir, QuietPeriod: 20 * time.Millisecond, RetryDelay: 5 * time.Millisecond, MaxRetries: 3, Logger: log, Patterns: []string{"*.gdt"}}, rec.handle(nil))
	for _, d := range []string{"archive", "error"} {
		os.RemoveAll(filepath.Join(w.Dir(), d))
		os.WriteFile(filepath.Join(w.Dir(), d), nil, 0o644)
	}
	path := filepath.Join(dir, "a.gdt")
	os.WriteFile(path, []byte("x"), 0o644)
	waitFor(t, "giving up", func() bool { return logs.has("leaving it alone until it changes") })
	if c := rec.count("a.gdt"); c != 3 {
		t.Errorf("handled %d times before giving up, want 3", c)
	}
	// The error folder is usable again and the file changes: it is tried
	// again, and (the archive still being unusable) filed in error/.
	os.Remove(filepath.Join(w.Dir(), "error"))
	os.Mkdir(filepath.Join(w.Dir(), "error"), 0o755)
	os.WriteFile(path, []byte("xy"), 0o644)
	waitFor(t, "the changed file in error/", func() bool { return exists(filepath.Join(dir, "error", "a.gdt.error")) })
	if c := rec.count("a.gdt"); c != 6 {
		t.Errorf("handled %d times in all, want 6", c)
	}
}
