package folder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mesi/mconnect/internal/testfs"
)

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

type recorder struct {
	mu    sync.Mutex
	files map[string][]byte
	calls map[string]int
	at    map[string]time.Time
}

func newRecorder() *recorder {
	return &recorder{files: map[string][]byte{}, calls: map[string]int{}, at: map[string]time.Time{}}
}

func (r *recorder) handle(result func(f File, n int) error) Handler {
	return func(ctx context.Context, f File) error {
		r.mu.Lock()
		r.calls[f.Name]++
		n := r.calls[f.Name]
		r.files[f.Name] = f.Data
		r.at[f.Name] = time.Now()
		r.mu.Unlock()
		if result != nil {
			return result(f, n)
		}
		return nil
	}
}

func (r *recorder) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[name]
}

func (r *recorder) data(name string) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.files[name]
}

func start(t *testing.T, opts Options, h Handler) *Watcher {
	t.Helper()
	w, err := NewWatcher(opts, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return w
}

func TestWatcherExistingAndNewFiles(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	os.WriteFile(filepath.Join(dir, "before.gdt"), []byte("one"), 0o644)
	rec := newRecorder()
	start(t, Options{Dir: dir, QuietPeriod: 50 * time.Millisecond, Patterns: []string{"*.gdt"}}, rec.handle(nil))
	os.WriteFile(filepath.Join(dir, "after.GDT"), []byte("two"), 0o644)
	// Ignored: wrong extension, hidden, temp.
	for _, n := range []string{"note.txt", ".hidden.gdt", "upload.gdt.tmp", "x.gdt.part"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	waitFor(t, "both files archived", func() bool {
		return exists(filepath.Join(dir, "archive", "before.gdt")) && exists(filepath.Join(dir, "archive", "after.GDT"))
	})
	if string(rec.data("before.gdt")) != "one" || string(rec.data("after.GDT")) != "two" {
		t.Fatal("wrong content handed over")
	}
	for _, n := range []string{"note.txt", ".hidden.gdt", "upload.gdt.tmp", "x.gdt.part"} {
		if rec.count(n) != 0 || !exists(filepath.Join(dir, n)) {
			t.Errorf("%s was touched", n)
		}
	}
}

func TestWatcherWaitsForQuietPeriod(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	rec := newRecorder()
	const quiet = time.Second
	start(t, Options{Dir: dir, QuietPeriod: quiet}, rec.handle(nil))
	path := filepath.Join(dir, "slow.gdt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	var last time.Time
	for i := 0; i < 20; i++ {
		line := fmt.Sprintf("line %02d\r\n", i)
		last = time.Now() // before the write: the watcher cannot see it earlier
		f.WriteString(line)
		want.WriteString(line)
		time.Sleep(10 * time.Millisecond)
	}
	f.Close()
	waitFor(t, "file handed over", func() bool { return rec.count("slow.gdt") == 1 })
	rec.mu.Lock()
	at := rec.at["slow.gdt"]
	rec.mu.Unlock()
	if at.Sub(last) < quiet {
		t.Errorf("handed over %v after the last write, quiet period is %v", at.Sub(last), quiet)
	}
	if !bytes.Equal(rec.data("slow.gdt"), want.Bytes()) {
		t.Errorf("got %d bytes, want the whole %d", len(rec.data("slow.gdt")), want.Len())
	}
}

func TestWatcherCompleteCheckAndBeingWritten(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	rec := newRecorder()
	var checks atomic.Int32
	complete := func(b []byte) bool { checks.Add(1); return bytes.HasSuffix(b, []byte("END\r\n")) }
	// The quiet period is an hour: only the Complete check can hand over.
	start(t, Options{Dir: dir, QuietPeriod: time.Hour, Complete: complete}, rec.handle(nil))
	path := filepath.Join(dir, "order.gdt")
	os.WriteFile(path, []byte("half a record\r\n"), 0o644)
	waitFor(t, "the half file to be checked", func() bool { return checks.Load() >= 1 })
	// Being written: it waits, in place.
	time.Sleep(200 * time.Millisecond)
	if rec.count("order.gdt") != 0 || !exists(path) {
		t.Fatal("a half-written file was handed over")
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("END\r\n")
	f.Close()
	waitFor(t, "the complete file", func() bool { return rec.count("order.gdt") == 1 })
	if string(rec.data("order.gdt")) != "half a record\r\nEND\r\n" {
		t.Fatalf("got %q", rec.data("order.gdt"))
	}
}

func TestWatcherReady(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	rec := newRecorder()
	w := start(t, Options{Dir: dir, QuietPeriod: time.Hour}, rec.handle(nil))
	os.WriteFile(filepath.Join(dir, "up.gdt"), []byte("x"), 0o644)
	w.Ready("up.gdt")
	waitFor(t, "file handed over after Ready", func() bool { return rec.count("up.gdt") == 1 })
}

func TestWatcherErrorGoesToErrorFolderWithNote(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	rec := newRecorder()
	start(t, Options{Dir: dir, QuietPeriod: 20 * time.Millisecond}, rec.handle(func(File, int) error {
		return errors.New("gdt: line 4 (field 3103): bad date")
	}))
	os.WriteFile(filepath.Join(dir, "bad.gdt"), []byte("x"), 0o644)
	note := filepath.Join(dir, "error", "bad.gdt.error")
	waitFor(t, "note", func() bool { return exists(note) })
	b, _ := readNote(note)
	if !strings.Contains(string(b), "gdt: line 4 (field 3103): bad date") || !strings.Contains(string(b), "file: bad.gdt") {
		t.Fatalf("note %q", b)
	}
	if !exists(filepath.Join(dir, "error", "bad.gdt")) || exists(filepath.Join(dir, "bad.gdt")) {
		t.Fatal("file not moved to error/")
	}
}

func TestWatcherRetryableLeavesFileInPlace(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	rec := newRecorder()
	var release atomic.Bool
	start(t, Options{Dir: dir, QuietPeriod: 20 * time.Millisecond, RetryDelay: 20 * time.Millisecond}, rec.handle(func(_ File, n int) error {
		if !release.Load() {
			return Retryable(errors.New("store down"))
		}
		return nil
	}))
	path := filepath.Join(dir, "a.gdt")
	os.WriteFile(path, []byte("x"), 0o644)
	waitFor(t, "two failed attempts", func() bool { return rec.count("a.gdt") >= 2 })
	if !exists(path) || exists(filepath.Join(dir, "error", "a.gdt")) {
		t.Fatal("retryable failure moved the file")
	}
	release.Store(true)
	waitFor(t, "archived after recovery", func() bool { return exists(filepath.Join(dir, "archive", "a.gdt")) })
}

func TestWatcherRefusesLargeFileWithoutReading(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	rec := newRecorder()
	start(t, Options{Dir: dir, QuietPeriod: 20 * time.Millisecond, Complete: func([]byte) bool { t.Error("large file read for the check"); return false }}, rec.handle(nil))
	path := filepath.Join(dir, "huge.gdt")
	f, _ := os.Create(path)
	if err := f.Truncate(100 << 20); err != nil { // 100 MB, sparse
		t.Fatal(err)
	}
	f.Close()
	note := filepath.Join(dir, "error", "huge.gdt.error")
	waitFor(t, "note", func() bool { return exists(note) })
	b, _ := readNote(note)
	if !strings.Contains(string(b), "file is 104857600 bytes, more than the limit of 10485760 bytes") {
		t.Fatalf("note %q", b)
	}
	if rec.count("huge.gdt") != 0 {
		t.Fatal("handler called")
	}
}

func TestWatcherNameClashKeepsBoth(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	os.MkdirAll(filepath.Join(dir, "archive"), 0o755)
	os.MkdirAll(filepath.Join(dir, "error"), 0o755)
	os.WriteFile(filepath.Join(dir, "archive", "MESI.GDT"), []byte("old"), 0o644)
	os.WriteFile(filepath.Join(dir, "error", "BAD.GDT"), []byte("old bad"), 0o644)
	rec := newRecorder()
	start(t, Options{Dir: dir, QuietPeriod: 20 * time.Millisecond}, rec.handle(func(f File, _ int) error {
		if f.Name == "BAD.GDT" {
			return errors.New("broken")
		}
		return nil
	}))
	os.WriteFile(filepath.Join(dir, "MESI.GDT"), []byte("new"), 0o644)
	os.WriteFile(filepath.Join(dir, "BAD.GDT"), []byte("new bad"), 0o644)
	waitFor(t, "archived beside", func() bool {
		return exists(filepath.Join(dir, "archive", "MESI-1.GDT")) && exists(filepath.Join(dir, "error", "BAD-1.GDT.error"))
	})
	for path, want := range map[string]string{
		"archive/MESI.GDT": "old", "archive/MESI-1.GDT": "new", "error/BAD.GDT": "old bad", "error/BAD-1.GDT": "new bad",
	} {
		if b, _ := os.ReadFile(filepath.Join(dir, path)); string(b) != want {
			t.Errorf("%s = %q, want %q", path, b, want)
		}
	}
}

func TestWatcherDeleteProcessed(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	rec := newRecorder()
	start(t, Options{Dir: dir, QuietPeriod: 20 * time.Millisecond, DeleteProcessed: true}, rec.handle(nil))
	path := filepath.Join(dir, "d.gdt")
	os.WriteFile(path, []byte("x"), 0o644)
	waitFor(t, "deleted", func() bool { return rec.count("d.gdt") == 1 && !exists(path) })
	if exists(filepath.Join(dir, "archive")) {
		t.Error("archive folder created although files are deleted")
	}
}

func TestWatcherBoundedConcurrencyOncePerFile(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	const n = 30
	for i := 0; i < n; i++ {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d.gdt", i)), []byte("x"), 0o644)
	}
	var cur, peak atomic.Int32
	var mu sync.Mutex
	busy := map[string]bool{}
	rec := newRecorder()
	start(t, Options{Dir: dir, QuietPeriod: 20 * time.Millisecond, Workers: 3}, rec.handle(func(f File, _ int) error {
		mu.Lock()
		if busy[f.Name] {
			t.Errorf("%s processed concurrently", f.Name)
		}
		busy[f.Name] = true
		mu.Unlock()
		c := cur.Add(1)
		for {
			p := peak.Load()
			if c <= p || peak.CompareAndSwap(p, c) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		cur.Add(-1)
		mu.Lock()
		busy[f.Name] = false
		mu.Unlock()
		return nil
	}))
	waitFor(t, "all archived", func() bool {
		des, _ := os.ReadDir(filepath.Join(dir, "archive"))
		return len(des) == n
	})
	if p := peak.Load(); p > 3 {
		t.Errorf("%d handlers at once, limit 3", p)
	}
	for i := 0; i < n; i++ {
		if c := rec.count(fmt.Sprintf("f%02d.gdt", i)); c != 1 {
			t.Errorf("f%02d handled %d times", i, c)
		}
	}
}

func TestNewWatcherErrors(t *testing.T) {
	t.Parallel()
	if _, err := NewWatcher(Options{}, func(context.Context, File) error { return nil }); err == nil {
		t.Error("no folder accepted")
	}
	if _, err := NewWatcher(Options{Dir: testfs.TempDir(t), Patterns: []string{"["}}, func(context.Context, File) error { return nil }); err == nil {
		t.Error("bad pattern accepted")
	}
	file := filepath.Join(testfs.TempDir(t), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := NewWatcher(Options{Dir: filepath.Join(file, "sub")}, func(context.Context, File) error { return nil }); err == nil {
		t.Error("folder under a file accepted")
	}
}
