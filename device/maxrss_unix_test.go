//go:build linux

package device

import "syscall"

// maxRSSMB is the process's peak resident memory in MB (Linux reports
// maxrss in KB).
func maxRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}
