// Package secrets resolves the secret references of the config file:
// "keyring:NAME" reads NAME from the OS keyring (Windows Credential Manager,
// macOS Keychain, the Secret Service on Linux) through go-keyring, and
// "env:VAR" reads an environment variable (headless servers and tests).
//
// On Linux the keyring is only reached through a D-Bus session bus that
// already runs; without one the answer is ErrNoKeyring at once, and no bus
// or keyring daemon is ever started (see ensureSessionBus).
//
// Secrets are never written to the config file, logs or diagnostic bundles;
// the Redact helper hides them in text that must be shown.
package secrets

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/zalando/go-keyring"
)

// Service is the keyring service name under which the hub keeps its secrets.
const Service = "mCONNECT Hub"

// ErrNoKeyring means no OS keyring could be reached.
var ErrNoKeyring = errors.New("no OS keyring is reachable")

// ErrNotFound means the keyring has no secret of that name.
var ErrNotFound = errors.New("secret not found")

// Keyring is the OS keyring as go-keyring offers it; tests substitute their
// own (New checks for a D-Bus session bus before go-keyring is called, so
// keyring.MockInit alone does not make New keyring-free on Linux).
type Keyring interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// errNoSessionBus means there is no D-Bus session bus to reach the Secret
// Service through (Linux and the BSDs).
var errNoSessionBus = errors.New("no D-Bus session bus")

// osKeyring is go-keyring, reached only through a session bus that already
// runs (see ensureSessionBus).
type osKeyring struct{}

func (osKeyring) Get(s, u string) (string, error) {
	if err := ensureSessionBus(); err != nil {
		return "", err
	}
	return keyring.Get(s, u)
}

func (osKeyring) Set(s, u, p string) error {
	if err := ensureSessionBus(); err != nil {
		return err
	}
	return keyring.Set(s, u, p)
}

func (osKeyring) Delete(s, u string) error {
	if err := ensureSessionBus(); err != nil {
		return err
	}
	return keyring.Delete(s, u)
}

// Store resolves and stores secrets.
type Store struct {
	kr     Keyring
	getenv func(string) string
}

// New returns a Store backed by the OS keyring.
func New() *Store { return &Store{kr: osKeyring{}, getenv: os.Getenv} }

// NewWith returns a Store backed by kr and getenv (tests).
func NewWith(kr Keyring, getenv func(string) string) *Store {
	if getenv == nil {
		getenv = os.Getenv
	}
	return &Store{kr: kr, getenv: getenv}
}

// Resolve returns the secret a reference points to. The error names the
// reference (never the secret) and says what to do.
func (s *Store) Resolve(ref string) (string, error) {
	switch {
	case strings.HasPrefix(ref, "keyring:"):
		name := strings.TrimPrefix(ref, "keyring:")
		if name == "" {
			return "", fmt.Errorf("secret %q: empty keyring name", ref)
		}
		v, err := s.kr.Get(Service, name)
		if err != nil {
			return "", fmt.Errorf("secret %q: %w", ref, classify(err, name))
		}
		return v, nil
	case strings.HasPrefix(ref, "env:"):
		name := strings.TrimPrefix(ref, "env:")
		v := s.getenv(name)
		if name == "" || v == "" {
			return "", fmt.Errorf("secret %q: environment variable %s is not set", ref, name)
		}
		return v, nil
	default:
		return "", fmt.Errorf("secret reference %q: must be keyring:NAME or env:VAR", redactRef(ref))
	}
}

// Set stores a secret in the OS keyring under name.
func (s *Store) Set(name, value string) error {
	if name == "" || strings.ContainsAny(name, ":\n") {
		return fmt.Errorf("secret name %q: must be non-empty without ':' or newlines", name)
	}
	if value == "" {
		return fmt.Errorf("secret %s: empty value", name)
	}
	if err := s.kr.Set(Service, name, value); err != nil {
		return fmt.Errorf("store secret %s: %w", name, classify(err, name))
	}
	return nil
}

// Delete removes a secret from the OS keyring.
func (s *Store) Delete(name string) error {
	if err := s.kr.Delete(Service, name); err != nil {
		return fmt.Errorf("delete secret %s: %w", name, classify(err, name))
	}
	return nil
}

// Check reports whether the OS keyring is reachable, for preflight checks.
func (s *Store) Check() error {
	_, err := s.kr.Get(Service, "mconnect-keyring-check")
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return classify(err, "mconnect-keyring-check")
}

func classify(err error, name string) error {
	if errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("%w: no secret named %q in the keyring; store it with `mconnect secret set %s`", ErrNotFound, name, name)
	}
	msg := err.Error()
	if errors.Is(err, errNoSessionBus) || strings.Contains(msg, "connection refused") || strings.Contains(msg, "dbus") || strings.Contains(msg, "DBus") || strings.Contains(msg, "org.freedesktop") ||
		strings.Contains(msg, "unlock") || strings.Contains(msg, "Secret Service") || strings.Contains(msg, "no such file") {
		return fmt.Errorf("%w (%v): on Linux the hub needs a Secret Service such as gnome-keyring or KeePassXC in the D-Bus session, unlocked; on a headless server use env:VAR references instead", ErrNoKeyring, err)
	}
	return err
}

func redactRef(ref string) string {
	if len(ref) <= 4 {
		return "****"
	}
	return ref[:2] + "****"
}

// Redact replaces every occurrence of the given secrets in s with "****".
func Redact(s string, secrets ...string) string {
	for _, v := range secrets {
		if len(v) >= 3 {
			s = strings.ReplaceAll(s, v, "****")
		}
	}
	return s
}
