package autostart

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"unicode"
)

// The XDG Desktop Entry format, as much of it as an autostart entry needs
// (https://specifications.freedesktop.org/desktop-entry-spec/latest/).

// desktopEntry is the [Desktop Entry] group of a .desktop file.
type desktopEntry struct {
	keys map[string]string // unescaped values; localised keys (Name[de]) left out
	line map[string]int    // where each key stands, for errors
}

// parseDesktopEntry reads the [Desktop Entry] group of a .desktop file.
// Errors name the line. Other groups (actions) are skipped.
func parseDesktopEntry(data []byte) (desktopEntry, error) {
	e := desktopEntry{keys: map[string]string{}, line: map[string]int{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	group, seen, n := "", false, 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		switch {
		case line == "" || line[0] == '#':
			continue
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return e, fmt.Errorf("line %d: group header %q has no closing ]", n, line)
			}
			group = line[1 : len(line)-1]
			if group == "Desktop Entry" {
				seen = true
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return e, fmt.Errorf("line %d: %q is neither a group, a key=value nor a comment", n, line)
		}
		if group == "" {
			return e, fmt.Errorf("line %d: key before the [Desktop Entry] group", n)
		}
		k = strings.TrimSpace(k)
		if group != "Desktop Entry" || strings.Contains(k, "[") {
			continue
		}
		if _, dup := e.keys[k]; dup {
			return e, fmt.Errorf("line %d: key %s given twice", n, k)
		}
		uv, err := unescapeString(strings.TrimSpace(v))
		if err != nil {
			return e, fmt.Errorf("line %d: %s: %w", n, k, err)
		}
		e.keys[k], e.line[k] = uv, n
	}
	if err := sc.Err(); err != nil {
		return e, fmt.Errorf("line %d: %w", n+1, err)
	}
	if !seen {
		return e, fmt.Errorf("no [Desktop Entry] group")
	}
	return e, nil
}

// boolKey reads a boolean key: present reports whether it is given.
func (e desktopEntry) boolKey(k string) (value, present bool, err error) {
	v, ok := e.keys[k]
	if !ok {
		return false, false, nil
	}
	switch v {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, true, fmt.Errorf("line %d: %s=%s: not true or false", e.line[k], k, v)
}

// exec reads the Exec key into arguments (nil when there is none).
func (e desktopEntry) exec() ([]string, error) {
	v, ok := e.keys["Exec"]
	if !ok {
		return nil, nil
	}
	args, err := splitExec(v)
	if err != nil {
		return nil, fmt.Errorf("line %d: %w", e.line["Exec"], err)
	}
	return args, nil
}

// unescapeString undoes the escapes of a string value: \s \n \t \r \\.
func unescapeString(v string) (string, error) {
	if !strings.Contains(v, `\`) {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(v) {
			return "", fmt.Errorf("value ends in a lone backslash")
		}
		i++
		switch v[i] {
		case 's':
			b.WriteByte(' ')
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '\\':
			b.WriteByte('\\')
		case ';':
			// Lists escape their separator; keep it as written.
			b.WriteString(`\;`)
		default:
			return "", fmt.Errorf("unknown escape \\%c", v[i])
		}
	}
	return b.String(), nil
}

// escapeString writes a string value (the inverse of unescapeString).
func escapeString(v string) string {
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`)
	v = r.Replace(v)
	if strings.HasPrefix(v, " ") {
		v = `\s` + v[1:]
	}
	return v
}

// execReserved are the characters that make an Exec argument need quotes.
const execReserved = " \t\n\"'\\><~|&;$*?#()`"

// quoteExec renders the Exec value of args (program first) per the spec:
// an argument with a reserved character goes in double quotes, inside
// which " ` $ and \ take a backslash; % is written %% (not a field code).
// The caller escapes the result as a string value.
func quoteExec(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		a = strings.ReplaceAll(a, "%", "%%")
		// Any other space too: readers trim a value's leading Unicode spaces.
		if a != "" && !strings.ContainsAny(a, execReserved) && strings.IndexFunc(a, unicode.IsSpace) < 0 {
			parts[i] = a
			continue
		}
		var b strings.Builder
		b.WriteByte('"')
		for _, r := range a {
			if strings.ContainsRune("\"`$\\", r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
		parts[i] = b.String()
	}
	return strings.Join(parts, " ")
}

// splitExec reads an (unescaped) Exec value into arguments: quoting undone,
// %% made %, and field codes (%f %U ...) dropped, since nothing is passed
// at login.
func splitExec(v string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg, quoted := false, false
	flush := func() error {
		a := cur.String()
		cur.Reset()
		inArg = false
		// Field codes: a lone %X (dropped) and %% (a percent sign).
		var out strings.Builder
		for i := 0; i < len(a); i++ {
			if a[i] != '%' {
				out.WriteByte(a[i])
				continue
			}
			if i+1 == len(a) {
				return fmt.Errorf("key Exec: argument %q ends in a lone %%", a)
			}
			i++
			switch a[i] {
			case '%':
				out.WriteByte('%')
			case 'f', 'F', 'u', 'U', 'i', 'c', 'k', 'd', 'D', 'n', 'N', 'v', 'm':
				if len(a) != 2 {
					return fmt.Errorf("key Exec: field code %%%c inside argument %q", a[i], a)
				}
				return nil
			default:
				return fmt.Errorf("key Exec: unknown field code %%%c", a[i])
			}
		}
		args = append(args, out.String())
		return nil
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case quoted && c == '\\' && i+1 < len(v) && strings.IndexByte("\"`$\\", v[i+1]) >= 0:
			i++
			cur.WriteByte(v[i])
		case quoted && c == '"':
			quoted = false
		case quoted:
			cur.WriteByte(c)
		case c == '"':
			quoted, inArg = true, true
		case c == ' ' || c == '\t' || c == '\n':
			if inArg {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("key Exec: a double quote is not closed")
	}
	if inArg {
		if err := flush(); err != nil {
			return nil, err
		}
	}
	return args, nil
}

// renderDesktopEntry writes the autostart entry that starts args at login.
func renderDesktopEntry(args []string) []byte {
	var b strings.Builder
	b.WriteString("[Desktop Entry]\n")
	b.WriteString("Type=Application\n")
	b.WriteString("Name=" + Name + "\n")
	b.WriteString("Comment=Connects the practice software (EHR) with MESI mTABLET measurement tablets\n")
	b.WriteString("Exec=" + escapeString(quoteExec(args)) + "\n")
	b.WriteString("Icon=mconnect\n")
	b.WriteString("Terminal=false\n")
	b.WriteString("X-GNOME-Autostart-enabled=true\n")
	return []byte(b.String())
}

// renderHiddenEntry writes the entry that switches a system-wide entry of
// the same name off for this user.
func renderHiddenEntry() []byte {
	return []byte("[Desktop Entry]\nType=Application\nName=" + Name + "\nHidden=true\n")
}
