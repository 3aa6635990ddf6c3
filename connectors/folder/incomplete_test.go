package folder

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/mesi/mconnect/internal/testfs"
)

// endsHandler calls a file without "END\r\n" at its end incomplete (and
// rejects it once settled); complete files are accepted. It records the
// order of accepted files and whether a half file was seen.
type endsHandler struct {
	mu       sync.Mutex
	accepted []string
	halves   int
	settled  int
}

func (h *endsHandler) handle(f File) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !bytes.HasSuffix(f.Data, []byte("END\r\n")) {
		if f.Settled {
			h.settled++
			return errors.New("gdt: file ends inside a record")
		}
		h.halves++
		return Incomplete(errors.New("gdt: file ends inside a record"))
	}
	h.accepted = append(h.accepted, f.Name)
	return nil
}

func (h *endsHandler) state() (accepted []string, halves, settled int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.accepted...), h.halves, h.settled
}

func rec(h *endsHandler) Handler {
	return func(_ context.Context, f File) error { return h.handle(f) }
}

func TestSlowWriterPausingLongerThanTheQuietPeriod(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("on Windows a file its writer holds open is not read at all until closed (TestWindowsFileStillOpenInItsWriterIsNotHalfRead, TestWindowsLaterFilesWaitForOneStillOpen)")
	}
	dir := testfs.TempDir(t)
	h := &endsHandler{}
	const quiet = 30 * time.Millisecond
	start(t, Options{Dir: dir, QuietPeriod: quiet, IncompleteWait: time.Minute}, rec(h))
	path := filepath.Join(dir, "slow.gdt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("first half\r\n")
	// The writer pauses far longer than the quiet period: the half file is
	// handed over, called incomplete, and stays.
	waitFor(t, "the half file to be seen", func() bool { _, halves, _ := h.state(); return halves >= 1 })
	if !exists(path) || exists(filepath.Join(dir, "error", "slow.gdt")) {
		t.Fatal("the half file was moved")
	}
	f.WriteString("second half END\r\n")
	f.Close()
	waitFor(t, "archived", func() bool { return exists(filepath.Join(dir, "archive", "slow.gdt")) })
	acc, _, settled := h.state()
	if len(acc) != 1 || settled != 0 {
		t.Errorf("accepted %v, settled %d", acc, settled)
	}
	if exists(filepath.Join(dir, "error", "slow.gdt")) || exists(filepath.Join(dir, "error", "slow.gdt.error")) {
		t.Error("something in error/")
	}
}

func TestIncompleteFileSettlesAfterTheWait(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	h := &endsHandler{}
	const wait = 300 * time.Millisecond
	start(t, Options{Dir: dir, QuietPeriod: 20 * time.Millisecond, IncompleteWait: wait}, rec(h))
	path := filepath.Join(dir, "never.gdt")
	written := time.Now() // before the write: the watcher sees it no earlier
	os.WriteFile(path, []byte("only half\r\n"), 0o644)
	note := filepath.Join(dir, "error", "never.gdt.error")
	waitFor(t, "rejected once settled", func() bool { return exists(note) })
	if el := time.Since(written); el < wait {
		t.Errorf("rejected %v after the last write, the wait is %v", el, wait)
	}
	_, _, settled := h.state()
	if settled != 1 {
		t.Errorf("handed over settled %d times", settled)
	}
	b, _ := readNote(note)
	if !strings.Contains(string(b), "the file looked incomplete and stayed unchanged for 300ms: gdt: file ends inside a record") {
		t.Errorf("note %q", b)
	}
}

func TestLaterFilesWaitForAnIncompleteOne(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("on Windows a file its writer holds open is not read at all until closed (TestWindowsFileStillOpenInItsWriterIsNotHalfRead, TestWindowsLaterFilesWaitForOneStillOpen)")
	}
	dir := testfs.TempDir(t)
	h := &endsHandler{}
	log, hook := test.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	start(t, Options{Dir: dir, QuietPeriod: 20 * time.Millisecond, IncompleteWait: time.Minute, Logger: log}, rec(h))
	first := filepath.Join(dir, "1-order.gdt")
	f, _ := os.Create(first)
	f.WriteString("order, first half\r\n")
	waitFor(t, "the half order to be seen", func() bool { _, halves, _ := h.state(); return halves >= 1 })
	// The cancel written after it must not overtake it.
	time.Sleep(10 * time.Millisecond) // a later mtime than the half order
	os.WriteFile(filepath.Join(dir, "2-cancel.gdt"), []byte("cancel END\r\n"), 0o644)
	waitFor(t, "the cancel held back", func() bool { return logWaiter{hook}.has("held back behind an earlier file") })
	if acc, _, _ := h.state(); len(acc) != 0 {
		t.Fatalf("accepted %v before the order was complete", acc)
	}
	f.WriteString("second half END\r\n")
	f.Close()
	waitFor(t, "both accepted", func() bool { acc, _, _ := h.state(); return len(acc) == 2 })
	if acc, _, _ := h.state(); acc[0] != "1-order.gdt" {
		t.Errorf("accepted in the order %v", acc)
	}
}

func TestRejectedFileThatGrowsIsTriedAgain(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("on Windows a file its writer holds open is not read at all until closed (TestWindowsFileStillOpenInItsWriterIsNotHalfRead, TestWindowsLaterFilesWaitForOneStillOpen)")
	}
	dir := testfs.TempDir(t)
	var mu sync.Mutex
	calls := 0
	start(t, Options{Dir: dir, QuietPeriod: 20 * time.Millisecond, IncompleteWait: time.Minute}, func(_ context.Context, f File) error {
		mu.Lock()
		calls++
		mu.Unlock()
		if !bytes.HasSuffix(f.Data, []byte("END\r\n")) {
			return errors.New("gdt: truncated") // not recognised as incomplete
		}
		return nil
	})
	path := filepath.Join(dir, "grow.gdt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("half\r\n")
	note := filepath.Join(dir, "error", "grow.gdt.error")
	waitFor(t, "rejected", func() bool { return exists(note) })
	// The writer still holds the file open and goes on writing: the bytes
	// land in error/grow.gdt.
	f.WriteString("rest END\r\n")
	waitFor(t, "moved back and archived", func() bool { return exists(filepath.Join(dir, "archive", "grow.gdt")) })
	b, _ := os.ReadFile(filepath.Join(dir, "archive", "grow.gdt"))
	if string(b) != "half\r\nrest END\r\n" {
		t.Errorf("archived %q", b)
	}
	if exists(note) || exists(filepath.Join(dir, "error", "grow.gdt")) {
		t.Error("rejected copy or its note left in error/")
	}
}
