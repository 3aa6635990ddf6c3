package view

import (
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/ui/words"
)

// Notification rules: a problem a person must act on is notified once
// until it clears. Errors at once; warnings (an EHR that does not answer,
// a connection that is down) only after they lasted warnAfter. Between two
// notifications at least notifyGap passes; what comes up meanwhile is
// told together in the next one.
const (
	warnAfter = 2 * time.Minute
	notifyGap = 30 * time.Second
)

// notification is what the desktop shows, and which tab answers it.
type notification struct {
	title, body string
	tab         string // "results", "tablets", "connections"
}

// notifier decides, from the hub's health snapshots, when to tell a
// person. It is used on Fyne's goroutine only.
type notifier struct {
	now  func() time.Time
	send func(notification)

	since    map[string]time.Time // problem key → first seen
	told     map[string]bool      // problem key → notified, until it clears
	lastSent time.Time
	waiting  []notification // problems due while the gap runs
}

func newNotifier(now func() time.Time, send func(notification)) *notifier {
	return &notifier{now: now, send: send, since: map[string]time.Time{}, told: map[string]bool{}}
}

// observe takes a health snapshot (and is also called now and then
// without a change, so that warnings that last get their notification).
func (n *notifier) observe(hs []domain.Health) {
	now := n.now()
	current := map[string]bool{}
	for _, h := range hs {
		if h.Severity < domain.SeverityWarning {
			continue
		}
		key := h.Component + "|" + h.Code
		current[key] = true
		first, ok := n.since[key]
		if !ok {
			first = now
			n.since[key] = now
		}
		if n.told[key] {
			continue
		}
		if h.Severity == domain.SeverityWarning && now.Sub(first) < warnAfter {
			continue
		}
		n.told[key] = true
		title, text := words.Health(h, langLookup)
		n.waiting = append(n.waiting, notification{title: title, body: text, tab: tabFor(h.Component)})
	}
	for key := range n.since {
		if !current[key] { // cleared: a new occurrence is told again
			delete(n.since, key)
			delete(n.told, key)
		}
	}
	n.flush(now)
}

// flush sends what is waiting, unless the last notification was too recent.
func (n *notifier) flush(now time.Time) {
	if len(n.waiting) == 0 || (!n.lastSent.IsZero() && now.Sub(n.lastSent) < notifyGap) {
		return
	}
	msg := n.waiting[0]
	if len(n.waiting) > 1 {
		msg = notification{title: txtNotifyMany(len(n.waiting)), body: txtNotifyManyText(), tab: "connections"}
		for _, w := range n.waiting[1:] {
			if w.tab != n.waiting[0].tab {
				break
			}
			msg.tab = w.tab
		}
	}
	n.waiting = nil
	n.lastSent = now
	n.send(msg)
}

// tabFor is the Dashboard tab where a component's problem is dealt with.
func tabFor(component string) string {
	switch words.Area(component) {
	case "outbox", "files-out", "results-out":
		return "results"
	case "device":
		return "tablets"
	default:
		return "connections"
	}
}
