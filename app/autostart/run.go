package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// The Windows registry keys under HKEY_CURRENT_USER.
const (
	RunKey = `Software\Microsoft\Windows\CurrentVersion\Run`
	// ApprovedKey is where Task Manager and Settings > Startup apps record
	// that a Run entry is switched off (binary value of the same name; the
	// first byte odd, 03 or 07, means off; even, 02 or 06, means on).
	ApprovedKey = `Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run`
)

// Registry is the part of HKEY_CURRENT_USER the Windows manager uses.
// A missing key or value reads as an error wrapping fs.ErrNotExist.
type Registry interface {
	String(key, name string) (string, error)
	Binary(key, name string) ([]byte, error)
	// SetString creates the key if needed and writes a REG_SZ value.
	SetString(key, name, value string) error
	// Delete removes the value; a missing key or value is not an error.
	Delete(key, name string) error
}

// Run is the Manager of Windows: the value "mCONNECT Hub" under
// HKCU\...\CurrentVersion\Run, the program's command line.
type Run struct {
	reg     Registry
	command []string
}

// NewRun returns the Windows manager over reg.
func NewRun(reg Registry, exe string, args ...string) *Run {
	return &Run{reg: reg, command: append([]string{exe}, args...)}
}

// Where names the registry value.
func (r *Run) Where() string { return `HKCU\` + RunKey + ` value "` + Name + `"` }

// Enabled reads the Run value and StartupApproved.
func (r *Run) Enabled() (bool, error) { return enabled(r) }

// SetEnabled writes the Run value (on; it also clears a switch-off left
// by Task Manager, since the person asked for it now) or removes both.
func (r *Run) SetEnabled(on bool) error {
	if on {
		if err := r.reg.SetString(RunKey, Name, windowsCommandLine(r.command)); err != nil {
			return fmt.Errorf("autostart: write %s: %w", r.Where(), err)
		}
	} else if err := r.reg.Delete(RunKey, Name); err != nil {
		return fmt.Errorf("autostart: remove %s: %w", r.Where(), err)
	}
	if err := r.reg.Delete(ApprovedKey, Name); err != nil {
		return fmt.Errorf(`autostart: remove HKCU\%s value "%s": %w`, ApprovedKey, Name, err)
	}
	return nil
}

// Inspect reads the Run value and whether Task Manager switched it off.
func (r *Run) Inspect() (Status, error) {
	st := Status{Where: r.Where()}
	v, err := r.reg.String(RunKey, Name)
	if errors.Is(err, fs.ErrNotExist) {
		st.Reason = reasonNoEntry
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("autostart: read %s: %w", r.Where(), err)
	}
	st.Exists = true
	st.Command = splitWindowsCommandLine(v)
	b, err := r.reg.Binary(ApprovedKey, Name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return st, fmt.Errorf(`autostart: read HKCU\%s value "%s": %w`, ApprovedKey, Name, err)
	}
	switch {
	case len(b) > 0 && b[0]&1 == 1:
		st.Reason = fmt.Sprintf(reasonDisabled, "in Task Manager or Settings, Startup apps")
	case len(st.Command) == 0:
		st.Reason = reasonNoCmd
	case !strings.EqualFold(st.Command[0], r.command[0]):
		st.Reason = fmt.Sprintf(reasonOther, v)
	default:
		st.Enabled = true
	}
	return st, nil
}

// windowsCommandLine joins args the way Windows splits them: the program
// in plain quotes when it holds a blank (its backslashes are never
// escapes; it cannot hold a quote), the arguments by the C runtime's rules
// (those of syscall.EscapeArg).
func windowsCommandLine(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		switch {
		case i > 0:
			parts[i] = escapeWindowsArg(a)
		case a == "" || strings.ContainsAny(a, " \t"):
			parts[i] = `"` + a + `"`
		default:
			parts[i] = a
		}
	}
	return strings.Join(parts, " ")
}

func escapeWindowsArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(c)
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}

// splitWindowsCommandLine splits a command line as CommandLineToArgvW
// does: the program name runs to the next quote (quoted) or blank, the
// arguments follow the backslash-and-quote rules.
func splitWindowsCommandLine(s string) []string {
	s = strings.TrimLeft(s, " \t")
	if s == "" {
		return nil
	}
	var args []string
	if s[0] == '"' {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return []string{s[1:]}
		}
		args = append(args, s[1:1+end])
		s = s[2+end:]
	} else {
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			return []string{s}
		}
		args = append(args, s[:end])
		s = s[end:]
	}
	var cur strings.Builder
	inArg, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			if i < len(s) && s[i] == '"' {
				cur.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					cur.WriteByte('"')
				} else {
					quoted = !quoted
				}
			} else {
				cur.WriteString(strings.Repeat(`\`, n))
				i--
			}
			inArg = true
		case c == '"':
			if quoted && i+1 < len(s) && s[i+1] == '"' {
				cur.WriteByte('"')
				i++
			} else {
				quoted = !quoted
			}
			inArg = true
		case (c == ' ' || c == '\t') && !quoted:
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}
