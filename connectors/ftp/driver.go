package ftp

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	server "goftp.io/server/v2"
)

// errOutside is returned for any path that would leave the served folders.
var errOutside = errors.New("path outside the exchange folders")

// driver maps FTP paths to the served folders.
type driver struct{ s *Server }

// resolve maps an FTP path to a real path inside Root or a mount. Hidden
// names (starting with '.') are refused. Every component that exists is
// followed: a symbolic link anywhere in the path (a parent folder as much as
// the file itself) must lead to a place inside the folder it belongs to,
// and a dangling link is refused, so that nothing is read, written, renamed
// or deleted outside the served folders.
//
// The check is made when the command arrives; a local user who can create
// symbolic links in the served folders between the check and the use could
// still race it, but FTP clients cannot create links.
func (d *driver) resolve(p string) (string, error) {
	if strings.ContainsRune(p, 0) || strings.Contains(p, `\`) {
		return "", errOutside
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", errOutside
		}
	}
	clean := path.Clean("/" + p)
	parts := strings.Split(strings.TrimPrefix(clean, "/"), "/")
	if len(parts) == 1 && parts[0] == "" {
		parts = nil
	}
	for _, part := range parts {
		if strings.HasPrefix(part, ".") {
			return "", errOutside
		}
	}
	base := d.s.opts.Root
	rest := parts
	if len(parts) > 0 {
		if m, ok := d.s.opts.Mounts[parts[0]]; ok {
			base, rest = m, parts[1:]
		}
	}
	real := filepath.Join(append([]string{base}, rest...)...)
	if !inside(base, real) {
		return "", errOutside
	}
	evBase, err := filepath.EvalSymlinks(base)
	if err != nil {
		return "", fmt.Errorf("exchange folder unavailable: %w", err)
	}
	cur := base
	for _, part := range rest {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			break // nothing below a missing name exists, links included
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			continue
		}
		ev, err := filepath.EvalSymlinks(cur)
		if err != nil || !inside(evBase, ev) {
			return "", errOutside
		}
	}
	return real, nil
}

// inside reports whether p is base or below it (both clean and absolute).
func inside(base, p string) bool {
	rel, err := filepath.Rel(base, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func (d *driver) Stat(_ *server.Context, p string) (os.FileInfo, error) {
	real, err := d.resolve(p)
	if err != nil {
		return nil, err
	}
	return os.Stat(real)
}

func (d *driver) ListDir(_ *server.Context, p string, cb func(os.FileInfo) error) error {
	real, err := d.resolve(p)
	if err != nil {
		return err
	}
	des, err := os.ReadDir(real)
	if err != nil {
		return err
	}
	for _, de := range des {
		if strings.HasPrefix(de.Name(), ".") {
			continue
		}
		if de.Type()&os.ModeSymlink != 0 {
			// Only links that stay inside are shown.
			if _, err := d.resolve(path.Join(p, de.Name())); err != nil {
				continue
			}
		}
		fi, err := de.Info()
		if err != nil {
			continue
		}
		if err := cb(fi); err != nil {
			return err
		}
	}
	if real == d.s.opts.Root {
		for name, dir := range d.s.opts.Mounts {
			if fi, err := os.Stat(dir); err == nil {
				if err := cb(namedInfo{FileInfo: fi, name: name}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

type namedInfo struct {
	os.FileInfo
	name string
}

func (n namedInfo) Name() string { return n.name }

func (d *driver) DeleteDir(_ *server.Context, p string) error {
	return errors.New("deleting folders is not allowed")
}

func (d *driver) DeleteFile(_ *server.Context, p string) error {
	real, err := d.resolve(p)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(real)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errors.New("not a file")
	}
	return os.Remove(real)
}

func (d *driver) Rename(_ *server.Context, from, to string) error {
	rf, err := d.resolve(from)
	if err != nil {
		return err
	}
	rt, err := d.resolve(to)
	if err != nil {
		return err
	}
	if err := os.Rename(rf, rt); err != nil {
		return err
	}
	if fi, err := os.Stat(rt); err == nil && fi.Mode().IsRegular() && d.s.opts.OnUpload != nil {
		d.s.opts.OnUpload(rt, fi.Size())
	}
	return nil
}

func (d *driver) MakeDir(_ *server.Context, p string) error {
	return errors.New("creating folders is not allowed")
}

func (d *driver) GetFile(_ *server.Context, p string, offset int64) (int64, io.ReadCloser, error) {
	real, err := d.resolve(p)
	if err != nil {
		return 0, nil, err
	}
	f, err := os.Open(real)
	if err != nil {
		return 0, nil, err
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return 0, nil, errors.New("not a file")
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return 0, nil, err
	}
	return fi.Size() - offset, f, nil
}

// PutFile writes the upload to a temp file outside the served folders and
// renames it into place when the transfer is complete. Resumed uploads
// (REST/APPE) are refused: a file appears whole or not at all.
func (d *driver) PutFile(_ *server.Context, p string, data io.Reader, offset int64) (int64, error) {
	if offset > 0 {
		return 0, errors.New("resuming uploads is not supported; upload the whole file")
	}
	real, err := d.resolve(p)
	if err != nil {
		return 0, err
	}
	if fi, err := os.Stat(filepath.Dir(real)); err != nil || !fi.IsDir() {
		return 0, errors.New("no such folder")
	}
	if fi, err := os.Lstat(real); err == nil && fi.IsDir() {
		return 0, errors.New("a folder has that name")
	}
	tmp, err := os.CreateTemp(d.s.opts.TempDir, "up-*.tmp")
	if err != nil {
		return 0, fmt.Errorf("temp file: %w", err)
	}
	n, err := io.Copy(tmp, data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		d.s.log.WithError(err).WithField("file", path.Base(p)).Warn("FTP upload aborted; nothing kept")
		return 0, err
	}
	if err := os.Rename(tmp.Name(), real); err != nil {
		os.Remove(tmp.Name())
		return 0, err
	}
	if dir, err := os.Open(filepath.Dir(real)); err == nil {
		_ = dir.Sync()
		dir.Close()
	}
	d.s.log.WithField("file", path.Base(p)).WithField("bytes", n).Debug("FTP upload complete")
	if d.s.opts.OnUpload != nil {
		d.s.opts.OnUpload(real, n)
	}
	return n, nil
}
