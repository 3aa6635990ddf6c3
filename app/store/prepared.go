package store

import (
	"context"
	"database/sql"
	"sync"
)

// execer is what the write helpers need of a transaction: a *sql.Tx, or
// a preparedTx that reuses prepared statements on the hot path.
type execer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// stmtCache keeps the statements of the hot paths (orders, the outbox)
// prepared, so that SQLite parses each once per connection instead of once
// per use.
type stmtCache struct {
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool
	closed  bool
}

func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	if st, ok := s.cache.stmts[query]; ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if s.cache.stmts == nil {
		s.cache.stmts = map[string]*sql.Stmt{}
	}
	s.cache.stmts[query] = st
	return st, nil
}

// cachedStmt returns query's prepared statement if there is one. If not,
// it has it prepared in the background and returns nil: a transaction
// holds a connection, and preparing through the pool from inside it could
// wait for a connection that only its own end frees (a deadlock when
// every connection is in a transaction).
func (s *Store) cachedStmt(query string) *sql.Stmt {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	if st, ok := s.cache.stmts[query]; ok {
		return st
	}
	if s.cache.closed || s.cache.pending[query] {
		return nil
	}
	if s.cache.pending == nil {
		s.cache.pending = map[string]bool{}
	}
	s.cache.pending[query] = true
	go func() {
		st, err := s.db.PrepareContext(context.Background(), query)
		s.cache.mu.Lock()
		defer s.cache.mu.Unlock()
		delete(s.cache.pending, query)
		if err != nil {
			return // used unprepared; tried again next time
		}
		if s.cache.closed {
			st.Close()
			return
		}
		if s.cache.stmts == nil {
			s.cache.stmts = map[string]*sql.Stmt{}
		}
		s.cache.stmts[query] = st
	}()
	return nil
}

func (s *Store) closeStmts() {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	for _, st := range s.cache.stmts {
		st.Close()
	}
	s.cache.stmts = nil
	s.cache.closed = true
}

// preparedTx runs statements of a transaction through the cache.
type preparedTx struct {
	tx *sql.Tx
	s  *Store
}

func (s *Store) prepared(tx *sql.Tx) preparedTx { return preparedTx{tx: tx, s: s} }

func (p preparedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st := p.s.cachedStmt(query)
	if st == nil {
		return p.tx.QueryRowContext(ctx, query, args...)
	}
	return p.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
}

func (p preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st := p.s.cachedStmt(query)
	if st == nil {
		return p.tx.ExecContext(ctx, query, args...)
	}
	return p.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

func (p preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st := p.s.cachedStmt(query)
	if st == nil {
		return p.tx.QueryContext(ctx, query, args...)
	}
	return p.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
}
