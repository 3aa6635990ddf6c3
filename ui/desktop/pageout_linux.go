//go:build linux

package desktop

import (
	"bufio"
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// pageOutShaderCompiler hands back the resident code of LLVM, which
// Mesa's software renderers (llvmpipe, Xvfb's and a virtual machine's)
// and some GPU drivers map to compile shaders. Once the window has
// painted, it sits idle: 50–60 MB of the Dashboard's resident memory.
// MADV_PAGEOUT reclaims those clean file pages now instead of when the
// system runs short; a later shader compile reads them in again. It
// returns how many bytes of mappings were paged out.
func pageOutShaderCompiler() int {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0
	}
	total := 0
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		start, end, ok := compilerMapping(sc.Bytes())
		if !ok {
			continue
		}
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_PAGEOUT); errno == 0 {
			total += int(end - start)
		}
	}
	return total
}

// compilerMapping reports the address range of a line of /proc/self/maps
// if it maps LLVM's shared library, read-only or executable (its code and
// constants; never a writable mapping).
func compilerMapping(line []byte) (start, end uintptr, ok bool) {
	f := bytes.Fields(line)
	if len(f) < 6 || !bytes.Contains(f[5], []byte("/libLLVM")) {
		return 0, 0, false
	}
	perms := f[1]
	if len(perms) < 2 || perms[1] == 'w' {
		return 0, 0, false
	}
	lo, hi, found := bytes.Cut(f[0], []byte("-"))
	if !found {
		return 0, 0, false
	}
	s, err1 := strconv.ParseUint(string(lo), 16, 64)
	e, err2 := strconv.ParseUint(string(hi), 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return 0, 0, false
	}
	return uintptr(s), uintptr(e), true
}
