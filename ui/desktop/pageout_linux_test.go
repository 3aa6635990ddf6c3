//go:build linux

package desktop

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCompilerMapping(t *testing.T) {
	tests := []struct {
		line       string
		start, end uintptr
		ok         bool
	}{
		{"7f1c2a000000-7f1c2d000000 r-xp 00a00000 fe:00 1234 /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1", 0x7f1c2a000000, 0x7f1c2d000000, true},
		{"7f1c29000000-7f1c2a000000 r--p 00000000 fe:00 1234 /usr/lib/x86_64-linux-gnu/libLLVM.so.19.1", 0x7f1c29000000, 0x7f1c2a000000, true},
		// Writable: LLVM's data, never paged out.
		{"7f1c2d000000-7f1c2d100000 rw-p 03a00000 fe:00 1234 /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1", 0, 0, false},
		// Other libraries, anonymous memory, the heap.
		{"7f1c2e000000-7f1c2e500000 r-xp 00000000 fe:00 99 /usr/lib/x86_64-linux-gnu/dri/swrast_dri.so", 0, 0, false},
		{"7f1c2f000000-7f1c2f100000 rw-p 00000000 00:00 0", 0, 0, false},
		{"55d0c0000000-55d0c2000000 rw-p 00000000 00:00 0 [heap]", 0, 0, false},
		// Damaged lines.
		{"7f1c2a000000 r-xp 00a00000 fe:00 1234 /usr/lib/libLLVM-15.so.1", 0, 0, false},
		{"zz-7f1c2d000000 r-xp 00a00000 fe:00 1234 /usr/lib/libLLVM-15.so.1", 0, 0, false},
		{"7f1c2d000000-7f1c2a000000 r-xp 00a00000 fe:00 1234 /usr/lib/libLLVM-15.so.1", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		start, end, ok := compilerMapping([]byte(tt.line))
		if start != tt.start || end != tt.end || ok != tt.ok {
			t.Errorf("compilerMapping(%q) = %#x, %#x, %v; want %#x, %#x, %v", tt.line, start, end, ok, tt.start, tt.end, tt.ok)
		}
	}
}

// TestPageOutShaderCompiler maps a file named like LLVM's library (on the
// disk, not tmpfs: file pages the kernel can drop), reads it so that it is
// resident, and checks that the page-out leaves none of it resident,
// while a file of another name stays.
//
// The kernel reclaims only clean pages that sit on its LRU lists: the
// files are synced before they are mapped, and the test keeps to one CPU,
// whose batch of newly faulted pages madvise drains before it reclaims.
func TestPageOutShaderCompiler(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &one); err != nil {
		t.Fatal(err)
	}
	cpu := -1
	for i := 0; i < 1024 && cpu < 0; i++ {
		if one.IsSet(i) {
			cpu = i
		}
	}
	var all = one
	one.Zero()
	one.Set(cpu)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unix.SchedSetaffinity(0, &all) }()

	dir := t.TempDir()
	llvm := mapResident(t, filepath.Join(dir, "libLLVM-99.so.1"))
	other := mapResident(t, filepath.Join(dir, "libother.so.1"))
	if n := pageOutShaderCompiler(); n < len(llvm) {
		if n == 0 && !pageOutWorks(t) {
			t.Skip("this kernel has no MADV_PAGEOUT (Linux 5.4 or later has)")
		}
		t.Fatalf("paged out %d bytes, want at least the %d mapped", n, len(llvm))
	}
	if r := residentKB(t, "libLLVM-99.so.1"); r != 0 {
		t.Errorf("LLVM's mapping still has %d kB resident after the page-out", r)
	}
	if r := residentKB(t, "libother.so.1"); r == 0 {
		t.Error("another library's mapping was paged out too")
	}
	_ = unix.Munmap(llvm)
	_ = unix.Munmap(other)
}

func mapResident(t *testing.T, path string) []byte {
	t.Helper()
	data := bytes.Repeat([]byte{0x90}, 1<<20)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Written pages are dirty until written back; reclaim skips them.
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, len(data), unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for i := 0; i < len(m); i += os.Getpagesize() {
		sum += int(m[i])
	}
	if sum == 0 || residentKB(t, filepath.Base(path)) == 0 {
		t.Fatalf("%s: not resident after reading it", path)
	}
	return m
}

// residentKB is the Rss of the mappings of /proc/self/smaps whose path ends in name.
func residentKB(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	kb, in := 0, false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			in = len(f) >= 6 && strings.HasSuffix(f[5], "/"+name)
			continue
		}
		if in && len(f) >= 2 && f[0] == "Rss:" {
			n, _ := strconv.Atoi(f[1])
			kb += n
		}
	}
	return kb
}

func pageOutWorks(t *testing.T) bool {
	m, err := unix.Mmap(-1, 0, os.Getpagesize(), unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	return !errors.Is(unix.Madvise(m, unix.MADV_PAGEOUT), unix.EINVAL)
}
