// Package store is the hub's durable memory: an embedded SQLite database
// (modernc.org/sqlite, pure Go) in WAL mode; a write returns only after the
// WAL holding it is flushed to the disk (walsync.go), so that a write that
// returned survives a crash or power cut.
//
// It keeps orders (with a de-duplication key per source message), tablet
// groups (a default group always exists), devices and pairing codes, results,
// deliveries with their attempts, and an audit log. Schema changes are
// numbered migrations recorded in PRAGMA user_version; a database written by
// a newer hub is refused untouched, and a corrupt file is refused, never
// overwritten. Orders and results are stored as JSON documents of the
// store's own row types (rows.go), whose names are the stored format and
// never follow a renamed domain field.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNewerSchema is returned by Open for a database written by a newer hub.
var ErrNewerSchema = errors.New("database was written by a newer version of mCONNECT Hub")

// ErrCorrupt is returned by Open for a file that is not a usable database.
var ErrCorrupt = errors.New("database file is damaged or not an mCONNECT Hub database")

// JournalSizeLimit is the size the write-ahead log file is cut back to
// when it starts over after a checkpoint: a large delete (the retention
// sweep) must not leave a log file of hundreds of MB behind.
const JournalSizeLimit = 64 << 20

// PageSize is the page size of a new database file (an existing one keeps
// its own). Every order written dirties a leaf page of two indexes at a
// place its key chooses (the placer number, the message's control ID:
// from many EHRs random), and each such page is written whole to the
// write-ahead log at the commit and flushed: with pages of 2 KB instead of
// SQLite's 4 KB a commit writes about half the bytes, and a new order is
// stored with less CPU and a shorter flush (docs/BENCHMARKS.md).
const PageSize = 2048

// Store is the SQLite-backed store. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	path    string
	now     func() time.Time
	commits *committer
	wal     *walSync
	cache   stmtCache
	groups  groupCache
	// writer admits one transaction of this process at a time, in the
	// order they asked: SQLite's own busy wait polls with growing sleeps,
	// so a writer that commits back to back (a busy ingest) would win the
	// lock nearly every time and starve another (the retention sweep).
	writer chan struct{}
	// afterCopy, when set, runs between the two steps of
	// checkpointBesideWriter (a test holds the first one there).
	afterCopy func()
}

// checkpointBesideWriter is walSync's checkpoint. It copies the WAL into
// the database first beside the order writer: copying and flushing the
// database take milliseconds, which an order arriving meanwhile would
// otherwise wait for. Then it copies what the writer added in the meantime
// (mostly nothing, and SQLite neither copies nor flushes then) between two
// of the writer's transactions, so that the checkpoint reaches the WAL's
// end and the next write starts the WAL over: beside a writer that never
// pauses it would never get there, and the WAL would grow with every
// order. A failure leaves the WAL to the next try.
func (s *Store) checkpointBesideWriter() {
	ctx := context.Background()
	_, _, _ = s.Checkpoint(ctx)
	if s.afterCopy != nil {
		s.afterCopy()
	}
	s.writer <- struct{}{}
	defer func() { <-s.writer }()
	_, _, _ = s.Checkpoint(ctx)
}

// Options tune Open; the zero value is right for the hub.
type Options struct {
	// Now replaces the clock (tests).
	Now func() time.Time
}

