package autostart

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeExe creates an executable file named mconnect in a folder whose
// name needs quoting in Exec (a space, a dollar sign, a percent sign).
func fakeExe(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mCONNECT Hub $1 100%")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "mconnect")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}

// xdgEnv gives the process a throwaway HOME and XDG folders.
func xdgEnv(t *testing.T) (configHome, configDir string) {
	t.Helper()
	root := t.TempDir()
	configHome, configDir = filepath.Join(root, "config"), filepath.Join(root, "xdg")
	t.Setenv("HOME", filepath.Join(root, "home"))
	t.Setenv("XDG_CONFIG_HOME", configHome)
	t.Setenv("XDG_CONFIG_DIRS", configDir)
	return configHome, configDir
}

func TestXDGOnOff(t *testing.T) {
	configHome, _ := xdgEnv(t)
	exe := fakeExe(t)
	m := New(exe, "--dashboard")
	want := filepath.Join(configHome, "autostart", "mconnect.desktop")
	if m.Where() != want {
		t.Fatalf("Where = %s, want %s", m.Where(), want)
	}
	if on, err := m.Enabled(); on || err != nil {
		t.Fatalf("before: Enabled = %v, %v", on, err)
	}
	if err := m.SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	e, err := parseDesktopEntry(data)
	if err != nil {
		t.Fatalf("the written entry does not parse: %v\n%s", err, data)
	}
	for k, v := range map[string]string{"Type": "Application", "Name": "mCONNECT Hub", "X-GNOME-Autostart-enabled": "true"} {
		if e.keys[k] != v {
			t.Errorf("%s=%q, want %q", k, e.keys[k], v)
		}
	}
	// The folder's name is quoted and escaped per the specification.
	wantExec := `Exec="` + strings.ReplaceAll(strings.ReplaceAll(exe, "$", `\\$`), "%", "%%") + `" --dashboard`
	if !strings.Contains(string(data), wantExec+"\n") {
		t.Errorf("Exec line: want %s in\n%s", wantExec, data)
	}
	args, err := splitExec(e.keys["Exec"])
	if err != nil || !reflect.DeepEqual(args, []string{exe, "--dashboard"}) {
		t.Fatalf("Exec reads back as %q, %v", args, err)
	}
	if on, err := m.Enabled(); !on || err != nil {
		t.Fatalf("after on: Enabled = %v, %v", on, err)
	}
	if fi, _ := os.Stat(want); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	if err := m.SetEnabled(false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(want); !os.IsNotExist(err) {
		t.Fatalf("off left the entry: %v", err)
	}
	if on, err := m.Enabled(); on || err != nil {
		t.Fatalf("after off: Enabled = %v, %v", on, err)
	}
	if err := m.SetEnabled(false); err != nil {
		t.Fatalf("off twice: %v", err)
	}
	// Nothing but the entry was left in the folder (no temp files).
	if ents, _ := os.ReadDir(filepath.Dir(want)); len(ents) != 0 {
		t.Fatalf("left in the folder: %v", ents)
	}
}

func TestXDGDefaultFolder(t *testing.T) {
	for _, v := range []string{"", "relative/config"} {
		home := t.TempDir()
		t.Setenv("HOME", home)
		t.Setenv("XDG_CONFIG_HOME", v)
		t.Setenv("XDG_CONFIG_DIRS", "")
		x := NewXDG("/usr/bin/mconnect")
		if want := filepath.Join(home, ".config", "autostart", "mconnect.desktop"); x.Where() != want {
			t.Errorf("XDG_CONFIG_HOME=%q: Where = %s, want %s", v, x.Where(), want)
		}
		if !reflect.DeepEqual(x.system, []string{"/etc/xdg/autostart/mconnect.desktop"}) {
			t.Errorf("system entries %v", x.system)
		}
	}
}

// TestXDGSystemEntry: a system-wide entry starts the program unless the
// person's own entry of the same name hides it; off writes that entry.
func TestXDGSystemEntry(t *testing.T) {
	configHome, configDir := xdgEnv(t)
	exe := fakeExe(t)
	sys := filepath.Join(configDir, "autostart", "mconnect.desktop")
	if err := writeFileAtomic(sys, renderDesktopEntry([]string{exe}), 0o644); err != nil {
		t.Fatal(err)
	}
	m := NewXDG(exe)
	st, err := m.Inspect()
	if err != nil || !st.Enabled || st.Where != sys {
		t.Fatalf("system entry: %+v, %v", st, err)
	}
	if err := m.SetEnabled(false); err != nil {
		t.Fatal(err)
	}
	user := filepath.Join(configHome, "autostart", "mconnect.desktop")
	st, err = m.Inspect()
	if err != nil || st.Enabled || st.Where != user || !strings.Contains(st.Reason, "Hidden=true") {
		t.Fatalf("after off: %+v, %v", st, err)
	}
	if _, err := os.Stat(sys); err != nil {
		t.Fatalf("the system entry was touched: %v", err)
	}
	if err := m.SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	if st, err = m.Inspect(); err != nil || !st.Enabled || st.Where != user {
		t.Fatalf("after on: %+v, %v", st, err)
	}
}

// TestXDGReadsWhatIsThere: entries written by people or other tools read
// as what they are.
func TestXDGReadsWhatIsThere(t *testing.T) {
	tests := []struct {
		file    string
		enabled bool
		command []string // @EXE@ is the program
		reason  string   // in Reason, or in the error when err
		err     bool
	}{
		{"ours.desktop", true, []string{"@EXE@"}, "", false},
		{"field-codes.desktop", true, []string{"@EXE@", "--dashboard"}, "", false},
		{"bare-name.desktop", true, []string{"mconnect"}, "", false},
		{"hidden.desktop", false, []string{"@EXE@"}, "switched off (Hidden=true)", false},
		{"gnome-off.desktop", false, []string{"@EXE@"}, "switched off (X-GNOME-Autostart-enabled=false)", false},
		{"other-program.desktop", false, []string{"/opt/old mconnect/mconnect", "--dashboard"}, "another program: /opt/old mconnect/mconnect --dashboard", false},
		{"link.desktop", false, nil, "Type=Link", false},
		{"no-exec.desktop", false, nil, "names no program", false},
		{"bad-bool.desktop", false, nil, "line 4: Hidden=yes: not true or false", true},
		{"no-group.desktop", false, nil, "line 1: key before the [Desktop Entry] group", true},
		{"open-quote.desktop", false, nil, "line 3: key Exec: a double quote is not closed", true},
		{"garbage.desktop", false, nil, `line 3: "this line is not a key"`, true},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			configHome, _ := xdgEnv(t)
			exe := fakeExe(t)
			// A bare "mconnect" is looked up on PATH: this program's folder.
			t.Setenv("PATH", filepath.Dir(exe))
			raw, err := os.ReadFile(filepath.Join("testdata", "xdg", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			user := filepath.Join(configHome, "autostart", "mconnect.desktop")
			data := strings.ReplaceAll(string(raw), "@EXE@", escapeString(quoteExec([]string{exe})))
			if err := writeFileAtomic(user, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			m := NewXDG(exe)
			st, err := m.Inspect()
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), tc.reason) || !strings.Contains(err.Error(), user) {
					t.Fatalf("error %v, want one naming %s and %q", err, user, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, a := range tc.command {
				want = append(want, strings.ReplaceAll(a, "@EXE@", exe))
			}
			if st.Enabled != tc.enabled || !st.Exists || st.Where != user || !reflect.DeepEqual(st.Command, want) {
				t.Fatalf("got %+v, want enabled %v, command %q", st, tc.enabled, want)
			}
			if !strings.Contains(st.Reason, tc.reason) || (tc.enabled && st.Reason != "") {
				t.Fatalf("reason %q, want %q", st.Reason, tc.reason)
			}
			if on, _ := m.Enabled(); on != tc.enabled {
				t.Fatalf("Enabled = %v", on)
			}
			// On always leaves this program's own entry.
			if err := m.SetEnabled(true); err != nil {
				t.Fatal(err)
			}
			if st, err := m.Inspect(); err != nil || !st.Enabled || !reflect.DeepEqual(st.Command, []string{exe}) {
				t.Fatalf("after on: %+v, %v", st, err)
			}
		})
	}
}

// TestBareNameNotOnPath: Exec=mconnect with no mconnect on PATH starts nothing.
func TestBareNameNotOnPath(t *testing.T) {
	configHome, _ := xdgEnv(t)
	t.Setenv("PATH", t.TempDir())
	raw, _ := os.ReadFile(filepath.Join("testdata", "xdg", "bare-name.desktop"))
	writeFileAtomic(filepath.Join(configHome, "autostart", "mconnect.desktop"), raw, 0o644)
	st, err := NewXDG(fakeExe(t)).Inspect()
	if err != nil || st.Enabled || !strings.Contains(st.Reason, "another program: mconnect") {
		t.Fatalf("%+v, %v", st, err)
	}
}

func TestExecQuoting(t *testing.T) {
	tests := []struct {
		args []string
		exec string // before string-value escaping
	}{
		{[]string{"/usr/bin/mconnect"}, `/usr/bin/mconnect`},
		{[]string{"/opt/mCONNECT Hub/mconnect", "--dashboard"}, `"/opt/mCONNECT Hub/mconnect" --dashboard`},
		{[]string{`/a"b/$x`, "`c`", `back\slash`}, `"/a\"b/\$x" "` + "\\`c\\`" + `" "back\\slash"`},
		{[]string{"/bin/x", "50%"}, `/bin/x 50%%`},
		{[]string{"/bin/x", ""}, `/bin/x ""`},
		{[]string{"/bin/x", "a=b", "semi;colon"}, `/bin/x a=b "semi;colon"`},
	}
	for _, tc := range tests {
		if got := quoteExec(tc.args); got != tc.exec {
			t.Errorf("quoteExec(%q) = %s, want %s", tc.args, got, tc.exec)
		}
		back, err := splitExec(tc.exec)
		if err != nil || !reflect.DeepEqual(back, tc.args) {
			t.Errorf("splitExec(%s) = %q, %v", tc.exec, back, err)
		}
		// Through the file: string escaping on top (a backslash is four).
		e, err := parseDesktopEntry(renderDesktopEntry(tc.args))
		if err != nil {
			t.Fatal(err)
		}
		if back, err := splitExec(e.keys["Exec"]); err != nil || !reflect.DeepEqual(back, tc.args) {
			t.Errorf("through the file %q: %q, %v", tc.args, back, err)
		}
	}
	if got := string(renderDesktopEntry([]string{`/x\y/mconnect`})); !strings.Contains(got, `Exec="/x\\\\y/mconnect"`) {
		t.Errorf("a backslash is not written as four:\n%s", got)
	}
	for _, bad := range []string{`/bin/x %`, `/bin/x %q`, `/bin/x a%fb`} {
		if _, err := splitExec(bad); err == nil {
			t.Errorf("splitExec(%s) accepted", bad)
		}
	}
}
