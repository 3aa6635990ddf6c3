package autostart

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestPlistGolden: the LaunchAgent is exactly the reviewed file.
func TestPlistGolden(t *testing.T) {
	got := renderPlist([]string{"/Applications/mCONNECT Hub.app/Contents/MacOS/mconnect", "--config", "/Users/dr & co/config.json"})
	golden := filepath.Join("testdata", "com.mesi.mconnect.plist")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("plist differs from %s (go test -run TestPlistGolden -update rewrites it):\n%s", golden, got)
	}
	p, err := parsePlist(got)
	if err != nil {
		t.Fatal(err)
	}
	if p.label != Label || !p.runAtLoad || p.disabled || p.args[2] != "/Users/dr & co/config.json" {
		t.Fatalf("reads back as %+v", p)
	}
}

func TestLaunchAgentOnOff(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Library", "LaunchAgents")
	exe := fakeExe(t)
	m := NewLaunchAgent(dir, exe)
	if m.Where() != filepath.Join(dir, "com.mesi.mconnect.plist") {
		t.Fatalf("Where = %s", m.Where())
	}
	if on, err := m.Enabled(); on || err != nil {
		t.Fatalf("before: %v %v", on, err)
	}
	if err := m.SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(m.Where())
	if string(data) != string(renderPlist([]string{exe})) {
		t.Fatalf("written:\n%s", data)
	}
	if on, err := m.Enabled(); !on || err != nil {
		t.Fatalf("after on: %v %v", on, err)
	}
	if err := m.SetEnabled(false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(m.Where()); !os.IsNotExist(err) {
		t.Fatalf("off left the plist: %v", err)
	}
	if on, err := m.Enabled(); on || err != nil {
		t.Fatalf("after off: %v %v", on, err)
	}
}

func TestLaunchAgentReadsWhatIsThere(t *testing.T) {
	tests := []struct {
		file    string
		enabled bool
		command []string
		reason  string // in Reason, or in the error when err
		err     bool
	}{
		{"other-program.plist", false, []string{"/Applications/Old.app/Contents/MacOS/mconnect"}, "another program: /Applications/Old.app/Contents/MacOS/mconnect", false},
		{"disabled.plist", false, []string{"@EXE@"}, "switched off (Disabled is true)", false},
		{"no-runatload.plist", false, []string{"@EXE@"}, "RunAtLoad is not true", false},
		{"program-key.plist", true, []string{"@EXE@", "--dashboard"}, "", false},
		{"binary.plist", false, nil, "binary property list", true},
		{"truncated.plist", false, nil, "not an XML property list", true},
		{"array-of-dict.plist", false, nil, "ProgramArguments: <dict>, not <string>", true},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			dir := t.TempDir()
			exe := fakeExe(t)
			raw, err := os.ReadFile(filepath.Join("testdata", "plist", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			m := NewLaunchAgent(dir, exe)
			os.WriteFile(m.Where(), []byte(strings.ReplaceAll(string(raw), "@EXE@", exe)), 0o644)
			st, err := m.Inspect()
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), tc.reason) || !strings.Contains(err.Error(), m.Where()) {
					t.Fatalf("error %v, want one naming %s and %q", err, m.Where(), tc.reason)
				}
				return
			}
			var want []string
			for _, a := range tc.command {
				want = append(want, strings.ReplaceAll(a, "@EXE@", exe))
			}
			if err != nil || st.Enabled != tc.enabled || !st.Exists || !reflect.DeepEqual(st.Command, want) || !strings.Contains(st.Reason, tc.reason) {
				t.Fatalf("got %+v, %v; want enabled %v, command %q, reason %q", st, err, tc.enabled, want, tc.reason)
			}
		})
	}
}
