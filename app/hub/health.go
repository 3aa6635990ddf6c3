package hub

import (
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// healthBoard keeps the latest health of every component and tells
// subscribers about each change. It is the one place the tray colour and
// the Dashboard read from.
type healthBoard struct {
	mu    sync.Mutex
	state map[string]domain.Health
	subs  map[int]func([]domain.Health)
	next  int
	now   func() time.Time
}

func newHealthBoard() *healthBoard {
	return &healthBoard{state: map[string]domain.Health{}, subs: map[int]func([]domain.Health){}, now: time.Now}
}

// Report implements domain.HealthReporter. LastMessageAt and LastError are
// kept from earlier reports when a new one leaves them empty.
func (b *healthBoard) Report(h domain.Health) {
	if h.At.IsZero() {
		h.At = b.now()
	}
	b.mu.Lock()
	if old, ok := b.state[h.Component]; ok {
		if h.LastMessageAt.IsZero() {
			h.LastMessageAt = old.LastMessageAt
		}
		if h.LastError == "" {
			h.LastError = old.LastError
		}
		if old.Severity == h.Severity && old.Code == h.Code && maps.Equal(old.Args, h.Args) && old.Detail == h.Detail &&
			old.LastMessageAt.Equal(h.LastMessageAt) && old.LastError == h.LastError {
			b.mu.Unlock()
			return // nothing new: no wake-ups for subscribers
		}
	}
	b.state[h.Component] = h
	snap := b.snapshotLocked()
	subs := make([]func([]domain.Health), 0, len(b.subs))
	for _, f := range b.subs {
		subs = append(subs, f)
	}
	b.mu.Unlock()
	for _, f := range subs {
		f(snap)
	}
}

// touch records that a component moved a message now. Touches less than a
// second apart are not reported again (a tablet's worklist polls must not
// wake every subscriber).
func (b *healthBoard) touch(component string) {
	b.mu.Lock()
	h, ok := b.state[component]
	b.mu.Unlock()
	now := b.now()
	if !ok || now.Sub(h.LastMessageAt) < time.Second {
		return
	}
	h.LastMessageAt = now
	h.At = h.LastMessageAt
	b.Report(h)
}

func (b *healthBoard) snapshotLocked() []domain.Health {
	out := make([]domain.Health, 0, len(b.state))
	for _, h := range b.state {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Component < out[j].Component })
	return out
}

// Snapshot returns every component's health, sorted by component.
func (b *healthBoard) Snapshot() []domain.Health {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.snapshotLocked()
}

// Subscribe calls fn with the whole picture on every change until cancel.
func (b *healthBoard) Subscribe(fn func([]domain.Health)) (cancel func()) {
	b.mu.Lock()
	id := b.next
	b.next++
	b.subs[id] = fn
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
	}
}
