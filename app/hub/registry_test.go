package hub

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/control"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/hub/internal/toyconn"
	"github.com/mesi/mconnect/connectors/registry"
	"github.com/mesi/mconnect/internal/testfs"
)

// TestToyConnectorNeedsOnlyItsPackageAndARegistryLine: a connector kind the
// hub has never heard of (package toyconn) is configured, validated,
// wired and served with nothing but the registry knowing it.
func TestToyConnectorNeedsOnlyItsPackageAndARegistryLine(t *testing.T) {
	reg := registry.Default.With(toyconn.Kind(), toyconn.Profile)
	dir := testfs.TempDir(t)
	raw := fmt.Sprintf(`{"ehr": "toyehr", "hub": {"dataDir": %q}, "device": {"listen": %q},
		"delivery": {"initialBackoff": "100ms"}, "log": {"level": "warn"}, "toy": {"line": %q}}`, dir, freeAddr(t), t.Name())
	cfg, err := config.Parse([]byte(raw), reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := config.Parse([]byte(raw), registry.Default); err == nil {
		t.Fatal("the default registry accepted a toy config")
	}
	h, err := New(cfg, Options{Registry: reg, LogStderr: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	defer func() { cancel(); <-done; h.Close() }()

	line := toyconn.Get(t.Name())
	line.Orders <- domain.Order{Action: domain.ActionNew, SourceMessageID: "m1", PlacerNumber: "T-1", Measurement: "ECG",
		Patient: domain.Patient{ID: "P1", Name: domain.PersonName{Family: "Toy"}}}
	if err := <-line.Acks; err != nil {
		t.Fatalf("toy order refused: %v", err)
	}
	orders, err := h.Worklist(ctx, "default")
	if err != nil || len(orders) != 1 || orders[0].PlacerNumber != "T-1" || orders[0].Connection != "toyehr" {
		t.Fatalf("worklist %+v %v", orders, err)
	}
	if _, _, err := h.AcceptResult(ctx, domain.Result{OrderID: orders[0].ID, DeviceID: "d1", Measurement: "ECG"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(line.Delivered()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := line.Delivered(); len(got) != 1 || got[0].Order == nil || got[0].Order.PlacerNumber != "T-1" {
		t.Fatalf("toy outbound got %+v", got)
	}
	// The Results tab's list: the patient comes from the appointment, or
	// from an unsolicited result itself; the text filter narrows it.
	if _, _, err := h.AcceptResult(ctx, domain.Result{DeviceID: "d1", Measurement: "Spirometry",
		Patient: &domain.Patient{ID: "P9", Name: domain.PersonName{Family: "Walk-in"}}}); err != nil {
		t.Fatal(err)
	}
	sums, err := h.Results(ctx, control.ResultQuery{})
	if err != nil || len(sums) != 2 {
		t.Fatalf("results %+v %v", sums, err)
	}
	byPatient := map[string]control.ResultSummary{}
	for _, s := range sums {
		byPatient[s.PatientID] = s
	}
	if s := byPatient["P1"]; s.PatientName != "Toy" || s.Measurement != "ECG" || len(s.Deliveries) != 1 ||
		s.Deliveries[0].State != domain.DeliveryDelivered || s.Deliveries[0].Connection != "toyehr" {
		t.Errorf("ordered result %+v", s)
	}
	if s := byPatient["P9"]; s.PatientName != "Walk-in" || len(s.Deliveries) != 1 {
		t.Errorf("unsolicited result %+v", s)
	}
	if sums, _ := h.Results(ctx, control.ResultQuery{Text: "walk"}); len(sums) != 1 || sums[0].PatientID != "P9" {
		t.Errorf("filtered results %+v", sums)
	}
	conns, _ := h.Connections(ctx)
	if len(conns) != 1 || conns[0].Section != "toy" || conns[0].Label != "Toy EHR" || len(conns[0].Checks) != 1 {
		t.Fatalf("connections %+v", conns)
	}
	res, err := h.TestConnection(ctx, "toyehr")
	if err != nil || len(res) != 1 || !res[0].Result.OK {
		t.Fatalf("test connection %+v %v", res, err)
	}
}

// TestNotBuiltEHRTouchesNothing: a config naming an EHR whose kinds this
// build lacks is refused before the data folder is touched.
func TestNotBuiltEHRTouchesNothing(t *testing.T) {
	reg := registry.New() // a build without connectors
	dir := filepath.Join(testfs.TempDir(t), "data")
	cfg := config.Core("tomedo", dir)
	_, err := New(cfg, Options{Registry: reg, LogStderr: discard{}})
	if !errors.Is(err, ErrNotBuilt) || !strings.Contains(err.Error(), "Tomedo") || !strings.Contains(err.Error(), "nothing was started") {
		t.Fatalf("New = %v, want ErrNotBuilt naming Tomedo", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the data folder was touched: %v", err)
	}
}
