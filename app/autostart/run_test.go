package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

// fakeRegistry is HKEY_CURRENT_USER in memory, strict about types: a
// string read of a binary value fails as the real registry's does.
type fakeRegistry struct {
	values map[string]any // key + `\` + name -> string or []byte
	fail   error          // returned by every call when set
}

func newFakeRegistry() *fakeRegistry { return &fakeRegistry{values: map[string]any{}} }

func (f *fakeRegistry) String(key, name string) (string, error) {
	if f.fail != nil {
		return "", f.fail
	}
	v, ok := f.values[key+`\`+name]
	if !ok {
		return "", fmt.Errorf("%s %s: %w", key, name, fs.ErrNotExist)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s %s: unexpected value type", key, name)
	}
	return s, nil
}

func (f *fakeRegistry) Binary(key, name string) ([]byte, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	v, ok := f.values[key+`\`+name]
	if !ok {
		return nil, fmt.Errorf("%s %s: %w", key, name, fs.ErrNotExist)
	}
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("%s %s: unexpected value type", key, name)
	}
	return b, nil
}

func (f *fakeRegistry) SetString(key, name, value string) error {
	if f.fail != nil {
		return f.fail
	}
	f.values[key+`\`+name] = value
	return nil
}

func (f *fakeRegistry) Delete(key, name string) error {
	if f.fail != nil {
		return f.fail
	}
	delete(f.values, key+`\`+name)
	return nil
}

const winExe = `C:\Program Files\mCONNECT Hub\mconnect.exe`

func TestRunOnOff(t *testing.T) {
	reg := newFakeRegistry()
	m := NewRun(reg, winExe, "--config", `C:\Users\dr "x"\config.json`)
	if m.Where() != `HKCU\Software\Microsoft\Windows\CurrentVersion\Run value "mCONNECT Hub"` {
		t.Fatalf("Where = %s", m.Where())
	}
	if on, err := m.Enabled(); on || err != nil {
		t.Fatalf("before: %v %v", on, err)
	}
	// Switched off in Task Manager earlier: on clears that.
	reg.values[ApprovedKey+`\mCONNECT Hub`] = []byte{3, 0, 0, 0, 0xd4, 0x0d, 0x43, 0x8d, 0xc8, 0x3b, 0xd9, 0x01}
	if err := m.SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	want := `"C:\Program Files\mCONNECT Hub\mconnect.exe" --config "C:\Users\dr \"x\"\config.json"`
	if got := reg.values[RunKey+`\mCONNECT Hub`]; got != want {
		t.Fatalf("Run value %v, want %s", got, want)
	}
	if _, ok := reg.values[ApprovedKey+`\mCONNECT Hub`]; ok {
		t.Fatal("on left Task Manager's switch-off")
	}
	st, err := m.Inspect()
	if err != nil || !st.Enabled || !reflect.DeepEqual(st.Command, []string{winExe, "--config", `C:\Users\dr "x"\config.json`}) {
		t.Fatalf("after on: %+v %v", st, err)
	}
	if err := m.SetEnabled(false); err != nil {
		t.Fatal(err)
	}
	if len(reg.values) != 0 {
		t.Fatalf("off left %v", reg.values)
	}
	if on, err := m.Enabled(); on || err != nil {
		t.Fatalf("after off: %v %v", on, err)
	}
}

func TestRunReadsWhatIsThere(t *testing.T) {
	tests := []struct {
		name     string
		run      any // the Run value; nil: none
		approved []byte
		enabled  bool
		reason   string // in Reason, or in the error when err
		err      bool
	}{
		{"none", nil, nil, false, "no entry", false},
		{"ours", `"` + winExe + `"`, nil, true, "", false},
		{"ours unquoted case differs", `"c:\program files\mconnect hub\MCONNECT.EXE" --dashboard`, nil, true, "", false},
		{"approved on", `"` + winExe + `"`, []byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, true, "", false},
		{"approved on 06", `"` + winExe + `"`, []byte{6, 0, 0, 0}, true, "", false},
		{"task manager off", `"` + winExe + `"`, []byte{3, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}, false, "switched off (in Task Manager", false},
		{"settings off 07", `"` + winExe + `"`, []byte{7, 0, 0, 0}, false, "switched off", false},
		{"other program", `"D:\old\mconnect.exe" --dashboard`, nil, false, `another program: "D:\old\mconnect.exe" --dashboard`, false},
		{"empty", ``, nil, false, "names no program", false},
		{"binary run value", []byte{1, 2}, nil, false, "unexpected value type", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := newFakeRegistry()
			if tc.run != nil {
				reg.values[RunKey+`\mCONNECT Hub`] = tc.run
			}
			if tc.approved != nil {
				reg.values[ApprovedKey+`\mCONNECT Hub`] = tc.approved
			}
			m := NewRun(reg, winExe)
			st, err := m.Inspect()
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), tc.reason) || !strings.Contains(err.Error(), m.Where()) {
					t.Fatalf("error %v, want one naming %s and %q", err, m.Where(), tc.reason)
				}
				return
			}
			if err != nil || st.Enabled != tc.enabled || !strings.Contains(st.Reason, tc.reason) || st.Exists != (tc.run != nil) {
				t.Fatalf("got %+v, %v; want enabled %v, reason %q", st, err, tc.enabled, tc.reason)
			}
		})
	}
}

func TestRunRegistryFailureNamesTheValue(t *testing.T) {
	reg := newFakeRegistry()
	reg.fail = errors.New("Access is denied.")
	m := NewRun(reg, winExe)
	for name, err := range map[string]error{"on": m.SetEnabled(true), "off": m.SetEnabled(false)} {
		if err == nil || !strings.Contains(err.Error(), m.Where()) || !strings.Contains(err.Error(), "Access is denied.") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := m.Enabled(); err == nil || !strings.Contains(err.Error(), m.Where()) {
		t.Errorf("Enabled: %v", err)
	}
}

func TestWindowsCommandLine(t *testing.T) {
	tests := []struct {
		args []string
		line string
	}{
		{[]string{`C:\mconnect.exe`}, `C:\mconnect.exe`},
		{[]string{winExe, "--dashboard"}, `"C:\Program Files\mCONNECT Hub\mconnect.exe" --dashboard`},
		{[]string{`C:\x.exe`, ""}, `C:\x.exe ""`},
		{[]string{`C:\x.exe`, `a\\b`, `trailing\ `, `q"q`}, `C:\x.exe a\\b "trailing\ " "q\"q"`},
		{[]string{`C:\x.exe`, `end\`, `sp ace\`}, `C:\x.exe end\ "sp ace\\"`},
	}
	for _, tc := range tests {
		if got := windowsCommandLine(tc.args); got != tc.line {
			t.Errorf("windowsCommandLine(%q) = %s, want %s", tc.args, got, tc.line)
		}
		if got := splitWindowsCommandLine(tc.line); !reflect.DeepEqual(got, tc.args) {
			t.Errorf("split(%s) = %q, want %q", tc.line, got, tc.args)
		}
	}
	// The program name ends at the closing quote, backslashes and all.
	if got := splitWindowsCommandLine(`"C:\dir\"x.exe`); !reflect.DeepEqual(got, []string{`C:\dir\`, "x.exe"}) {
		t.Errorf("program name: %q", got)
	}
}
