package config

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/mesi/mconnect/internal/testfs"
)

func TestDefaultPaths(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("the table below is the XDG layout of Linux and the BSDs")
	}
	tests := []struct {
		name, configHome, dataHome string
		config, data               string // under HOME
	}{
		{"defaults", "", "", ".config/mconnect/config.json", ".local/share/mconnect"},
		{"XDG set", "/x/cfg", "/x/data", "/x/cfg/mconnect/config.json", "/x/data/mconnect"},
		{"relative XDG_DATA_HOME ignored", "", "rel/data", ".config/mconnect/config.json", ".local/share/mconnect"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := testfs.TempDir(t)
			t.Setenv("HOME", home)
			t.Setenv("XDG_CONFIG_HOME", tc.configHome)
			t.Setenv("XDG_DATA_HOME", tc.dataHome)
			abs := func(p string) string {
				if filepath.IsAbs(p) {
					return p
				}
				return filepath.Join(home, p)
			}
			if p, err := DefaultPath(); err != nil || p != abs(tc.config) {
				t.Errorf("DefaultPath = %s, %v; want %s", p, err, abs(tc.config))
			}
			if d := DefaultDataDir(); d != abs(tc.data) {
				t.Errorf("DefaultDataDir = %s, want %s", d, abs(tc.data))
			}
		})
	}
}
