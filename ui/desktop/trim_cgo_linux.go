//go:build linux && cgo

package desktop

// #include <malloc.h>
import "C"

// trimCHeap returns the C heap's free pages to the system (glibc keeps
// what the graphics stack freed otherwise).
func trimCHeap() { C.malloc_trim(0) }
