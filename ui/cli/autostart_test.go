package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesi/mconnect/connectors/registry"
)

// TestAutostart: on, status and off against a throwaway XDG config folder.
func TestAutostart(t *testing.T) {
	root := t.TempDir()
	t.Setenv("HOME", filepath.Join(root, "home"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "config"))
	t.Setenv("XDG_CONFIG_DIRS", filepath.Join(root, "xdg"))
	entry := filepath.Join(root, "config", "autostart", "mconnect.desktop")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if r := run("autostart", "status"); r.code != 0 || r.stdout != "off: "+entry+" (no entry)\n" {
		t.Fatalf("status before: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := run("autostart", "on"); r.code != 0 || !strings.HasPrefix(r.stdout, "on: "+entry+" ") {
		t.Fatalf("on: %d %q %s", r.code, r.stdout, r.stderr)
	}
	data, err := os.ReadFile(entry)
	if err != nil || !strings.Contains(string(data), "\nExec="+exe+"\n") || !strings.Contains(string(data), "X-GNOME-Autostart-enabled=true") {
		t.Fatalf("entry: %v\n%s", err, data)
	}
	if r := run("autostart", "status"); r.code != 0 || r.stdout != "on: "+entry+"\nstarts: "+exe+"\n" {
		t.Fatalf("status on: %d %q %s", r.code, r.stdout, r.stderr)
	}
	// With a config file: its absolute path goes into the entry.
	t.Chdir(root)
	if r := run("autostart", "on", "--config", "my config.json"); r.code != 0 {
		t.Fatalf("on --config: %d %s", r.code, r.stderr)
	}
	abs := filepath.Join(root, "my config.json")
	if r := run("autostart", "status"); r.code != 0 || r.stdout != "on: "+entry+"\nstarts: "+exe+" --config \""+abs+"\"\n" {
		t.Fatalf("status with --config: %d %q", r.code, r.stdout)
	}
	if r := run("autostart", "off"); r.code != 0 || r.stdout != "off: "+entry+" (nothing starts at login)\n" {
		t.Fatalf("off: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(entry); !os.IsNotExist(err) {
		t.Fatalf("off left the entry: %v", err)
	}
	// An entry the desktop switched off reads as off, with the reason.
	os.WriteFile(entry, []byte("[Desktop Entry]\nType=Application\nExec="+exe+"\nHidden=true\n"), 0o644)
	if r := run("autostart", "status"); r.code != 0 || r.stdout != "off: "+entry+" (switched off (Hidden=true))\nstarts: "+exe+"\n" {
		t.Fatalf("status hidden: %d %q", r.code, r.stdout)
	}
	// One that cannot be read is a failure naming the file and the line.
	os.WriteFile(entry, []byte("[Desktop Entry]\nExec=\"unclosed\n"), 0o644)
	if r := run("autostart", "status"); r.code != 1 || !strings.Contains(r.stderr, entry+": line 2") {
		t.Fatalf("status garbled: %d %q", r.code, r.stderr)
	}
}

// TestLegacyAutostartKeyIgnored: hub.autostart of earlier versions is read
// without complaint, changes nothing on the OS, and is not written back.
func TestLegacyAutostartKeyIgnored(t *testing.T) {
	root := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "config"))
	t.Setenv("XDG_CONFIG_DIRS", filepath.Join(root, "xdg"))
	ex := run("config", "example", "--ehr", "birpis", "--data", filepath.Join(root, "data"))
	if ex.code != 0 {
		t.Fatal(ex.stderr)
	}
	legacy := strings.Replace(ex.stdout, `"hub": {`, `"hub": {`+"\n    \"autostart\": true,", 1)
	if legacy == ex.stdout {
		t.Fatalf("no hub object in the example:\n%s", ex.stdout)
	}
	path := filepath.Join(root, "legacy.json")
	os.WriteFile(path, []byte(legacy), 0o600)
	if r := run("config", "validate", "--config", path); r.code != 0 {
		t.Fatalf("validate: %d %s", r.code, r.stderr)
	}
	c, err := registry.Parse([]byte(legacy))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Marshal()
	if err != nil || strings.Contains(string(b), "autostart") {
		t.Fatalf("written back: %v\n%s", err, b)
	}
	if r := run("autostart", "status"); r.code != 0 || !strings.HasPrefix(r.stdout, "off: ") {
		t.Fatalf("status: %d %q", r.code, r.stdout)
	}
}
