package device

import (
	"errors"
	"os"
)

// syncDir fsyncs a folder so that a rename in it survives a power cut.
// Some platforms (Windows) cannot open a folder for syncing; that is not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, os.ErrPermission) {
		return err
	}
	return nil
}
