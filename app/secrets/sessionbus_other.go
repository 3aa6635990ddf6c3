//go:build windows || darwin

package secrets

// ensureSessionBus has nothing to do on Windows and macOS: their keyrings are
// not reached through D-Bus.
func ensureSessionBus() error { return nil }
