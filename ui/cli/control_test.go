package cli

import (
	"archive/zip"
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/connectors/hl7net"
	"github.com/mesi/mconnect/connectors/registry"
)

// TestCommandsActThroughRunningServe: with `mconnect serve` running,
// `status` reports its live health and a `delivery resend` is attempted at
// once (through the control endpoint), not on the outbox's next recheck.
func TestCommandsActThroughRunningServe(t *testing.T) {
	dir := t.TempDir()
	path, c := exampleConfig(t, "birpis", dir)
	// The EHR's result port: accepts connections and records when.
	ehr, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ehr.Close()
	conns := make(chan time.Time, 16)
	go func() {
		for {
			cn, err := ehr.Accept()
			if err != nil {
				return
			}
			conns <- time.Now()
			cn.Close()
		}
	}()
	config.SectionOf[*hl7net.MLLPConfig](c, hl7net.MLLPSection).ResultHost = ehr.Addr().String()
	if err := c.Save(path, registry.Default); err != nil {
		t.Fatal(err)
	}
	// A result whose delivery was given up before the hub started.
	st, err := store.Open(filepath.Join(c.Hub.DataDir, "mconnect.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.SaveResult(context.Background(), domain.Result{DeviceID: "d1", Measurement: "ECG", Patient: &domain.Patient{ID: "P1"}}, []string{"birpis"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if r := mconnect(t, nil, "delivery", "cancel", "1", "--config", path, "--reason", "EHR was being moved"); r.code != 0 {
		t.Fatalf("cancel offline: %d %s", r.code, r.stderr)
	}
	if r := mconnect(t, nil, "status", "--config", path); r.code != 1 || !strings.Contains(r.stdout, "not running") {
		t.Fatalf("status without a hub: %d %s %s", r.code, r.stdout, r.stderr)
	}

	startServe(t, path, c)
	r := mconnect(t, nil, "status", "--config", path)
	if !strings.Contains(r.stdout, ": running (pid") || !strings.Contains(r.stdout, "Tablet endpoint listening") ||
		!strings.Contains(r.stdout, "Listening for orders") {
		t.Fatalf("status against serve: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	select {
	case <-conns:
		t.Fatal("the cancelled delivery was sent before anyone resent it")
	default:
	}
	r = mconnect(t, nil, "delivery", "resend", "1", "--config", path, "--reason", "EHR is back")
	sent := time.Now()
	if r.code != 0 || !strings.Contains(r.stdout, "the running hub sends it now") {
		t.Fatalf("resend: %d %s %s", r.code, r.stdout, r.stderr)
	}
	select {
	case at := <-conns:
		if d := at.Sub(sent); d > time.Second {
			t.Fatalf("resend attempted %v after the command, want within 1 s", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the resent delivery was not attempted within 5 s")
	}
	// diag export: written by the running hub, with its live health.
	zipPath := filepath.Join(dir, "support.zip")
	if r := mconnect(t, nil, "diag", "export", "--config", path, "--out", zipPath); r.code != 0 ||
		!strings.Contains(r.stdout, "written by the running hub") {
		t.Fatalf("diag export: %d %s %s", r.code, r.stdout, r.stderr)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var health []domain.Health
	for _, f := range zr.File {
		if f.Name == "health.json" {
			rc, _ := f.Open()
			json.NewDecoder(rc).Decode(&health)
			rc.Close()
		}
	}
	comps := map[string]bool{}
	for _, h := range health {
		comps[h.Component] = true
	}
	if !comps["device"] || !comps["conn:birpis"] {
		t.Fatalf("live health in the bundle: %+v", health)
	}
	// pair-code goes through the running hub too (it owns the store).
	if r := mconnect(t, nil, "pair-code", "--config", path); r.code != 0 || !strings.Contains(r.stdout, "Pairing code: ") {
		t.Fatalf("pair-code: %d %s %s", r.code, r.stdout, r.stderr)
	}
}
