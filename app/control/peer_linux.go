//go:build linux

package control

import (
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// sameUser accepts a connection only from a process of this OS user (the
// socket's 0600 mode says the same; this also holds where the mode is
// ignored).
func sameUser(c net.Conn) bool {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return false
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return false
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil || cerr != nil {
		return false
	}
	return int(cred.Uid) == os.Getuid()
}

func umask(m int) int { return syscall.Umask(m) }
