package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// commands is every command and subcommand of mconnect; the first
// test checks it against the command list that help prints.
var commands = [][]string{
	{"serve"}, {"status"},
	{"config"}, {"config", "example"}, {"config", "validate"}, {"config", "path"},
	{"pair-code"},
	{"secret"}, {"secret", "set"}, {"secret", "delete"}, {"secret", "check"},
	{"delivery"}, {"delivery", "list"}, {"delivery", "show"}, {"delivery", "resend"}, {"delivery", "cancel"},
	{"integration"}, {"integration", "client"}, {"integration", "client", "add"}, {"integration", "client", "list"}, {"integration", "client", "revoke"},
	{"autostart"}, {"autostart", "on"}, {"autostart", "off"}, {"autostart", "status"},
	{"tablet-sim"}, {"version"}, {"diag"}, {"diag", "export"}, {"help"},
}

// run runs one command line in this process.
func run(args ...string) result {
	var o, e bytes.Buffer
	code := Run(args, strings.NewReader(""), &o, &e, Options{})
	return result{code, o.String(), e.String()}
}

func TestHelpListsEveryCommand(t *testing.T) {
	listed := map[string]bool{}
	for _, line := range strings.Split(usage, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "mconnect" && !strings.HasPrefix(f[1], "[") {
			listed[f[1]] = true
		}
	}
	tested := map[string]bool{}
	for _, c := range commands {
		tested[c[0]] = true
	}
	for c := range listed {
		if !tested[c] {
			t.Errorf("help lists %q, which the table does not test", c)
		}
	}
	for c := range tested {
		if !listed[c] {
			t.Errorf("help does not list %q", c)
		}
	}
	for _, arg := range []string{"--help", "-h", "help", "-help"} {
		r := run(arg)
		if r.code != 0 || r.stdout != usage || r.stderr != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout:\n%s", arg, r.code, r.stderr, r.stdout)
		}
	}
}

// TestCommandHelpAndBadFlags: COMMAND --help and -h print that command's
// usage (and flags) on standard output with exit code 0, for every
// command; an unknown flag exits 2 and names the flag.
func TestCommandHelpAndBadFlags(t *testing.T) {
	for _, cmd := range commands {
		name := strings.Join(cmd, " ")
		t.Run(name, func(t *testing.T) {
			for _, h := range []string{"--help", "-h"} {
				r := run(append(append([]string{}, cmd...), h)...)
				if r.code != 0 || r.stderr != "" {
					t.Fatalf("%s %s: exit %d, stderr %q", name, h, r.code, r.stderr)
				}
				if !strings.HasPrefix(r.stdout, "usage:") {
					t.Fatalf("%s %s: no usage:\n%s", name, h, r.stdout)
				}
				for _, w := range cmd {
					if w != "help" && !strings.Contains(r.stdout, w) {
						t.Fatalf("%s %s: the help does not mention %q:\n%s", name, h, w, r.stdout)
					}
				}
			}
			if cmd[0] == "help" {
				return
			}
			r := run(append(append([]string{}, cmd...), "--no-such-flag")...)
			if r.code != 2 || !strings.Contains(r.stdout+r.stderr, "no-such-flag") {
				t.Fatalf("%s --no-such-flag: exit %d, stdout %q, stderr %q", name, r.code, r.stdout, r.stderr)
			}
			if cmd[0] != "tablet-sim" && !strings.Contains(r.stderr, cmd[0]) {
				t.Fatalf("%s --no-such-flag: the message does not name the command: %s", name, r.stderr)
			}
		})
	}
}

func TestHelpForOneCommand(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"help", "serve"}, []string{"mconnect serve [--config FILE]", "--config FILE"}},
		{[]string{"help", "delivery", "list"}, []string{"mconnect delivery list", "--state STATES", "--limit N", "(default 50)"}},
		{[]string{"config", "example", "-h"}, []string{"--ehr ID", "--data DIR"}},
		{[]string{"--dashboard", "--help"}, []string{"mconnect [--dashboard] [--tab NAME] [--config FILE]", "--dashboard", "--tab"}},
		{[]string{"autostart", "on", "--help"}, []string{"mconnect autostart on [--config FILE]", "--config FILE"}},
	}
	for _, tc := range tests {
		r := run(tc.args...)
		if r.code != 0 {
			t.Errorf("%q: exit %d: %s", tc.args, r.code, r.stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%q: no %q in\n%s", tc.args, w, r.stdout)
			}
		}
		if r.stdout == usage {
			t.Errorf("%q printed the whole list", tc.args)
		}
	}
}

func TestUnknownCommandsAndArguments(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"config", "frob"}, `config: unknown subcommand "frob"`},
		{[]string{"delivery", "frob"}, `delivery: unknown subcommand "frob"`},
		{[]string{"secret", "frob"}, `secret: unknown subcommand "frob"`},
		{[]string{"diag", "frob"}, `diag: unknown subcommand "frob"`},
		{[]string{"integration", "frob"}, `integration: unknown subcommand "frob"`},
		{[]string{"integration", "client", "frob"}, `integration client: unknown subcommand "frob"`},
		{[]string{"autostart", "frob"}, `autostart: unknown subcommand "frob"`},
		{[]string{"autostart"}, "autostart: say on, off or status"},
		{[]string{"autostart", "on", "extra"}, `autostart on: unexpected argument "extra"`},
		{[]string{"config", "path", "extra"}, `config path: unexpected argument "extra"`},
		{[]string{"secret", "check", "extra"}, `secret check: unexpected argument "extra"`},
		{[]string{"serve", "--confg", "x"}, "serve: unknown flag --confg"},
		{[]string{"status", "-j"}, "status: unknown flag -j"},
		{[]string{"--dashbord"}, "mconnect: unknown flag --dashbord"},
	}
	for _, tc := range tests {
		r := run(tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d, want 2 with %q; stderr: %s", tc.args, r.code, tc.want, r.stderr)
		}
	}
}

// TestOneDefaultConfig: without --config, every command that reads the
// config reads the file `config path` prints, in the OS user config folder;
// `config example` without --data puts the data in the OS user data folder.
func TestOneDefaultConfig(t *testing.T) {
	root := t.TempDir()
	t.Setenv("HOME", filepath.Join(root, "home"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(root, "data"))
	want := filepath.Join(root, "config", "mconnect", "config.json")
	if r := run("config", "path"); r.code != 0 || r.stdout != want+"\n" {
		t.Fatalf("config path: %d %q", r.code, r.stdout)
	}
	for _, args := range [][]string{
		{"serve"}, {"status"}, {"config", "validate"}, {"pair-code"}, {"delivery", "list"},
		{"integration", "client", "list"}, {"diag", "export", "--out", filepath.Join(root, "x.zip")},
	} {
		r := run(args...)
		if r.code != 2 || !strings.Contains(r.stderr, "config "+want+" does not exist") {
			t.Errorf("%q: exit %d: %s", args, r.code, r.stderr)
		}
	}
	ex := run("config", "example", "--ehr", "birpis")
	if ex.code != 0 {
		t.Fatal(ex.stderr)
	}
	if !strings.Contains(ex.stdout, `"dataDir": "`+filepath.Join(root, "data", "mconnect")+`"`) {
		t.Fatalf("example without --data:\n%s", ex.stdout)
	}
	os.MkdirAll(filepath.Dir(want), 0o700)
	os.WriteFile(want, []byte(ex.stdout), 0o600)
	if r := run("config", "validate"); r.code != 0 || r.stdout != want+": valid\n" {
		t.Fatalf("config validate: %d %q %s", r.code, r.stdout, r.stderr)
	}
}
