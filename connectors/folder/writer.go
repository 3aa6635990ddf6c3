package folder

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrExists is returned when the target name is taken by a file the reader
// has not picked up yet. It is temporary by nature: try again later.
var ErrExists = errors.New("a file of that name is waiting to be picked up")

// ErrNoFreeNumber is returned when every counting extension .000 ... .999 is taken.
var ErrNoFreeNumber = errors.New("all counting extensions .000 to .999 are taken")

// TempDirName is the default temp directory, a sibling of the target folder.
const TempDirName = ".mconnect-tmp"

// Writer writes files into a folder atomically: the content goes to a temp
// file outside the folder (same filesystem), is fsynced, then appears under
// its final name in one step, and the folder is fsynced. An existing file is
// never overwritten.
type Writer struct {
	dir     string
	tempDir string
}

// NewWriter prepares a writer for dir, creating dir when missing. tempDir ""
// means a sibling "<parent>/.mconnect-tmp"; when that cannot be created, a
// hidden ".mconnect-tmp" inside dir is used (readers do not recurse into it).
func NewWriter(dir, tempDir string) (*Writer, error) {
	if dir == "" {
		return nil, errors.New("folder: writer needs a folder")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("folder: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("folder: target folder %s cannot be created: %w", dir, err)
	}
	if tempDir == "" {
		tempDir = filepath.Join(filepath.Dir(dir), TempDirName)
		if err := os.MkdirAll(tempDir, 0o700); err != nil {
			tempDir = filepath.Join(dir, TempDirName)
		}
	}
	if err := os.MkdirAll(tempDir, 0o700); err != nil {
		return nil, fmt.Errorf("folder: temp folder %s cannot be created: %w", tempDir, err)
	}
	return &Writer{dir: dir, tempDir: tempDir}, nil
}

// Dir returns the target folder.
func (w *Writer) Dir() string { return w.dir }

// WriteFile writes r to dir/name. If dir/name exists the content is not
// written and the error wraps ErrExists.
func (w *Writer) WriteFile(name string, r io.Reader) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	tmp, err := w.temp(r)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	final := filepath.Join(w.dir, name)
	if err := commit(tmp, final); err != nil {
		return "", err
	}
	syncDir(w.dir)
	return final, nil
}

// WriteNumbered writes r to dir/stem.NNN with the next free counting
// extension: one past the highest present, wrapping to the lowest free.
func (w *Writer) WriteNumbered(stem string, r io.Reader) (string, error) {
	if err := checkName(stem); err != nil {
		return "", err
	}
	tmp, err := w.temp(r)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	for attempt := 0; attempt < 5; attempt++ {
		n, err := w.nextNumber(stem)
		if err != nil {
			return "", err
		}
		final := filepath.Join(w.dir, fmt.Sprintf("%s.%03d", stem, n))
		err = commit(tmp, final)
		if errors.Is(err, ErrExists) {
			continue // someone took it meanwhile
		}
		if err != nil {
			return "", err
		}
		syncDir(w.dir)
		return final, nil
	}
	return "", fmt.Errorf("folder: no free counting extension for %s: %w", stem, ErrExists)
}

func (w *Writer) nextNumber(stem string) (int, error) {
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return 0, fmt.Errorf("folder: %w", err)
	}
	used := map[int]bool{}
	prefix := strings.ToLower(stem) + "."
	for _, e := range entries {
		name := strings.ToLower(e.Name())
		if !strings.HasPrefix(name, prefix) || len(name) != len(prefix)+3 {
			continue
		}
		if n, err := strconv.Atoi(name[len(prefix):]); err == nil {
			used[n] = true
		}
	}
	if len(used) == 0 {
		return 0, nil
	}
	var nums []int
	for n := range used {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	if top := nums[len(nums)-1]; top < 999 {
		return top + 1, nil
	}
	for n := 0; n < 1000; n++ {
		if !used[n] {
			return n, nil
		}
	}
	return 0, fmt.Errorf("folder: %s in %s: %w", stem, w.dir, ErrNoFreeNumber)
}

func (w *Writer) temp(r io.Reader) (string, error) {
	f, err := os.CreateTemp(w.tempDir, "w-*.tmp")
	if err != nil {
		return "", fmt.Errorf("folder: temp file: %w", err)
	}
	name := f.Name()
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("folder: writing temp file: %w", err)
	}
	return name, nil
}

// commit makes tmp appear as final without ever replacing an existing file:
// a hard link fails atomically when final exists. Filesystems without hard
// links fall back to check-then-rename.
func commit(tmp, final string) error {
	err := os.Link(tmp, final)
	if err == nil {
		return nil
	}
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("folder: %s: %w", final, ErrExists)
	}
	if _, serr := os.Lstat(final); serr == nil {
		return fmt.Errorf("folder: %s: %w", final, ErrExists)
	}
	if rerr := os.Rename(tmp, final); rerr != nil {
		return fmt.Errorf("folder: moving into place %s: %w (hard link failed: %v)", final, rerr, err)
	}
	return nil
}

func checkName(name string) error {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("folder: %q is not a plain file name", name)
	}
	if reservedName(name) {
		return fmt.Errorf("folder: %q is a device name on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with any extension): "+
			"a file of that name would not be written on a Windows folder or share", name)
	}
	return nil
}

// reservedName says whether Windows takes name for a device: CON, PRN,
// AUX, NUL, COM0-9, LPT0-9 (also with superscript digits), in any case,
// with or without an extension and trailing spaces or dots. Refused on
// every system, as exchange folders are often Windows shares.
func reservedName(name string) bool {
	stem := name
	if i := strings.IndexByte(stem, '.'); i >= 0 {
		stem = stem[:i]
	}
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(stem) >= 4 && (strings.HasPrefix(stem, "COM") || strings.HasPrefix(stem, "LPT")) {
		switch d := stem[3:]; d {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return true
		}
	}
	return false
}

// syncDir makes a rename durable. Some platforms cannot sync directories
// (Windows); that is not an error there.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
