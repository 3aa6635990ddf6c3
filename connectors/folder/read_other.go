//go:build !windows

package folder

import "os"

// readWhole reads a file. Only Windows tells whether another program still
// has it open for writing (read_windows.go); elsewhere the quiet period
// alone decides.
func readWhole(path string) ([]byte, error) { return os.ReadFile(path) }
