//go:build windows

package secrets

import (
	"errors"
	"testing"
)

// On Windows the keyring is the Credential Manager: reachable without any
// D-Bus session (none is set here) and without MCONNECT_REAL_KEYRING. The
// secret is stored, read, replaced and deleted for real (under Wine, in
// the prefix's own Credential Manager).
func TestWindowsCredentialManager(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", "")
	s := New()
	if err := s.Check(); err != nil {
		t.Fatalf("Credential Manager not reachable: %v", err)
	}
	name := "mconnect-windows-test-secret"
	t.Cleanup(func() { s.Delete(name) })
	for _, value := range []string{"first-ÄÖü-123", "second, longer value with spaces: 🔑"} {
		if err := s.Set(name, value); err != nil {
			t.Fatal(err)
		}
		got, err := s.Resolve("keyring:" + name)
		if err != nil || got != value {
			t.Fatalf("Resolve = %q, %v; want %q", got, err, value)
		}
	}
	if err := s.Delete(name); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve("keyring:" + name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}