// Open opens (creating if needed) the database at path and migrates it to
// the current schema. It refuses a database from a newer schema and a file
// that is not a SQLite database, leaving both untouched.
func Open(path string, opt Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: create folder for %s: %w", path, err)
	}
	fresh, err := checkHeader(path)
	if err != nil {
		return nil, err
	}
	if fresh {
		if err := create(path); err != nil {
			return nil, err
		}
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	// NORMAL: SQLite does not wait for the disk at a commit; walSync flushes
	// the WAL before any write is reported done (walsync.go).
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(ON)")
	// Checkpoints run beside the writer (walSync), not inside a commit.
	q.Add("_pragma", "wal_autocheckpoint(0)")
	q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", JournalSizeLimit))
	q.Set("_txlock", "immediate")
	dsn := "file:" + filepath.ToSlash(path) + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// Four for the pool, one more kept by the order writer (writerConn).
	db.SetMaxOpenConns(5)
	// Connections stay open: the WAL file walSync flushes is removed when
	// the last one closes (and on Windows an open handle would stop that).
	db.SetMaxIdleConns(5)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db, path: path, now: time.Now, writer: make(chan struct{}, 1), wal: newWALSync(path)}
	if opt.Now != nil {
		s.now = opt.Now
	}
	ctx := context.Background()
	if err := db.PingContext(ctx); err != nil {
		s.wal.close()
		db.Close()
		return nil, classifyOpenErr(path, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.wal.close()
		db.Close()
		return nil, err
	}
	s.wal.checkpointEvery = time.Second
	s.wal.checkpoint = s.checkpointBesideWriter
	s.commits = newCommitter(s)
	return s, nil
}

// checkHeader reports whether path is a fresh database (no file, or an
// empty one), and refuses an existing non-empty file that is not SQLite,
// before the driver could touch it.
func checkHeader(path string) (fresh bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: open %s: %w", path, err)
	}
	defer f.Close()
	hdr := make([]byte, 16)
	n, err := io.ReadFull(f, hdr)
	if n == 0 && (err == io.EOF) {
		return true, nil
	}
	if n < 16 || string(hdr) != "SQLite format 3\x00" {
		return false, fmt.Errorf("store: %s: %w (it does not start with a SQLite header); move it away to start with an empty database, or restore a backup", path, ErrCorrupt)
	}
	return false, nil
}

// create writes a new database file with PageSize and in WAL mode, which
// fixes its page size. The driver applies the DSN's pragmas in the order
// of their names, journal_mode before page_size: set here, in this order,
// on a connection of its own.
func create(path string) error {
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path))
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, p := range []string{fmt.Sprintf("PRAGMA page_size=%d", PageSize), "PRAGMA journal_mode=WAL"} {
		if _, err := db.Exec(p); err != nil {
			return classifyOpenErr(path, fmt.Errorf("%s: %w", p, err))
		}
	}
	return db.Close()
}

func classifyOpenErr(path string, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "not a database") || strings.Contains(msg, "malformed") || strings.Contains(msg, "corrupt") {
		return fmt.Errorf("store: %s: %w: %v", path, ErrCorrupt, err)
	}
	if strings.Contains(msg, "readonly") || strings.Contains(msg, "unable to open") || strings.Contains(msg, "permission") {
		return fmt.Errorf("store: %s cannot be opened for writing (check that the data folder is writable): %w", path, err)
	}
	return fmt.Errorf("store: open %s: %w", path, err)
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// DB exposes the handle to packages that keep their own tables in the same
// database (the outbox). They must use transactions for multi-row changes.
func (s *Store) DB() *sql.DB { return s.db }

// Now returns the store's clock reading.
func (s *Store) Now() time.Time { return s.now() }

// Close answers or refuses pending writes and closes the database.
func (s *Store) Close() error {
	s.commits.close()
	s.wal.close()
	s.closeStmts()
	return s.db.Close()
}

// Check runs SQLite's quick integrity check (diagnostics, start-up).
func (s *Store) Check(ctx context.Context) error {
	var res string
	if err := s.db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("store: integrity check: %w: %s", ErrCorrupt, res)
	}
	return nil
}

// tx runs fn in one immediate transaction, committing when fn returns nil,
// and returns once the commit is on disk (s.wal). The writer is free again
// while the disk is flushed.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if err := s.commitTx(ctx, fn); err != nil {
		return err
	}
	return s.wal.wait()
}

func (s *Store) commitTx(ctx context.Context, fn func(*sql.Tx) error) error {
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("begin: %w", ctx.Err())
	}
	defer func() { <-s.writer }()
	t, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(t); err != nil {
		t.Rollback()
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func ts(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromTS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
