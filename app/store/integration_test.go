package store

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/internal/testfs"
)

func TestIntegrationClients(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(testfs.TempDir(t), "hub.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []IntegrationClient{
		{ID: "mci_a", Connection: "join", Name: "Join production", SecretHash: "h1"},
		{ID: "mci_b", Connection: "join", Name: "Join staging", SecretHash: "h2"},
		{ID: "mci_c", Connection: "ziplanerx", Name: "ZipLaneRx", SecretHash: "h3"},
	} {
		if _, err := s.AddIntegrationClient(ctx, c, "cli"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddIntegrationClient(ctx, IntegrationClient{ID: "mci_a", Connection: "join", SecretHash: "x"}, "cli"); err == nil {
		t.Error("a second client with the same ID was stored")
	}
	if _, err := s.AddIntegrationClient(ctx, IntegrationClient{ID: "mci_d", Connection: "join"}, "cli"); err == nil {
		t.Error("a client without a secret hash was stored")
	}
	if _, err := s.RevokeIntegrationClient(ctx, "mci_b", "", "lost"); err == nil {
		t.Error("revoked without naming who")
	}
	rc, err := s.RevokeIntegrationClient(ctx, "mci_b", "cli", "secret leaked")
	if err != nil || !rc.Revoked() {
		t.Fatalf("revoke: %+v %v", rc, err)
	}
	again, err := s.RevokeIntegrationClient(ctx, "mci_b", "cli", "twice")
	if err != nil || !again.RevokedAt.Equal(rc.RevokedAt) {
		t.Errorf("second revoke changed the time: %v %v", again.RevokedAt, err)
	}
	if _, err := s.RevokeIntegrationClient(ctx, "mci_zz", "cli", "x"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("revoke of an unknown client: %v", err)
	}
	used := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if err := s.TouchIntegrationClient(ctx, "mci_a", used); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// A second open (another process, the command line) sees it all.
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	list, err := s.IntegrationClients(ctx, "join")
	if err != nil || len(list) != 2 || list[0].ID != "mci_a" || list[1].ID != "mci_b" {
		t.Fatalf("join's clients: %+v %v", list, err)
	}
	if list[0].Revoked() || !list[1].Revoked() || !list[0].LastUsedAt.Equal(used) || list[0].Name != "Join production" || list[0].SecretHash != "h1" {
		t.Errorf("clients read back: %+v", list)
	}
	if all, _ := s.IntegrationClients(ctx, ""); len(all) != 3 {
		t.Errorf("all clients: %d", len(all))
	}
	if _, err := s.IntegrationClientByID(ctx, "mci_nope"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("unknown client: %v", err)
	}
	c, err := s.IntegrationClientByID(ctx, "mci_c")
	if err != nil || c.Connection != "ziplanerx" {
		t.Errorf("client c: %+v %v", c, err)
	}
	log, _ := s.AuditLog(ctx, 10)
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action+" "+e.Target+" "+e.Reason)
	}
	want := []string{"integration.client.revoke mci_b secret leaked", "integration.client.add mci_c ", "integration.client.add mci_b ", "integration.client.add mci_a "}
	if len(actions) != len(want) {
		t.Fatalf("audit: %q", actions)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Errorf("audit[%d] = %q, want %q", i, actions[i], want[i])
		}
	}
}

