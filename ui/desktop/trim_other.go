//go:build !linux || !cgo

package desktop

// trimCHeap does nothing here: the C library returns freed memory itself.
func trimCHeap() {}
