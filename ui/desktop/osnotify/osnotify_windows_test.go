//go:build windows

package osnotify

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestToastCommand(t *testing.T) {
	const appID = "com.mesi.mconnect"
	plainArgs, plainEnv, err := toastCommand(appID, "plain", "plain", "")
	if err != nil {
		t.Fatal(err)
	}
	script := plainEnv[0]
	if !strings.HasPrefix(script, envScript+"=") || !strings.Contains(script, "CreateToastNotifier('com.mesi.mconnect')") {
		t.Fatalf("script %q does not show the toast for the app ID", script)
	}

	tests := []struct{ name, title, body, icon string }{
		{"double quotes", `say "hi"`, `"; Remove-Item C:\ -Recurse; "`, ""},
		{"single quotes", "it's", `'); Start-Process calc; ('`, ""},
		{"dollar", "$env:USERNAME", "$(Start-Process calc)", ""},
		{"backticks", "a`nb", "`$x`", ""},
		{"line breaks", "one\ntwo", "three\r\nStart-Process calc\n", ""},
		{"here-string end", "'@\nStart-Process calc\n@'", "\"@\nStart-Process calc", ""},
		{"percent verbs", "%s %v %q", "%!", ""},
		{"icon path with quotes", "Results", "2 new", `C:\Users\O'Brien "x"\AppData\Local\Temp\i.png`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args, env, err := toastCommand(appID, tc.title, tc.body, tc.icon)
			if err != nil {
				t.Fatal(err)
			}
			// The script and the command line are the same whatever the
			// notification says: its text never becomes code.
			if env[0] != script {
				t.Errorf("script changed with the text:\n%s", env[0])
			}
			if !slices.Equal(args, plainArgs) {
				t.Errorf("arguments changed with the text: %q", args)
			}
			for _, s := range []string{tc.title, tc.body, tc.icon} {
				if s == "" {
					continue
				}
				if strings.Contains(env[0], s) {
					t.Errorf("script holds %q", s)
				}
				for _, a := range args {
					if strings.Contains(a, s) {
						t.Errorf("argument %q holds %q", a, s)
					}
				}
			}
			want := []string{envTitle + "=" + tc.title, envBody + "=" + tc.body, envIcon + "=" + tc.icon}
			if !slices.Equal(env[1:], want) {
				t.Errorf("environment %q, want %q", env[1:], want)
			}
		})
	}
}

func TestToastCommandAppID(t *testing.T) {
	for _, id := range []string{"com.mesi.mconnect", "MConnect2", "a.b.c"} {
		if _, _, err := toastCommand(id, "t", "b", ""); err != nil {
			t.Errorf("app ID %q refused: %v", id, err)
		}
	}
	for _, id := range []string{"", "com.mesi'.x", `com"x`, "com mesi", "a;b", "a$b", "a`b", "a\nb", "mconnect-hub", "möbius", "a)b"} {
		if _, _, err := toastCommand(id, "t", "b", ""); err == nil || !strings.HasPrefix(err.Error(), "osnotify: app ID ") {
			t.Errorf("app ID %q: err = %v, want it refused", id, err)
		}
	}
}

func TestToastCommandNUL(t *testing.T) {
	_, env, err := toastCommand("com.mesi.mconnect", "a\x00b", "c\x00", "")
	if err != nil {
		t.Fatal(err)
	}
	if env[1] != envTitle+"=ab" || env[2] != envBody+"=c" {
		t.Errorf("environment %q: want the NULs dropped", env[1:3])
	}
}

func TestFirstLine(t *testing.T) {
	out := "\r\nInvoke-Expression : Element not found.\r\nAt line:1 char:1\r\n+ Invoke-Expression $env:X\r\n"
	if got := firstLine(out); got != "Invoke-Expression : Element not found." {
		t.Errorf("firstLine = %q", got)
	}
	if got := firstLine(strings.Repeat("é", 400)); len(got) > 303 || !strings.HasSuffix(got, "...") {
		t.Errorf("long line cut to %d bytes: %q", len(got), got)
	}
}

func TestSendFailures(t *testing.T) {
	// An app ID that cannot be in the script is refused before anything runs.
	n := New("mCONNECT Hub", "com.mesi'x", []byte("png"))
	if err := n.Send("title", "body"); err == nil || !strings.HasPrefix(err.Error(), "osnotify: app ID ") {
		t.Errorf("Send with a bad app ID = %v, want it refused", err)
	}
	n.Close()

	// Without PowerShell the error names it, and Close removes the icon.
	t.Setenv("SystemRoot", `C:\no-such-windows`)
	n = New("mCONNECT Hub", "com.mesi.mconnect", []byte("png"))
	err := n.Send("title", "body")
	if err == nil || !strings.HasPrefix(err.Error(), "osnotify: PowerShell toast: ") {
		t.Errorf("Send without PowerShell = %v, want an error naming it", err)
	}
	icon := n.iconPath
	if b, rerr := os.ReadFile(icon); rerr != nil || string(b) != "png" {
		t.Errorf("icon file %q: %q, %v", icon, b, rerr)
	}
	n.Close()
	if _, err := os.Stat(icon); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("icon file after Close: %v, want it removed", err)
	}
}
