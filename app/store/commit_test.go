package store

import (
	"testing"
	"time"
)

func TestCommitWindow(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	steps := []struct {
		name     string
		at       time.Duration // since t0
		waiting  int
		want     int
		wantWait time.Duration
	}{
		{"a lone sender is never kept waiting", 0, 1, 0, 0},
		{"still alone", time.Millisecond, 1, 0, 0},
		{"eight senders at once", 2 * time.Millisecond, 8, 8, windowWait},
		{"between two batches fewer wait: the peak holds", 3 * time.Millisecond, 3, 8, windowWait},
		{"the peak held within the span", 2*time.Millisecond + windowSpan, 4, 8, windowWait},
		{"after the span the peak follows what waits", 3*time.Millisecond + windowSpan, 3, 3, windowWait},
		{"a higher count renews it at once", 4*time.Millisecond + windowSpan, 5, 5, windowWait},
		{"back to one sender, once the span passed", 5*time.Millisecond + 2*windowSpan, 1, 0, 0},
		{"nobody waiting (a batch of refused orders)", 6*time.Millisecond + 3*windowSpan, 0, 0, 0},
	}
	var w window
	for _, s := range steps {
		want, wait := w.expect(t0.Add(s.at), s.waiting)
		if want != s.want || wait != s.wantWait {
			t.Errorf("%s: expect(%d waiting) = %d, %v; want %d, %v", s.name, s.waiting, want, wait, s.want, s.wantWait)
		}
	}
}

// TestCommitWindowCalms: senders that do not come back within the wait
// (several connections, none under load) shut the window for windowCalm;
// a wait that brought some of them lowers the count to what came.
func TestCommitWindowCalms(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var w window
	if want, _ := w.expect(t0, 8); want != 8 {
		t.Fatalf("eight waiting: want %d, expected 8", want)
	}
	// The wait brought 3 more to a batch of 2: expect 5 from now on.
	w.missed(t0.Add(time.Millisecond), 2, 5)
	if want, _ := w.expect(t0.Add(2*time.Millisecond), 4); want != 5 {
		t.Errorf("after a wait that brought some: want %d, expected 5", want)
	}
	// A wait that brought nothing: no waiting for windowCalm.
	miss := t0.Add(3 * time.Millisecond)
	w.missed(miss, 1, 1)
	for _, at := range []time.Duration{0, time.Millisecond, windowCalm - time.Millisecond} {
		if want, wait := w.expect(miss.Add(at), 6); want != 0 || wait != 0 {
			t.Errorf("%v after a wait that brought nothing: expect = %d, %v; want no wait", at, want, wait)
		}
	}
	if want, wait := w.expect(miss.Add(windowCalm), 6); want != 6 || wait != windowWait {
		t.Errorf("windowCalm after it: expect = %d, %v; want 6, %v", want, wait, windowWait)
	}
}
