package logging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/internal/testfs"
)

// TestLinesBufferedUntilWarningOrTimer: info lines reach the file together,
// at once when a warning follows them, and within lineFlushEvery without one.
func TestLinesBufferedUntilWarningOrTimer(t *testing.T) {
	dir := testfs.TempDir(t)
	l, err := New(Options{Dir: dir, Level: "info", Stderr: discardWriter{}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	read := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, FileName))
		return string(b)
	}
	l.WithField("order", "o-1").Info("order accepted")
	l.Warn("disk almost full")
	if got := read(); !strings.Contains(got, `"order":"o-1"`) || !strings.Contains(got, "disk almost full") {
		t.Fatalf("after the warning the file holds %q, want both lines", got)
	}
	l.WithField("order", "o-2").Info("order accepted")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(read(), `"order":"o-2"`) {
		if time.Now().After(deadline) {
			t.Fatalf("an info line never reached the file: %q", read())
		}
		time.Sleep(20 * time.Millisecond)
	}
	l.WithField("order", "o-3").Info("order accepted")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(read(), `"order":"o-3"`) {
		t.Fatalf("Close did not write the last line: %q", read())
	}
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
