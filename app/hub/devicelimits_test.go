package hub

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/device/sim"
)

// TestDeviceLimitsFromConfig: device.maxWorklist and
// device.maxConnectionsPerIP reach the tablet endpoint.
func TestDeviceLimitsFromConfig(t *testing.T) {
	h, c := newBirpisHub(t, func(c *config.Config) {
		c.Device.MaxWorklist = 10
		c.Device.MaxConnectionsPerIP = 2
	})
	waitListening(t, c.Device.Listen)
	ctx := context.Background()

	for i := range 12 {
		o := domain.Order{Connection: "birpis", SourceMessageID: fmt.Sprint("m", i), PlacerNumber: fmt.Sprint("A", i),
			Action: domain.ActionNew, Measurement: "ECG", Patient: domain.Patient{ID: fmt.Sprint("P", i)}}
		if _, err := h.store.ApplyOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	p, err := h.NewPairingCode(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := sim.NewClient("https://"+c.Device.Listen, p.Fingerprint, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Pair(ctx, sim.PairRequest{Code: p.Code, Serial: "MT-1"}); err != nil {
		t.Fatal(err)
	}
	wl, _, _, err := cl.Worklist(ctx, "", 0)
	if err != nil || len(wl.Appointments) != 10 || wl.Omitted != 2 {
		t.Fatalf("worklist of 12 with device.maxWorklist 10: %d listed, %d omitted, %v", len(wl.Appointments), wl.Omitted, err)
	}

	// Of five more connections from this address held open at once (the
	// client above may hold one), at most two are served (the default
	// would serve all five): the others are reset.
	served := 0
	for range 5 {
		conn, err := net.Dial("tcp", c.Device.Listen)
		if err != nil {
			continue // the reset reached the dial already
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		if tls.Client(conn, &tls.Config{InsecureSkipVerify: true}).Handshake() == nil {
			served++
		}
	}
	if served > 2 {
		t.Fatalf("device.maxConnectionsPerIP 2: %d of 5 connections from one address served", served)
	}
}
