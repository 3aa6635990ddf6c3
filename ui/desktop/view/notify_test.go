package view

import (
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

func TestNotifierOncePerCauseUntilItClears(t *testing.T) {
	now := testNow
	var sent []notification
	n := newNotifier(func() time.Time { return now }, func(x notification) { sent = append(sent, x) })
	failed := domain.Health{Component: "conn:birpis/outbox", Code: "needs-attention", Severity: domain.SeverityError}
	down := domain.Health{Component: "conn:birpis", Code: "listen-failed", Severity: domain.SeverityWarning}
	ok := domain.Health{Component: "store", Code: "ready", Severity: domain.SeverityOK}

	n.observe([]domain.Health{ok, failed})
	if len(sent) != 1 || sent[0].tab != "results" {
		t.Fatalf("a failed delivery: %+v", sent)
	}
	n.observe([]domain.Health{ok, failed})
	now = now.Add(time.Minute)
	n.observe([]domain.Health{ok, failed, down})
	if len(sent) != 1 {
		t.Fatalf("told again, or a fresh warning told at once: %+v", sent)
	}
	now = now.Add(2 * time.Minute) // the warning lasted
	n.observe([]domain.Health{ok, failed, down})
	if len(sent) != 2 || sent[1].tab != "connections" {
		t.Fatalf("a lasting warning: %+v", sent)
	}
	// It clears, then comes back: told again (after the gap).
	n.observe([]domain.Health{ok})
	n.observe([]domain.Health{ok, failed})
	if len(sent) != 2 {
		t.Fatalf("told within the gap: %+v", sent)
	}
	now = now.Add(notifyGap)
	n.observe([]domain.Health{ok, failed})
	if len(sent) != 3 {
		t.Fatalf("a cause that came back: %+v", sent)
	}
	// Several at once: one notification that says so.
	n.observe(nil)
	now = now.Add(notifyGap)
	n.observe([]domain.Health{failed, {Component: "device", Code: "listen-failed", Severity: domain.SeverityError}})
	if len(sent) != 4 || sent[3].title != "mCONNECT Hub: 2 things need your attention" {
		t.Fatalf("two at once: %+v", sent[len(sent)-1])
	}
}
