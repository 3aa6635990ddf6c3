package hub

import (
	"testing"
	"time"

	"github.com/mesi/mconnect/app/control"
)

// dialControl connects to the control endpoint of a running test hub.
func dialControl(t *testing.T, h *Hub) *control.Client {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := control.Dial(h.dataDir)
		if err == nil {
			t.Cleanup(c.Close)
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("control endpoint: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
