package cli

import (
	"regexp"
	"strings"
	"testing"
)

// TestIntegrationClients: IT registers a client of the Integration API,
// sees it listed and revokes it; the secret is printed once; an EHR that
// does not push is refused.
func TestIntegrationClients(t *testing.T) {
	dir := t.TempDir()
	path, _ := exampleConfig(t, "ziplanerx", dir)
	add := mconnect(t, nil, "integration", "client", "add", "--name", "ZipLaneRx production", "--config", path)
	if add.code != 0 || !strings.Contains(add.stdout, "client_secret: ") || !strings.Contains(add.stdout, "shown only now") {
		t.Fatalf("add: %d %s %s", add.code, add.stdout, add.stderr)
	}
	id := regexp.MustCompile(`client_id:\s+(\S+)`).FindStringSubmatch(add.stdout)
	secret := regexp.MustCompile(`client_secret:\s+(\S+)`).FindStringSubmatch(add.stdout)
	if id == nil || secret == nil || len(secret[1]) < 32 {
		t.Fatalf("credentials in %q", add.stdout)
	}
	list := mconnect(t, nil, "integration", "client", "list", "--config", path)
	if list.code != 0 || !strings.Contains(list.stdout, id[1]) || !strings.Contains(list.stdout, "active") ||
		strings.Contains(list.stdout, secret[1]) {
		t.Fatalf("list: %d %s %s", list.code, list.stdout, list.stderr)
	}
	if r := mconnect(t, nil, "integration", "client", "revoke", id[1], "--config", path); r.code != 2 || !strings.Contains(r.stderr, "--reason") {
		t.Fatalf("revoke without reason: %d %s", r.code, r.stderr)
	}
	if r := mconnect(t, nil, "integration", "client", "revoke", id[1], "--reason", "vendor rotated", "--config", path); r.code != 0 {
		t.Fatalf("revoke: %d %s", r.code, r.stderr)
	}
	if r := mconnect(t, nil, "integration", "client", "list", "--config", path); !strings.Contains(r.stdout, "revoked") {
		t.Fatalf("list after revoke: %s", r.stdout)
	}
	if r := mconnect(t, nil, "integration", "client", "revoke", "nope", "--reason", "x", "--config", path); r.code != 2 {
		t.Fatalf("revoke an unknown client: %d %s", r.code, r.stderr)
	}
	hl7, _ := exampleConfig(t, "birpis", t.TempDir())
	if r := mconnect(t, nil, "integration", "client", "add", "--name", "x", "--config", hl7); r.code != 2 || !strings.Contains(r.stderr, "Integration API") {
		t.Fatalf("add for an HL7 EHR: %d %s", r.code, r.stderr)
	}
}
