//go:build !linux

package device

// maxRSSMB is not measured here.
func maxRSSMB() float64 { return 0 }
