package autostart

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// seeds adds every file of a testdata folder to the corpus.
func seeds(f *testing.F, dir string) {
	files, _ := filepath.Glob(filepath.Join("testdata", dir, "*"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// FuzzParseDesktopEntry: any bytes parse or fail with an error, and what
// parses can be read for its Exec without a panic.
func FuzzParseDesktopEntry(f *testing.F) {
	seeds(f, "xdg")
	f.Add(renderDesktopEntry([]string{`/a b/"c"`, "%", `\`}))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := parseDesktopEntry(data)
		if err != nil {
			return
		}
		e.exec()
		e.boolKey("Hidden")
	})
}

// FuzzExecRoundTrip: every argument list survives the Exec quoting and
// the string-value escaping of the file.
func FuzzExecRoundTrip(f *testing.F) {
	f.Add("/usr/bin/mconnect", "--dashboard", "")
	f.Add(`/opt/a b/$x`, "50%", `back\slash "q"`)
	f.Fuzz(func(t *testing.T, a, b, c string) {
		args := []string{a, b, c}
		for _, s := range args {
			// Control characters other than tab and newline, CR and NUL have
			// no place in a path or a flag, and the file is UTF-8 text.
			if strings.ContainsAny(s, "\r\x00") || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' }) || !utf8Valid(s) {
				return
			}
		}
		e, err := parseDesktopEntry(renderDesktopEntry(args))
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		got, err := e.exec()
		if err != nil || !reflect.DeepEqual(got, args) {
			t.Fatalf("%q reads back as %q, %v", args, got, err)
		}
	})
}

// FuzzParsePlist: any bytes parse or fail with an error.
func FuzzParsePlist(f *testing.F) {
	seeds(f, "plist")
	f.Add(renderPlist([]string{"/x", "&<>"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		parsePlist(data)
	})
}

// FuzzPlistRoundTrip: every argument list survives the plist.
func FuzzPlistRoundTrip(f *testing.F) {
	f.Add("/Applications/mCONNECT Hub.app/Contents/MacOS/mconnect", "--config", "a&b<c>")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		args := []string{a, b, c}
		for _, s := range args {
			if !utf8Valid(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' || r == 0xFFFE || r == 0xFFFF }) || strings.Contains(s, "\r") {
				return
			}
		}
		p, err := parsePlist(renderPlist(args))
		if err != nil || !reflect.DeepEqual(p.args, args) {
			t.Fatalf("%q reads back as %q, %v", args, p.args, err)
		}
	})
}

// FuzzWindowsCommandLine: arguments after the program survive joining and
// splitting (the program name itself cannot hold a double quote).
func FuzzWindowsCommandLine(f *testing.F) {
	f.Add(`C:\Program Files\mCONNECT Hub\mconnect.exe`, `a\\"b`, ` trailing\`)
	f.Fuzz(func(t *testing.T, prog, a, b string) {
		splitWindowsCommandLine(prog + " " + a + " " + b)
		if prog == "" || strings.ContainsAny(prog, "\"\t") || strings.ContainsAny(a+b, "\x00") {
			return
		}
		args := []string{prog, a, b}
		if got := splitWindowsCommandLine(windowsCommandLine(args)); !reflect.DeepEqual(got, args) {
			t.Fatalf("%q: %s splits into %q", args, windowsCommandLine(args), got)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
