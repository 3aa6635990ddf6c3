package device

import (
	"net"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/netlimit"
)

// refusals logs connections refused by the connection limits: the first
// at once, then one line a minute with the count, so that a flood does not
// flood the log too.
type refusals struct {
	mu      sync.Mutex
	last    time.Time
	pending int
}

func (f *refusals) note(log logrus.FieldLogger) func(net.Addr, netlimit.Reason) {
	return func(peer net.Addr, why netlimit.Reason) {
		f.mu.Lock()
		f.pending++
		now := time.Now()
		if now.Sub(f.last) < time.Minute {
			f.mu.Unlock()
			return
		}
		n := f.pending
		f.pending, f.last = 0, now
		f.mu.Unlock()
		log.WithFields(logrus.Fields{"peer": peer.String(), "reason": string(why), "refused": n}).
			Warn("device: connections refused: too many open (per address or in all)")
	}
}
