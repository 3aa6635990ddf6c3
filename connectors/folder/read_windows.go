//go:build windows

package folder

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
)

// readWhole reads a file unless another program still has it open for
// writing. It opens the file denying others write access (share mode read
// only), which Windows refuses while a writer (the EHR) holds it: then the
// answer is errStillOpen and the file is tried again later, never read
// half-written.
func readWhole(path string) ([]byte, error) {
	p, err := windows.UTF16PtrFromString(longPath(path))
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ, windows.FILE_SHARE_READ, nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if errors.Is(err, windows.ERROR_SHARING_VIOLATION) {
		return nil, errStillOpen
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(h), path)
	defer f.Close()
	return io.ReadAll(f)
}

// longPath gives an absolute path of MAX_PATH or more the \\?\ prefix that
// the Windows API needs for it (the os package does the same for its own
// calls).
func longPath(p string) string {
	if len(p) < 248 || !filepath.IsAbs(p) || strings.HasPrefix(p, `\\?\`) {
		return p
	}
	p = filepath.Clean(p)
	if strings.HasPrefix(p, `\\`) {
		return `\\?\UNC\` + p[2:]
	}
	return `\\?\` + p
}
