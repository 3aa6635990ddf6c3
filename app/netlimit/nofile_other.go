//go:build !unix

package netlimit

import "math"

// descriptorLimit: Windows has no per-process descriptor limit of this kind.
func descriptorLimit() int { return math.MaxInt32 }
