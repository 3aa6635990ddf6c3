package control

import (
	"context"
	"net"
)

// Endpoint is the hub's listening control endpoint.
type Endpoint struct {
	ln      net.Listener
	token   string // required of every request when set (Windows)
	cleanup func()
}

// Listen opens the control endpoint for dataDir: on Linux and macOS a unix
// socket control.sock (mode 0600) whose peers must be this OS user; on
// Windows loopback TCP with a random token in a user-only file.
func Listen(dataDir string) (*Endpoint, error) {
	ln, token, cleanup, err := listen(dataDir)
	if err != nil {
		return nil, err
	}
	return &Endpoint{ln: ln, token: token, cleanup: cleanup}, nil
}

// Serve answers api on the endpoint until ctx is done, then removes it.
func (e *Endpoint) Serve(ctx context.Context, api API) error {
	defer e.cleanup()
	return serve(ctx, e.ln, api, sameUser, e.token)
}

// Close stops listening and removes the endpoint.
func (e *Endpoint) Close() {
	e.ln.Close()
	e.cleanup()
}

// Addr is where the endpoint listens.
func (e *Endpoint) Addr() string { return e.ln.Addr().String() }
