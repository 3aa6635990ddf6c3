package store

import (
	"context"
	"database/sql"
)

// writerConn is the committer's own connection to the database. Its
// transactions are begun and ended by statement, and its statements are
// prepared on it once. Through a *sql.Tx every statement of every order
// paid for the pool: the prepared statement bound to the transaction anew
// at each use, and for each query a goroutine watching the transaction's
// context (docs/BENCHMARKS.md, "Where the time goes").
type writerConn struct {
	db    *sql.DB
	conn  *sql.Conn // nil until the first transaction, and after a failure
	stmts map[string]*sql.Stmt
}

// begin starts an immediate transaction on the connection, opening it
// first if need be. BEGIN, COMMIT and ROLLBACK are prepared statements
// too.
func (w *writerConn) begin(ctx context.Context) error {
	if w.conn == nil {
		c, err := w.db.Conn(ctx)
		if err != nil {
			return err
		}
		w.conn, w.stmts = c, map[string]*sql.Stmt{}
	}
	if _, err := w.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		w.close() // opened again for the next transaction
		return err
	}
	return nil
}

// commit ends the transaction. After a failure it is rolled back (SQLite
// may have done so already; then the connection is given up).
func (w *writerConn) commit(ctx context.Context) error {
	if _, err := w.ExecContext(ctx, "COMMIT"); err != nil {
		w.rollback(ctx)
		return err
	}
	return nil
}

// rollback ends the transaction without its changes; a failure gives the
// connection up, so that the next transaction starts on a clean one.
func (w *writerConn) rollback(ctx context.Context) {
	if w.conn == nil {
		return
	}
	if _, err := w.ExecContext(ctx, "ROLLBACK"); err != nil {
		w.close()
	}
}

func (w *writerConn) close() {
	for _, st := range w.stmts {
		st.Close()
	}
	if w.conn != nil {
		w.conn.Close()
	}
	w.conn, w.stmts = nil, nil
}

func (w *writerConn) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := w.stmts[query]; ok {
		return st
	}
	st, err := w.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil // run unprepared: its error is the statement's own
	}
	w.stmts[query] = st
	return st
}

// QueryRowContext, ExecContext and QueryContext make writerConn an
// execer for the transaction under way.
func (w *writerConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := w.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return w.conn.QueryRowContext(ctx, query, args...)
}

func (w *writerConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := w.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return w.conn.ExecContext(ctx, query, args...)
}

func (w *writerConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := w.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return w.conn.QueryContext(ctx, query, args...)
}

var _ execer = (*writerConn)(nil)
