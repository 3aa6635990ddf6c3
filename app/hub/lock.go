package hub

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrAlreadyRunning is returned when another hub uses the same data folder.
var ErrAlreadyRunning = errors.New("another mCONNECT Hub is already running on this data folder")

// dirLock is an exclusive lock on the data folder, held while the hub runs,
// so that a second instance cannot start on the same database and folders.
type dirLock struct {
	f    *os.File
	path string
}

func lockDataDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, "mconnect.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data folder %s: cannot create the lock file (is the folder writable?): %w", dir, err)
	}
	if err := lockFile(f); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		pid := strings.TrimSpace(string(b))
		if _, perr := strconv.Atoi(pid); perr == nil {
			return nil, fmt.Errorf("%w (process %s holds %s); stop it first or use another data folder", ErrAlreadyRunning, pid, path)
		}
		return nil, fmt.Errorf("%w (%s is locked); stop it first or use another data folder", ErrAlreadyRunning, path)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	f.Sync()
	return &dirLock{f: f, path: path}, nil
}

func (l *dirLock) release() {
	if l == nil || l.f == nil {
		return
	}
	unlockFile(l.f)
	l.f.Close()
	l.f = nil
}
