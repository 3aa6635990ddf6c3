package hub

import (
	"context"
	"strings"
	"testing"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/secrets"
	"github.com/mesi/mconnect/connectors/hl7net"
	"github.com/mesi/mconnect/connectors/registry"
)

func birpisConfig(t *testing.T) *config.Config {
	t.Helper()
	c, err := registry.Example("birpis", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c.Device.Listen = freeAddr(t)
	s := config.SectionOf[*hl7net.MLLPConfig](c, hl7net.MLLPSection)
	s.Listen, s.ResultHost = freeAddr(t), freeAddr(t)
	c.Log.Level = "warn"
	return c
}

// TestRunnerStatesAndRestart: the runner reports its state, restarts in
// place with a new config, and falls back to the previous config when the
// new one cannot start.
func TestRunnerStatesAndRestart(t *testing.T) {
	ctx := context.Background()
	r := NewRunner(Options{LogStderr: discard{}, Secrets: secrets.New()})
	t.Cleanup(r.Stop)
	if st, _ := r.Status(ctx); st.State != control.StateNotConfigured {
		t.Fatalf("new runner: %s", st.State)
	}
	if _, err := r.Tablets(ctx); control.KindOf(err) != control.Unavailable {
		t.Fatalf("tablets without a hub: %v", err)
	}

	// A hub that cannot start: the runner stays, failed, and says why.
	bad, err := registry.Example("weda", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	config.SectionOf[*hl7net.WEDAConfig](bad, hl7net.WEDASection).Token = "env:MCONNECT_TEST_NO_SUCH_TOKEN"
	bad.Device.Listen = freeAddr(t)
	if err := r.Start(bad); err == nil {
		t.Fatal("a hub with an unresolvable secret started")
	}
	st, _ := r.Status(ctx)
	if st.State != control.StateFailed || !strings.Contains(st.Problem, "weda.token") {
		t.Fatalf("after a failed start: %+v", st)
	}

	first := birpisConfig(t)
	if err := r.Restart(first); err != nil {
		t.Fatal(err)
	}
	st, _ = r.Status(ctx)
	if st.State != control.StateRunning || st.DataDir != first.Hub.DataDir {
		t.Fatalf("running: %+v", st)
	}
	if _, err := r.NewPairingCode(ctx, ""); err != nil {
		t.Fatalf("pairing through the runner: %v", err)
	}

	// A new config that fails: the previous one runs again.
	if err := r.Restart(bad); err == nil || !strings.Contains(err.Error(), "weda.token") {
		t.Fatalf("restart with a failing config: %v", err)
	}
	st, _ = r.Status(ctx)
	if st.State != control.StateRunning || st.DataDir != first.Hub.DataDir {
		t.Fatalf("after the rollback: %+v", st)
	}

	// A good new config replaces it, in place.
	second := birpisConfig(t)
	if err := r.Restart(second); err != nil {
		t.Fatal(err)
	}
	if st, _ = r.Status(ctx); st.DataDir != second.Hub.DataDir || st.State != control.StateRunning {
		t.Fatalf("after the restart: %+v", st)
	}
	// The first hub let go of its data folder: it can be opened again.
	h, err := OpenOffline(first, Options{LogStderr: discard{}})
	if err != nil {
		t.Fatalf("the first data folder is still locked: %v", err)
	}
	h.Close()
}
