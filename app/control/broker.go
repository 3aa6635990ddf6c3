package control

import (
	"context"
	"sync"
	"time"
)

// Broker fans events out to subscribers. A subscriber that does not keep
// up loses its oldest events (each event says what to re-read, so a
// missed one costs a refresh, never data).
type Broker struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

// Publish sends ev to every subscriber without blocking.
func (b *Broker) Publish(ev Event) {
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- ev:
		default:
			select {
			case <-ch:
			default:
			}
			select {
			case ch <- ev:
			default:
			}
		}
	}
}

// Subscribe returns a channel of events until ctx is done.
func (b *Broker) Subscribe(ctx context.Context) <-chan Event {
	ch := make(chan Event, 64)
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[chan Event]struct{}{}
	}
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	out := make(chan Event, 64)
	go func() {
		defer close(out)
		defer func() {
			b.mu.Lock()
			delete(b.subs, ch)
			b.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-ch:
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}
