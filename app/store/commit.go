package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

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
	// senders counts the callers of apply waiting for their answer; the
	// writer's goroutine alone reads it for the window (see window).
	senders atomic.Int32
	win     window
	// conn is the writer's connection, used by its goroutine only.
	conn writerConn
	// keys are the de-duplication keys of the batch under way.
	keys batchKeys
}

type applyReq struct {
	ctx  context.Context
	o    domain.Order
	pre  *preparedOrder
	acc  domain.Accepted
	err  error
	done chan struct{}
}

func newCommitter(s *Store) *committer {
	c := &committer{s: s, reqs: make(chan *applyReq, maxBatch), stop: make(chan struct{}), done: make(chan struct{}),
		conn: writerConn{db: s.db}}
	go c.loop()
	return c
}

func (c *committer) apply(ctx context.Context, o domain.Order) (domain.Accepted, error) {
	r := &applyReq{ctx: ctx, o: o, pre: c.s.prepareOrder(o), done: make(chan struct{})}
	c.senders.Add(1)
	defer c.senders.Add(-1)
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
	defer c.conn.close()
	var flushed chan struct{} // closed when the last batch is on disk; nil: none pending
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
		flushed = c.batch(first, flushed)
	}
}

// batch stores first and the orders that arrive while the batch before is
// being flushed to the disk, in one transaction, and has it flushed; it
// returns a channel closed once that flush is done. The commit window so
// adapts to the arrival rate: an order that finds the disk idle is
// committed and flushed at once (one order per commit at a low rate); under
// load every commit takes all that came during one flush, and their
// statements run while the disk works.
func (c *committer) batch(first *applyReq, flushed chan struct{}) chan struct{} {
	ctx := context.Background()
	now := c.s.now().UTC()
	c.s.writer <- struct{}{}
	t := &c.conn
	if err := t.begin(ctx); err != nil {
		<-c.s.writer
		first.err = fmt.Errorf("store: apply order from %s: begin: %w", first.o.Connection, err)
		close(first.done)
		return flushed
	}
	var live []*applyReq
	var dbErr error
	add := func(r *applyReq) {
		if err := r.ctx.Err(); err != nil {
			r.err = fmt.Errorf("store: apply order: %w", err)
			close(r.done)
			return
		}
		live = append(live, r)
		// applyOrderTx refuses an order (unknown cancellation) before it
		// writes anything, so a refused order needs no rollback; any other
		// error is the database's, and then the whole batch is rolled back
		// and refused.
		r.acc, r.err = c.s.applyOrderTx(ctx, t, r.o, now, r.pre, &c.keys)
		if r.err != nil && !refused(r.err) {
			dbErr = r.err
		}
	}
	add(first)
gather:
	for len(live) < maxBatch && dbErr == nil {
		if flushed == nil {
			select {
			case r := <-c.reqs:
				add(r)
				continue
			default:
				break gather
			}
		}
		select {
		case r := <-c.reqs:
			add(r)
		case <-flushed:
			flushed = nil
		}
	}
	if dbErr == nil && len(live) < maxBatch {
		// Under load, the senders whose orders were just flushed send their
		// next ones at once: wait a little for them (see window), so that
		// one commit and one flush hold the orders of every sender.
		if want, wait := c.win.expect(time.Now(), int(c.senders.Load())); len(live) < want {
			had := len(live)
			tm := time.NewTimer(wait)
		late:
			for len(live) < want && len(live) < maxBatch && dbErr == nil {
				select {
				case r := <-c.reqs:
					add(r)
				case <-tm.C:
					c.win.missed(time.Now(), had, len(live))
					break late
				}
			}
			tm.Stop()
		}
	}
	if dbErr == nil && len(live) > 0 {
		dbErr = c.keys.write(ctx, t)
	}
	c.keys.reset()
	if dbErr == nil && len(live) > 0 {
		dbErr = noteConnections(ctx, t, live, now)
	}
	if dbErr == nil && len(live) > 0 {
		if err := t.commit(ctx); err != nil {
			dbErr = fmt.Errorf("commit: %w", err)
		}
	} else {
		t.rollback(ctx)
	}
	<-c.s.writer
	if dbErr != nil {
		for _, r := range live {
			if r.err != nil {
				r.acc = domain.Accepted{} // its own error, already specific
			} else {
				r.acc, r.err = domain.Accepted{}, fmt.Errorf("store: apply order from %s: %w", r.o.Connection, dbErr)
			}
			close(r.done)
		}
		return flushed
	}
	if len(live) == 0 {
		return flushed
	}
	answer := func(err error) {
		for _, r := range live {
			if err != nil && r.err == nil {
				// Committed, but not known to be on disk: not acknowledged.
				// Sent again, the order is recognised as stored.
				r.acc, r.err = domain.Accepted{}, fmt.Errorf("store: apply order from %s: %w", r.o.Connection, err)
			}
			close(r.done)
		}
	}
	if len(c.reqs) == 0 {
		// Nothing waits behind this batch: flush here, with no hand-over.
		if ok, err := c.s.wal.now(); ok {
			answer(err)
			return nil
		}
	}
	done := make(chan struct{})
	// Answered once the WAL is on disk; meanwhile the next batch runs.
	c.s.wal.async(func(err error) {
		answer(err)
		close(done)
	})
	return done
}