func TestSigningKeyRotation(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	rotate := func(kid string, at time.Time, dropBefore time.Time) {
		t.Helper()
		if err := s.RotateSigningKey(ctx, SigningKey{ID: kid, Connection: "join", Private: []byte("der-" + kid), CreatedAt: at}, dropBefore); err != nil {
			t.Fatal(err)
		}
	}
	rotate("k1", t0, time.Time{})
	rotate("k2", t0.Add(24*time.Hour), time.Time{})
	if err := s.RotateSigningKey(ctx, SigningKey{ID: "z1", Connection: "ziplanerx", Private: []byte("z"), CreatedAt: t0}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	keys, err := s.SigningKeys(ctx, "join")
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys: %+v %v", keys, err)
	}
	if keys[0].ID != "k2" || !keys[0].RetiredAt.IsZero() || keys[1].ID != "k1" || !keys[1].RetiredAt.Equal(t0.Add(24*time.Hour)) ||
		!bytes.Equal(keys[1].Private, []byte("der-k1")) {
		t.Errorf("after the first rotation: %+v", keys)
	}
	// The third rotation drops k1 (retired before the cut-off), keeps k2.
	rotate("k3", t0.Add(48*time.Hour), t0.Add(25*time.Hour))
	keys, _ = s.SigningKeys(ctx, "join")
	if len(keys) != 2 || keys[0].ID != "k3" || keys[1].ID != "k2" || keys[1].RetiredAt.IsZero() {
		t.Errorf("after the second rotation: %+v", keys)
	}
	if z, _ := s.SigningKeys(ctx, "ziplanerx"); len(z) != 1 || !z[0].RetiredAt.IsZero() {
		t.Errorf("another connection's key was touched: %+v", z)
	}
	if err := s.RotateSigningKey(ctx, SigningKey{ID: "k3", Connection: "join", Private: []byte("x")}, time.Time{}); err == nil {
		t.Error("a key ID was stored twice")
	}
	if keys, _ = s.SigningKeys(ctx, "join"); len(keys) != 2 || !keys[0].RetiredAt.IsZero() {
		t.Errorf("a failed rotation changed the keys: %+v", keys)
	}
}

func TestOrderByPlacerAndResults(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if _, err := s.OrderByPlacer(ctx, "join", "A1"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("empty store: %v", err)
	}
	first, err := s.ApplyOrder(ctx, order("join", "", "A1", domain.ActionNew))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyOrder(ctx, order("ziplanerx", "", "A1", domain.ActionNew)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyOrder(ctx, order("join", "", "A1", domain.ActionCancel)); err != nil {
		t.Fatal(err)
	}
	o, err := s.OrderByPlacer(ctx, "join", "A1")
	if err != nil || o.ID != first.OrderID || o.State != domain.OrderCancelled || o.Connection != "join" {
		t.Fatalf("cancelled order: %+v %v", o, err)
	}
	// Placed again after the cancellation: a new order, and the newest wins.
	again, err := s.ApplyOrder(ctx, order("join", "", "A1", domain.ActionNew))
	if err != nil || again.OrderID == first.OrderID {
		t.Fatalf("placed again: %+v %v", again, err)
	}
	if o, _ = s.OrderByPlacer(ctx, "join", "A1"); o.ID != again.OrderID || o.State != domain.OrderScheduled {
		t.Errorf("newest order: %+v", o)
	}
	if rs, err := s.ResultsOfOrder(ctx, again.OrderID); err != nil || len(rs) != 0 {
		t.Errorf("results before any: %v %v", rs, err)
	}
	r1, _, err := s.SaveResult(ctx, domain.Result{OrderID: again.OrderID, Measurement: "ECG", DeviceID: "d", IdempotencyKey: "k1"}, []string{"join"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SaveResult(ctx, domain.Result{OrderID: first.OrderID, Measurement: "ECG", DeviceID: "d", IdempotencyKey: "k2"}, nil); err != nil {
		t.Fatal(err)
	}
	rs, err := s.ResultsOfOrder(ctx, again.OrderID)
	if err != nil || len(rs) != 1 || rs[0].ID != r1.ID || rs[0].Measurement != "ECG" {
		t.Errorf("results of the order: %+v %v", rs, err)
	}
}

func TestAuditAll(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if err := s.AuditAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	err := s.AuditAll(ctx, []domain.AuditEntry{
		{At: at, Actor: "integration:mci_a", Action: "integration.appointment.put", Target: "A1", Detail: "201"},
		{Actor: "integration:mci_a", Action: "integration.appointment.get", Target: "A1", Detail: "200"},
		{Action: "integration.token", Target: "mci_x", Detail: "401"},
	})
	if err != nil {
		t.Fatal(err)
	}
	log, _ := s.AuditLog(ctx, 10)
	if len(log) != 3 || log[2].Target != "A1" || !log[2].At.Equal(at) || log[1].At.IsZero() || log[0].Actor != "system" || log[0].Detail != "401" {
		t.Errorf("audit log: %+v", log)
	}
}
