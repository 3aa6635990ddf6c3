package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/internal/testfs"
)

// TestFlushFailureIsNotAcknowledged: an order whose commit could not be
// flushed to the disk is reported as not stored (the EHR is asked to send
// it again), and sent again it is recognised as the same order.
func TestFlushFailureIsNotAcknowledged(t *testing.T) {
	s, err := Open(filepath.Join(testfs.TempDir(t), "hub.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var flushed []string
	fail := func(f *os.File) error {
		flushed = append(flushed, filepath.Base(f.Name()))
		return errors.New("input/output error")
	}
	s.wal.flushFile.Store(&fail)
	o := order("hl7", "M1", "P1", domain.ActionNew)
	if _, err := s.ApplyOrder(ctx, o); err == nil || !strings.Contains(err.Error(), "input/output error") {
		t.Fatalf("ApplyOrder with a failing flush: %v, want the flush's error", err)
	}
	if len(flushed) == 0 || !strings.HasSuffix(flushed[len(flushed)-1], "-wal") {
		t.Fatalf("flushed %v, want the WAL file last", flushed)
	}
	ok := datasync
	s.wal.flushFile.Store(&ok)
	acc, err := s.ApplyOrder(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if !acc.Duplicate {
		t.Fatalf("sent again after the failed flush: %+v, want it recognised as stored", acc)
	}
}

// TestFlushFollowsANewWALFile: after the WAL file is replaced (the last
// connection closed, the WAL was checkpointed and removed, a new one
// began), a flush flushes the new file and the database, not the old one.
func TestFlushFollowsANewWALFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows does not remove a file another handle holds open; there the store keeps its connections (and the WAL) open until Close")
	}
	dir := testfs.TempDir(t)
	path := filepath.Join(dir, "x.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+"-wal", []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := newWALSync(path)
	defer w.close()
	var flushed []string
	rec := func(f *os.File) error { flushed = append(flushed, filepath.Base(f.Name())); return nil }
	w.flushFile.Store(&rec)
	if err := w.wait(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path + "-wal"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+"-wal", []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.wait(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path + "-wal"); err != nil {
		t.Fatal(err)
	}
	if err := w.wait(); err != nil {
		t.Fatal(err)
	}
	want := "x.db x.db-wal x.db x.db-wal x.db"
	if got := strings.Join(flushed, " "); got != want {
		t.Fatalf("flushed %q, want %q", got, want)
	}
}

// TestCheckpointCopiesBesideTheWriter: an order arriving while a
// checkpoint copies the WAL into the database is stored (and reported
// done) without waiting for that copy (that the last step still reaches
// the WAL's end: TestWALStartsOverUnderSustainedWrites).
func TestCheckpointCopiesBesideTheWriter(t *testing.T) {
	s, err := Open(filepath.Join(testfs.TempDir(t), "hub.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.wal.checkpointEvery = 24 * time.Hour // only the one below
	ctx := context.Background()
	if _, err := s.ApplyOrder(ctx, order("hl7", "M1", "P1", domain.ActionNew)); err != nil {
		t.Fatal(err)
	}
	s.wal.checkpointing.Wait()
	copying, release := make(chan struct{}), make(chan struct{})
	s.afterCopy = func() { close(copying); <-release }
	done := make(chan struct{})
	go func() { s.checkpointBesideWriter(); close(done) }()
	<-copying
	stored := make(chan error, 1)
	go func() {
		_, err := s.ApplyOrder(ctx, order("hl7", "M2", "P2", domain.ActionNew))
		stored <- err
	}()
	select {
	case err := <-stored:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("an order waited for the checkpoint's copy of the WAL")
	}
	close(release)
	<-done
}

// TestWALStartsOverUnderSustainedWrites: the checkpoints walSync starts
// reach the WAL's end while orders keep coming, so the WAL starts over
// instead of growing with every order stored.
func TestWALStartsOverUnderSustainedWrites(t *testing.T) {
	s, err := Open(filepath.Join(testfs.TempDir(t), "hub.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.wal.checkpointEvery = 0 // after every flush
	ctx := context.Background()
	const writers, each = 8, 250
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		go func(w int) {
			for i := 0; i < each; i++ {
				id := fmt.Sprintf("W%d-%d", w, i)
				if _, err := s.ApplyOrder(ctx, order("hl7", id, "P"+id, domain.ActionNew)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < writers; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	s.wal.close() // waits for a checkpoint under way
	logPages, _, err := s.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 2,000 orders write well over 10,000 pages to the WAL; one that
	// started over holds only what came after the last checkpoint.
	if logPages > 2000 {
		t.Fatalf("the WAL holds %d pages after 2,000 orders: it did not start over", logPages)
	}
}
