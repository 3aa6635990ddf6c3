//go:build !linux

package store

import "os"

// datasync flushes f to the disk (FlushFileBuffers on Windows, fsync elsewhere).
func datasync(f *os.File) error { return f.Sync() }
