//go:build windows

package folder

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"golang.org/x/sys/windows"

	"github.com/mesi/mconnect/internal/testfs"
)

// openLikeAnEHR opens path for writing as most Windows programs do: others
// may read it, but neither write nor delete or rename it (no
// FILE_SHARE_DELETE).
func openLikeAnEHR(t *testing.T, path string) *os.File {
	t.Helper()
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := windows.CreateFile(p, windows.GENERIC_WRITE, windows.FILE_SHARE_READ, nil, windows.CREATE_NEW, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		t.Fatalf("CreateFile %s: %v", path, err)
	}
	return os.NewFile(uintptr(h), path)
}

func hasLog(h *logtest.Hook, msg string) bool {
	for _, e := range h.AllEntries() {
		if strings.Contains(e.Message, msg) {
			return true
		}
	}
	return false
}

// A file the EHR still holds open is neither handed over half-written nor
// moved (it cannot be): the watcher waits until the EHR closes it, then
// hands over the whole content once and archives it.
func TestWindowsFileStillOpenInItsWriterIsNotHalfRead(t *testing.T) {
	dir := testfs.TempDir(t)
	path := filepath.Join(dir, "order.gdt")
	ehr := openLikeAnEHR(t, path)
	t.Cleanup(func() { ehr.Close() }) // before the folder is removed
	first := "01380006301\r\n"
	if _, err := ehr.WriteString(first); err != nil {
		t.Fatal(err)
	}
	// Windows: the file cannot be moved or deleted while the EHR holds it.
	if err := os.Rename(path, path+".moved"); err == nil {
		t.Fatal("a file open without FILE_SHARE_DELETE was renamed")
	}

	log, hook := logtest.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	rec := newRecorder()
	start(t, Options{Dir: dir, QuietPeriod: 30 * time.Millisecond, RetryDelay: 20 * time.Millisecond, Logger: log}, rec.handle(nil))
	waitFor(t, "the watcher to see the file is still open", func() bool {
		if rec.count("order.gdt") != 0 {
			t.Fatalf("handed over %q while its writer held it", rec.data("order.gdt"))
		}
		return hasLog(hook, "still open in the program writing it")
	})
	if n := rec.count("order.gdt"); n != 0 {
		t.Fatalf("handed over %d times while its writer held it", n)
	}
	rest := "014810000123\r\n"
	if _, err := ehr.WriteString(rest); err != nil {
		t.Fatal(err)
	}
	if err := ehr.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the file in the archive", func() bool { return exists(filepath.Join(dir, "archive", "order.gdt")) })
	if got := string(rec.data("order.gdt")); got != first+rest {
		t.Fatalf("handed over %q, want the whole file %q", got, first+rest)
	}
	if n := rec.count("order.gdt"); n != 1 {
		t.Fatalf("handed over %d times", n)
	}
}

// A file written after one its writer still holds open does not overtake
// it (a cancel must not overtake its order).
func TestWindowsLaterFilesWaitForOneStillOpen(t *testing.T) {
	dir := testfs.TempDir(t)
	log, hook := logtest.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	rec := newRecorder()
	var mu sync.Mutex
	var order []string
	start(t, Options{Dir: dir, QuietPeriod: 20 * time.Millisecond, IncompleteWait: time.Minute, Logger: log},
		func(ctx context.Context, f File) error {
			mu.Lock()
			order = append(order, f.Name)
			mu.Unlock()
			return rec.handle(nil)(ctx, f)
		})
	first := filepath.Join(dir, "1-order.gdt")
	ehr := openLikeAnEHR(t, first)
	t.Cleanup(func() { ehr.Close() })
	ehr.WriteString("order, first half\r\n")
	waitFor(t, "the order seen still open", func() bool { return hasLog(hook, "still open in the program writing it") })
	// A later modification time than the order's.
	later := time.Now().Add(time.Second)
	cancel := filepath.Join(dir, "2-cancel.gdt")
	if err := os.WriteFile(cancel, []byte("cancel END\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(cancel, later, later)
	waitFor(t, "the cancel held back", func() bool { return hasLog(hook, "held back behind an earlier file") })
	if n := rec.count("2-cancel.gdt"); n != 0 {
		t.Fatal("the cancel overtook the order still being written")
	}
	ehr.WriteString("second half END\r\n")
	ehr.Close()
	waitFor(t, "both handed over", func() bool { return rec.count("1-order.gdt") == 1 && rec.count("2-cancel.gdt") == 1 })
	mu.Lock()
	defer mu.Unlock()
	if order[0] != "1-order.gdt" || string(rec.data("1-order.gdt")) != "order, first half\r\nsecond half END\r\n" {
		t.Fatalf("handed over in the order %v, order file %q", order, rec.data("1-order.gdt"))
	}
}

// A folder deeper than MAX_PATH (260 characters), given with forward
// slashes as people write it in the config, is watched and archived to.
func TestWindowsLongPathAndForwardSlashes(t *testing.T) {
	base := testfs.TempDir(t)
	dir := base
	for len(dir) < 300 {
		dir = filepath.Join(dir, "Exchange folder of the EHR")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "order.gdt"), []byte("01380006301\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	slashed := filepath.ToSlash(dir)
	if !strings.Contains(slashed, ":/") {
		t.Fatalf("%s has no drive letter", slashed)
	}
	w := start(t, Options{Dir: slashed, QuietPeriod: 30 * time.Millisecond}, rec.handle(nil))
	if w.Dir() != dir {
		t.Errorf("Dir() = %s, want %s", w.Dir(), dir)
	}
	waitFor(t, "the file in the archive", func() bool { return exists(filepath.Join(dir, "archive", "order.gdt")) })
	if string(rec.data("order.gdt")) != "01380006301\r\n" {
		t.Fatalf("handed over %q", rec.data("order.gdt"))
	}

	wr, err := NewWriter(slashed+"/out", "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := wr.WriteFile("result.gdt", strings.NewReader("01380006310\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "out", "result.gdt"); got != want {
		t.Fatalf("written to %s, want %s", got, want)
	}
}

func TestWindowsLongPathPrefix(t *testing.T) {
	long := `C:\` + strings.Repeat(`abcdefghij\`, 30) + "f.gdt"
	for _, tt := range []struct{ in, want string }{
		{`C:\short\f.gdt`, `C:\short\f.gdt`},
		{long, `\\?\` + long},
		{`\\server\share\` + long[3:], `\\?\UNC\server\share\` + long[3:]},
		{`\\?\` + long, `\\?\` + long},
	} {
		if got := longPath(tt.in); got != tt.want {
			t.Errorf("longPath(%.40s…) = %.50s…", tt.in, got)
		}
	}
}
