//go:build unix

package netlimit

import (
	"math"
	"syscall"
)

// descriptorLimit is the soft RLIMIT_NOFILE (Go raises it to the hard
// limit at start-up).
func descriptorLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(rl.Cur)
}
