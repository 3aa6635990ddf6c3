package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/mesi/mconnect/app/domain"
)

// maxBatch bounds how many orders share one commit.
const maxBatch = 64

// ErrClosed is returned for writes after Close.
var ErrClosed = errors.New("store: closed")

// committer stores orders with group commit: orders that arrive while a
// commit is under way (from several MLLP connections or folders at once)
// are stored together in the next transaction, one fsync for all of them.
// One refused order (an unknown cancellation) never takes the others with
// it; every caller is answered only after the commit that holds its order
// returned.
type committer struct {
	mu     sync.RWMutex // held for reading while a request is handed over
	closed bool
	s      *Store
	reqs   chan *applyReq
	stop   chan struct{}
	done   chan struct{}
}

type applyReq struct {
	ctx  context.Context
	o    domain.Order
	acc  domain.Accepted
	err  error
	done chan struct{}
}

func newCommitter(s *Store) *committer {
	c := &committer{s: s, reqs: make(chan *applyReq, maxBatch), stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

func (c *committer) apply(ctx context.Context, o domain.Order) (domain.Accepted, error) {
	r := &applyReq{ctx: ctx, o: o, done: make(chan struct{})}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return domain.Accepted{}, ErrClosed
	}
	select {
	case c.reqs <- r:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		return domain.Accepted{}, fmt.Errorf("store: apply order: %w", ctx.Err())
	}
	// Once queued, the answer is waited for even if ctx ends: the order may
	// be committed, and the caller must not be told otherwise.
	<-r.done
	return r.acc, r.err
}

func (c *committer) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	close(c.stop)
	<-c.done
}

func (c *committer) loop() {
	defer close(c.done)
	for {
		var first *applyReq
		select {
		case first = <-c.reqs:
		case <-c.stop:
			// Answer what is still queued, then stop.
			for {
				select {
				case r := <-c.reqs:
					r.err = ErrClosed
					close(r.done)
				default:
					return
				}
			}
		}
		batch := []*applyReq{first}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		c.commit(batch)
	}
}

func (c *committer) commit(batch []*applyReq) {
	ctx := context.Background()
	now := c.s.now().UTC()
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = fmt.Errorf("store: apply order: %w", err)
			close(r.done)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	// applyOrderTx refuses an order (unknown cancellation) before it writes
	// anything, so a refused order needs no rollback; any other error is the
	// database's, and then the whole batch is rolled back and refused.
	err := c.s.tx(ctx, func(tx *sql.Tx) error {
		t := c.s.prepared(tx)
		for _, r := range live {
			r.acc, r.err = c.s.applyOrderTx(ctx, t, r.o, now)
			if r.err != nil && !refused(r.err) {
				return r.err
			}
		}
		return nil
	})
	for _, r := range live {
		switch {
		case err != nil && r.err != nil:
			r.acc = domain.Accepted{} // its own error, already specific
		case err != nil:
			r.acc, r.err = domain.Accepted{}, fmt.Errorf("store: apply order from %s: %w", r.o.Connection, err)
		}
		close(r.done)
	}
}

// refused reports whether err refuses an order for what it says (nothing
// was written for it), as opposed to a database failure.
func refused(err error) bool {
	return domain.Refused(err)
}
