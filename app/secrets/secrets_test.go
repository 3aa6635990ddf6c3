package secrets

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"
)

type failingKeyring struct{ err error }

func (f failingKeyring) Get(string, string) (string, error) { return "", f.err }
func (f failingKeyring) Set(string, string, string) error   { return f.err }
func (f failingKeyring) Delete(string, string) error        { return f.err }

// memKeyring is a keyring in memory that answers like go-keyring.
type memKeyring map[string]string

func (m memKeyring) Get(s, u string) (string, error) {
	v, ok := m[s+"\x00"+u]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}
func (m memKeyring) Set(s, u, p string) error { m[s+"\x00"+u] = p; return nil }
func (m memKeyring) Delete(s, u string) error {
	if _, ok := m[s+"\x00"+u]; !ok {
		return keyring.ErrNotFound
	}
	delete(m, s+"\x00"+u)
	return nil
}

func TestResolve(t *testing.T) {
	s := NewWith(memKeyring{}, func(k string) string {
		if k == "WEDA_TOKEN" {
			return "tok-from-env"
		}
		return ""
	})
	if err := s.Set("weda-api-token", "tok-from-keyring"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref     string
		want    string
		wantErr string
	}{
		{"keyring:weda-api-token", "tok-from-keyring", ""},
		{"env:WEDA_TOKEN", "tok-from-env", ""},
		{"keyring:missing", "", "mconnect secret set missing"},
		{"env:UNSET_VAR", "", "UNSET_VAR is not set"},
		{"plain-secret-value", "", "must be keyring:NAME or env:VAR"},
		{"keyring:", "", "empty keyring name"},
	}
	for _, tc := range tests {
		got, err := s.Resolve(tc.ref)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Resolve(%q) err = %v, want %q", tc.ref, err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "plain-secret-value") {
				t.Errorf("error repeats the secret: %v", err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Resolve(%q) = %q, %v", tc.ref, got, err)
		}
	}
}

func TestNoKeyringSaysWhatToDo(t *testing.T) {
	s := NewWith(failingKeyring{errors.New("The name org.freedesktop.secrets was not provided by any .service files")}, nil)
	_, err := s.Resolve("keyring:x")
	if !errors.Is(err, ErrNoKeyring) || !strings.Contains(err.Error(), "env:VAR") {
		t.Fatalf("err = %v", err)
	}
	if err := s.Check(); !errors.Is(err, ErrNoKeyring) {
		t.Fatalf("Check() = %v", err)
	}
}

func TestRedact(t *testing.T) {
	if got := Redact("token=abc123 and abc123", "abc123"); got != "token=**** and ****" {
		t.Fatal(got)
	}
}

// TestRealSecretService stores, reads and deletes a secret in the real OS
// keyring. CI runs it inside a D-Bus session with an unlocked gnome-keyring
// and sets MCONNECT_REAL_KEYRING=1.
func TestRealSecretService(t *testing.T) {
	if os.Getenv("MCONNECT_REAL_KEYRING") == "" {
		t.Skip("needs a real Secret Service: set MCONNECT_REAL_KEYRING=1 inside a D-Bus session with an unlocked keyring (.ci/run does)")
	}
	s := New()
	if err := s.Check(); err != nil {
		t.Fatalf("keyring not reachable: %v", err)
	}
	name := "mconnect-test-secret"
	if err := s.Set(name, "value-ÄÖü-123"); err != nil {
		t.Fatal(err)
	}
	defer s.Delete(name)
	got, err := s.Resolve("keyring:" + name)
	if err != nil || got != "value-ÄÖü-123" {
		t.Fatalf("Resolve = %q, %v", got, err)
	}
	if err := s.Delete(name); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve("keyring:" + name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}
