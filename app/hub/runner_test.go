package hub

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/secrets"
	"github.com/mesi/mconnect/connectors/hl7net"
	"github.com/mesi/mconnect/connectors/registry"
	"github.com/mesi/mconnect/internal/testfs"
)

func birpisConfig(t *testing.T) *config.Config {
	t.Helper()
	c, err := registry.Example("birpis", testfs.TempDir(t))
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
	bad, err := registry.Example("weda", testfs.TempDir(t))
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
	// Stopped before the temp folders go (their clean-up runs first): on
	// Windows a running hub's open files cannot be removed.
	r.Stop()
}

// TestSaveConfigAppliesOrRollsBack: a configuration saved through the
// control endpoint is validated, written and applied by a restart in
// place; one that cannot start leaves the previous file and hub running.
func TestSaveConfigAppliesOrRollsBack(t *testing.T) {
	ctx := context.Background()
	cfg := birpisConfig(t)
	path := filepath.Join(testfs.TempDir(t), "config.json")
	if err := cfg.Save(path, registry.Default); err != nil {
		t.Fatal(err)
	}
	r := NewRunner(Options{ConfigPath: path, LogStderr: discard{}, Secrets: secrets.New()})
	t.Cleanup(r.Stop)
	if err := r.Start(cfg); err != nil {
		t.Fatal(err)
	}
	c := dialControl(t, r.Hub())
	doc, err := c.Config(ctx)
	if err != nil || doc.Path != path {
		t.Fatalf("config %+v %v", doc, err)
	}

	// Invalid: problems by key, nothing written.
	bad := bytes.Replace(doc.JSON, []byte(`"level":"warn"`), []byte(`"level":"loud"`), 1)
	if bytes.Equal(bad, doc.JSON) {
		t.Fatalf("no log level in %s", doc.JSON)
	}
	chk, err := c.SaveConfig(ctx, control.ConfigDoc{JSON: bad})
	if err != nil || len(chk.Problems) != 1 || chk.Problems[0].Key != "log.level" {
		t.Fatalf("invalid config: %+v %v", chk, err)
	}
	if now, _ := os.ReadFile(path); !strings.Contains(string(now), `"level": "warn"`) {
		t.Fatal("an invalid config was written")
	}

	// Valid: a new tablet port, applied at once.
	newPort := freeAddr(t)
	moved := *cfg
	moved.Device.Listen = newPort
	b, _ := moved.Marshal()
	if chk, err := c.SaveConfig(ctx, control.ConfigDoc{JSON: b}); err != nil || len(chk.Problems) != 0 {
		t.Fatalf("save: %+v %v", chk, err)
	}
	waitListening(t, newPort)
	if st, _ := r.Status(ctx); st.State != control.StateRunning || !strings.HasSuffix(st.LANAddress, newPort[strings.LastIndex(newPort, ":"):]) {
		t.Fatalf("after save: %+v", st)
	}

	// Valid but cannot start (its data folder cannot be made): rolled back.
	saved, _ := os.ReadFile(path)
	blocked := filepath.Join(testfs.TempDir(t), "file")
	os.WriteFile(blocked, nil, 0o600)
	broken := moved
	broken.Hub.DataDir = filepath.Join(blocked, "data")
	b, _ = broken.Marshal()
	c = dialControl(t, r.Hub())
	_, err = c.SaveConfig(ctx, control.ConfigDoc{JSON: b})
	if control.KindOf(err) != control.Conflict {
		t.Fatalf("save of a config that cannot start: %v", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, saved) {
		t.Fatalf("the previous config file was not restored:\n%s", now)
	}
	if st, _ := r.Status(ctx); st.State != control.StateRunning || st.DataDir != cfg.Hub.DataDir {
		t.Fatalf("after the rollback: %+v", st)
	}
}
