//go:build windows

package control

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// AddrFileName holds the loopback address and the token of the control
// endpoint, readable only by the user (the data folder is the user's).
const AddrFileName = "control.addr"

type endpointAddr struct{ network, address, token string }

func listen(dataDir string) (net.Listener, string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, fmt.Errorf("control endpoint: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		ln.Close()
		return nil, "", nil, fmt.Errorf("control endpoint: token: %w", err)
	}
	token := hex.EncodeToString(b)
	path := filepath.Join(dataDir, AddrFileName)
	if err := os.WriteFile(path, []byte(ln.Addr().String()+"\n"+token+"\n"), 0o600); err != nil {
		ln.Close()
		return nil, "", nil, fmt.Errorf("control endpoint: %w", err)
	}
	// Each endpoint checks its own token: a process may serve more than
	// one data folder (tests, a restart in place).
	return ln, token, func() { ln.Close(); os.Remove(path) }, nil
}

func readEndpoint(dataDir string) (endpointAddr, error) {
	f, err := os.Open(filepath.Join(dataDir, AddrFileName))
	if errors.Is(err, os.ErrNotExist) {
		return endpointAddr{}, ErrNoHub
	}
	if err != nil {
		return endpointAddr{}, fmt.Errorf("control endpoint: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var lines []string
	for sc.Scan() {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	if len(lines) < 2 {
		return endpointAddr{}, ErrNoHub
	}
	return endpointAddr{network: "tcp", address: lines[0], token: lines[1]}, nil
}

// sameUser accepts loopback connections; the token is checked per request.
func sameUser(c net.Conn) bool {
	a, ok := c.RemoteAddr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}
