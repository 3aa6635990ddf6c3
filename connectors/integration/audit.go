package integration

import (
	"context"
	"sync"

	"github.com/mesi/mconnect/app/domain"
)

// Auditor writes audit entries durably, many in one transaction.
type Auditor interface {
	AuditAll(ctx context.Context, entries []domain.AuditEntry) error
}

// auditLog writes every call's entry before the call is answered, with
// group commit: entries that arrive while a write is under way go into the
// next write together, so that a burst of calls costs a few writes, not
// one each. The caller that finds no write under way does the writing.
type auditLog struct {
	st Auditor

	mu      sync.Mutex
	writing bool
	pending *auditBatch
}

type auditBatch struct {
	entries []domain.AuditEntry
	done    chan struct{}
	err     error
}

// record writes e and returns when it is stored (or failed).
func (a *auditLog) record(e domain.AuditEntry) error {
	a.mu.Lock()
	b := a.pending
	if b == nil {
		b = &auditBatch{done: make(chan struct{})}
		a.pending = b
	}
	b.entries = append(b.entries, e)
	lead := !a.writing
	if lead {
		a.writing = true
	}
	a.mu.Unlock()
	if lead {
		a.flush()
	}
	<-b.done
	return b.err
}

// flush writes batches until none is pending.
func (a *auditLog) flush() {
	for {
		a.mu.Lock()
		b := a.pending
		a.pending = nil
		if b == nil {
			a.writing = false
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
		b.err = a.st.AuditAll(context.Background(), b.entries)
		close(b.done)
	}
}