// window is the commit window that adapts to the arrival rate. Orders
// that arrive while a batch is being flushed go into the next batch; when
// that flush is done, its senders get their answers and, under load, send
// their next orders within a fraction of a millisecond. Committing at once
// would split the senders into ever smaller batches, each with its own
// commit (the pages of every index written again) and its own flush.
// So the writer waits for as many orders as senders were recently waiting
// at once (the most seen within windowSpan), at most windowWait: a lone
// sender is never kept waiting. Senders that are not under load (several
// connections, each sending now and then) do not come back within the
// wait: one that ends with no order more keeps the window shut for
// windowCalm; one that ends with some lowers the count to what came.
type window struct {
	peak      int       // most senders waiting at once since peakAt
	peakAt    time.Time // when the peak was last renewed
	calmUntil time.Time // no waiting before then
}

const (
	// windowSpan is how long a peak of concurrent senders is expected back.
	windowSpan = 100 * time.Millisecond
	// windowWait bounds the wait for the late senders of a batch.
	windowWait = time.Millisecond
	// windowCalm is how long a wait that brought nothing shuts the window.
	windowCalm = 50 * time.Millisecond
)

// expect takes the number of senders waiting now and says how many orders
// the batch should wait for, and for how long at most.
func (w *window) expect(now time.Time, waiting int) (want int, wait time.Duration) {
	if waiting >= w.peak || now.Sub(w.peakAt) > windowSpan {
		w.peak, w.peakAt = waiting, now
	}
	if w.peak < 2 || now.Before(w.calmUntil) {
		return 0, 0
	}
	return w.peak, windowWait
}

// missed records a wait that ended before the batch held the orders
// expected: it had orders when the wait began and got when it ended.
func (w *window) missed(now time.Time, had, got int) {
	if got <= had {
		w.calmUntil = now.Add(windowCalm)
		return
	}
	w.peak = got
}

// noteConnections records, once per connection and commit, when each
// connection of the batch last brought an order that was stored.
func noteConnections(ctx context.Context, t execer, live []*applyReq, now time.Time) error {
	var seen [4]string
	conns := seen[:0]
	for _, r := range live {
		if r.err == nil && !slices.Contains(conns, r.o.Connection) {
			conns = append(conns, r.o.Connection)
		}
	}
	for _, c := range conns {
		if _, err := t.ExecContext(ctx, `INSERT INTO connection_orders(connection, last_at) VALUES (?, ?)
			ON CONFLICT(connection) DO UPDATE SET last_at=max(last_at, excluded.last_at)`, c, ts(now)); err != nil {
			return fmt.Errorf("note when %s last brought an order: %w", c, err)
		}
	}
	return nil
}

// refused reports whether err refuses an order for what it says (nothing
// was written for it), as opposed to a database failure.
func refused(err error) bool {
	return domain.Refused(err)
}
