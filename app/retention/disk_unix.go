//go:build unix

package retention

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// FreeSpace reads the size and the space free to this user of the
// filesystem holding path.
func FreeSpace(path string) (DiskSpace, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return DiskSpace{}, fmt.Errorf("free space of %s: %w", path, err)
	}
	bs := uint64(st.Bsize)
	return DiskSpace{Total: uint64(st.Blocks) * bs, Free: uint64(st.Bavail) * bs}, nil
}
