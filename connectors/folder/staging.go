package folder

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Staging: a file is written under a name of its own in the writer's temp
// folder (Stage) and published into the target folder by one rename
// (Publish). A rename moves it: at every moment the file is either still
// staged or published, never both and never neither, so a writer that was
// killed can tell afterwards which it was by looking for its staging file.
// The staging name must belong to one delivery and one writer (the hub is
// its only writer), which is what makes "target absent, then rename" safe
// with fixed target names: nobody else creates the target.

// StagingPath is where Stage puts the file of that staging name.
func (w *Writer) StagingPath(name string) string { return filepath.Join(w.tempDir, name) }

// Staged reports whether the staging file of that name is there.
func (w *Writer) Staged(name string) bool {
	_, err := os.Lstat(w.StagingPath(name))
	return err == nil
}

// Stage writes r to the staging file of that name (fsynced; an older
// staging file of the name is replaced) and returns its path.
func (w *Writer) Stage(name string, r io.Reader) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	tmp, err := w.temp(r)
	if err != nil {
		return "", err
	}
	p := w.StagingPath(name)
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("folder: staging %s: %w", name, err)
	}
	syncDir(w.tempDir)
	return p, nil
}

// Unstage removes a staging file that will not be published.
func (w *Writer) Unstage(name string) error {
	if err := os.Remove(w.StagingPath(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("folder: removing staging file %s: %w", name, err)
	}
	return nil
}

// Publish moves the staging file into the folder as target, provided no
// file of that name is there (the error wraps ErrExists otherwise, and the
// staging file stays). Both folders are fsynced.
func (w *Writer) Publish(staging, target string) (string, error) {
	if err := checkName(target); err != nil {
		return "", err
	}
	final := filepath.Join(w.dir, target)
	if _, err := os.Lstat(final); err == nil {
		return "", fmt.Errorf("folder: %s: %w", final, ErrExists)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("folder: %w", err)
	}
	if err := os.Rename(w.StagingPath(staging), final); err != nil {
		return "", fmt.Errorf("folder: publishing %s: %w", target, err)
	}
	syncDir(w.dir)
	syncDir(w.tempDir)
	return final, nil
}

// PublishNumbered publishes the staging file as stem.NNN with the next
// free counting extension (see WriteNumbered).
func (w *Writer) PublishNumbered(staging, stem string) (string, error) {
	if err := checkName(stem); err != nil {
		return "", err
	}
	for attempt := 0; attempt < 5; attempt++ {
		n, err := w.nextNumber(stem)
		if err != nil {
			return "", err
		}
		p, err := w.Publish(staging, fmt.Sprintf("%s.%03d", stem, n))
		if errors.Is(err, ErrExists) {
			continue // taken meanwhile
		}
		return p, err
	}
	return "", fmt.Errorf("folder: no free counting extension for %s: %w", stem, ErrExists)
}
