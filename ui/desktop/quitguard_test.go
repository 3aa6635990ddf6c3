package desktop

import (
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
)

// TestEndAfterQuit: the Dashboard process's OnQuit runs what it wraps at
// once and ends the process (exit 0) when it is still running after the
// grace, with an error in the log.
func TestEndAfterQuit(t *testing.T) {
	log, hook := test.NewNullLogger()
	ran := false
	exited := make(chan int, 1)
	quit := endAfterQuit(func() { ran = true }, 10*time.Millisecond, log, func(code int) { exited <- code })
	quit()
	if !ran {
		t.Fatal("the wrapped OnQuit did not run")
	}
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("exit code %d, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the process was not ended after the grace")
	}
	if e := hook.LastEntry(); e == nil || e.Level != logrus.ErrorLevel {
		t.Fatalf("log entry %v, want an error", e)
	}
}
