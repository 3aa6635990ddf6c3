//go:build !windows

package control

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// SocketName is the control socket's file name in the data folder.
const SocketName = "control.sock"

type endpointAddr struct{ network, address, token string }

func listen(dataDir string) (ln net.Listener, token string, cleanup func(), err error) {
	path := filepath.Join(dataDir, SocketName)
	if len(path) > 100 {
		return nil, "", nil, fmt.Errorf("control endpoint: socket path %s is too long for a unix socket (over 100 bytes); choose a shorter data folder", path)
	}
	// A socket left by a hub that was killed: nobody answers it any more
	// (the data folder's lock guarantees no other hub runs here).
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, "", nil, fmt.Errorf("control endpoint: %s exists and is not a socket; remove it", path)
		}
		os.Remove(path)
	}
	old := umask(0o177)
	ln, err = net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, "", nil, fmt.Errorf("control endpoint: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, "", nil, fmt.Errorf("control endpoint: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	return ln, "", func() { ln.Close() }, nil
}

func readEndpoint(dataDir string) (endpointAddr, error) {
	path := filepath.Join(dataDir, SocketName)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return endpointAddr{}, ErrNoHub
	}
	return endpointAddr{network: "unix", address: path}, nil
}
