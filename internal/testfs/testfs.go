// Package testfs holds file-system helpers for tests that must pass on
// Windows and under Wine (scripts/wine.sh).
//
// TempDir replaces testing's t.TempDir: under Wine 8 os.RemoveAll of a
// folder that holds files fails ("unlinkat …: Invalid function"), so every
// t.TempDir with files fails its test at cleanup although the test's own
// checks passed. TempDir removes the tree file by file with os.Remove,
// which works there and on Windows, retrying while another program (an
// antivirus, a file still being closed) holds a file. docs/WINDOWS.md
// explains; scripts/wine-tempdir.sh puts TempDir in place of t.TempDir in
// the test files of the packages run under Wine.
package testfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TempDir returns a new empty folder removed when the test and its
// subtests finish, like t.TempDir. A folder that cannot be removed fails
// the test, naming the first entry that stays.
func TempDir(tb testing.TB) string {
	tb.Helper()
	if runtime.GOOS != "windows" {
		return tb.TempDir()
	}
	dir, err := os.MkdirTemp("", pattern(tb.Name()))
	if err != nil {
		tb.Fatalf("testfs: temp folder: %v", err)
	}
	tb.Cleanup(func() {
		if err := RemoveTree(dir); err != nil {
			tb.Errorf("testfs: temp folder not removed: %v", err)
		}
	})
	return dir
}

// pattern turns a test name into a folder name prefix, as testing does.
func pattern(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() >= 64 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteRune('_')
		}
	}
	return b.String() + "-*"
}

// retryFor is how long RemoveTree retries an entry another process holds.
const retryFor = 2 * time.Second

// RemoveTree removes dir and everything below it, deepest entries first,
// each with os.Remove. Read-only files are made writable first (Windows
// refuses to delete them). An entry that cannot be removed within a short
// retry is reported with its path.
func RemoveTree(dir string) error {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	for i := len(paths) - 1; i >= 0; i-- {
		if err := removeOne(paths[i]); err != nil {
			return err
		}
	}
	return nil
}

func removeOne(p string) error {
	deadline := time.Now().Add(retryFor)
	for {
		err := os.Remove(p)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if fi, serr := os.Lstat(p); serr == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o200 == 0 {
			os.Chmod(p, 0o600)
			continue
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
