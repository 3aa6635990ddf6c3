package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
)

func TestDeliveryCommands(t *testing.T) {
	dir := t.TempDir()
	path, c := exampleConfig(t, "birpis", dir)
	st, err := store.Open(filepath.Join(c.Hub.DataDir, "mconnect.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := st.SaveResult(context.Background(), domain.Result{DeviceID: "d1", Measurement: "ECG"}, []string{"birpis"})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	list := mconnect(t, nil, "delivery", "list", "--config", path)
	if list.code != 0 || !strings.Contains(list.stdout, r.ID) || !strings.Contains(list.stdout, "queued") {
		t.Fatalf("list: %d %s %s", list.code, list.stdout, list.stderr)
	}
	if r := mconnect(t, nil, "delivery", "cancel", "1", "--config", path); r.code != 2 || !strings.Contains(r.stderr, "--reason is required") {
		t.Fatalf("cancel without reason: %d %s", r.code, r.stderr)
	}
	if r := mconnect(t, nil, "delivery", "cancel", "1", "--config", path, "--reason", "sent by hand"); r.code != 0 {
		t.Fatalf("cancel: %d %s", r.code, r.stderr)
	}
	if r := mconnect(t, nil, "delivery", "list", "--state", "cancelled", "--config", path); !strings.Contains(r.stdout, "cancelled") {
		t.Fatalf("list cancelled: %s", r.stdout)
	}
	if r := mconnect(t, nil, "delivery", "resend", "1", "--config", path, "--reason", "EHR asked again"); r.code != 0 || !strings.Contains(r.stdout, "queued again") {
		t.Fatalf("resend: %d %s %s", r.code, r.stdout, r.stderr)
	}
	show := mconnect(t, nil, "delivery", "show", "1", "--config", path)
	if show.code != 0 || !strings.Contains(show.stdout, "delivery 1: queued to birpis") {
		t.Fatalf("show: %d %s %s", show.code, show.stdout, show.stderr)
	}
	for _, args := range [][]string{
		{"delivery", "list", "--state", "lost", "--config", path},
		{"delivery", "show", "x", "--config", path},
		{"delivery", "frobnicate"},
	} {
		if r := mconnect(t, nil, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, r.code, r.stderr)
		}
	}
	st, _ = store.Open(filepath.Join(c.Hub.DataDir, "mconnect.db"), store.Options{})
	defer st.Close()
	log, _ := st.AuditLog(context.Background(), 10)
	var actions []string
	for _, e := range log {
		if strings.HasPrefix(e.Actor, "cli") {
			actions = append(actions, e.Action+":"+e.Reason)
		}
	}
	if len(actions) != 2 {
		t.Fatalf("audit entries by the CLI: %v", actions)
	}
}
