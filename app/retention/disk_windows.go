//go:build windows

package retention

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// FreeSpace reads the size and the space free to this user of the volume
// holding path.
func FreeSpace(path string) (DiskSpace, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return DiskSpace{}, fmt.Errorf("free space of %s: %w", path, err)
	}
	var free, total, all uint64
	if err := windows.GetDiskFreeSpaceEx(p, &free, &total, &all); err != nil {
		return DiskSpace{}, fmt.Errorf("free space of %s: %w", path, err)
	}
	return DiskSpace{Total: total, Free: free}, nil
}
