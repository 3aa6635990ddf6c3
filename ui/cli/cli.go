// Package cli is mCONNECT Hub's command line: one file per command group.
// Commands that act on a running hub (status, delivery, pair-code, diag)
// go through its control endpoint; without a running hub they open the
// data folder themselves.
//
//	mconnect [--dashboard] [--config FILE]   the tray application (GUI)
//	mconnect serve [--config FILE]           the same hub without a window
//	mconnect status [--config FILE]          the running hub's health
//	mconnect config example --ehr ID [--data DIR]
//	mconnect config validate [--config FILE]
//	mconnect pair-code [--config FILE] [--group ID]
//	mconnect secret set|delete|check NAME
//	mconnect delivery list|show|resend|cancel  result deliveries, for support
//	mconnect tablet-sim ...                  the tablet simulator
//	mconnect autostart on|off|status         start the tray application at login
//	mconnect version [--config FILE]
//
// `mconnect help`, --help and -h list the commands; COMMAND --help (or
// `mconnect help COMMAND`) prints one command's flags. Exit codes: 0
// success, 1 a failure while running, 2 bad usage or an invalid config (the
// message names the file, key and problem, the command or the flag).
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// exitError carries an exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// helpRequest is a --help: its text goes to standard output, exit code 0.
type helpRequest struct{ text string }

func (h *helpRequest) Error() string { return "help requested" }

// usageErr is a bad invocation or config: exit code 2.
func usageErr(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// GUIOptions is what the command line hands to the desktop application.
type GUIOptions struct {
	ConfigPath    string // absolute; may not exist yet (first start)
	ShowDashboard bool
	// Tab is the Dashboard tab to open (empty: the last one).
	Tab string
	// Pair shows a pairing code at start.
	Pair bool
	// DashboardProcess runs only the Dashboard window, as a process of
	// the tray's (which starts it): attached to the hub of the tray
	// process, taking commands on stdin, answering on stdout.
	DashboardProcess bool
	Stderr           io.Writer
}

// Options connect the command line to the parts it does not own.
type Options struct {
	// GUI runs the desktop application (tray and Dashboard) until the
	// person quits; nil means this build has no GUI.
	GUI func(GUIOptions) error
}

// Run runs one mconnect command line and returns its exit code.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer, opts Options) int {
	err := dispatch(args, stdin, stdout, stderr, opts)
	if err == nil {
		return 0
	}
	var help *helpRequest
	if errors.As(err, &help) {
		fmt.Fprint(stdout, help.text)
		return 0
	}
	var ee *exitError
	code := 1
	if errors.As(err, &ee) {
		code = ee.code
	}
	if err != errSilent {
		fmt.Fprintf(stderr, "mconnect: %v\n", err)
	}
	return code
}

// errSilent ends with exit code 1 where the message was printed already.
var errSilent = &exitError{code: 1, err: errors.New("")}

func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer, opts Options) error {
	if len(args) == 0 || (len(args[0]) > 0 && args[0][0] == '-' && !isHelp(args[0])) {
		return cmdGUI(args, stderr, opts)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help", "--help", "-help", "-h":
		if len(rest) > 0 && !isHelp(rest[0]) {
			// `mconnect help serve` is `mconnect serve --help`.
			return dispatch(append(rest, "--help"), stdin, stdout, stderr, opts)
		}
		return &helpRequest{usage}
	case "serve":
		return cmdServe(rest, stderr)
	case "status":
		return cmdStatus(rest, stdout)
	case "config":
		return cmdConfig(rest, stdout)
	case "pair-code":
		return cmdPairCode(rest, stdout)
	case "secret":
		return cmdSecret(rest, stdin, stdout)
	case "tablet-sim":
		return cmdTabletSim(rest, stdout)
	case "delivery":
		return cmdDelivery(rest, stdout)
	case "version":
		return cmdVersion(rest, stdout)
	case "integration":
		return cmdIntegration(rest, stdout)
	case "diag":
		return cmdDiag(rest, stdout)
	case "autostart":
		return cmdAutostart(rest, stdout)
	}
	return usageErr("unknown command %q (`mconnect help` lists the commands)", cmd)
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// groupHelp answers a command made of subcommands (config, delivery, ...)
// given no subcommand, or asked for help: the usage lines of the group.
func groupHelp(name string, args []string, say string) error {
	if len(args) > 0 && isHelp(args[0]) {
		return &helpRequest{"usage:\n" + synopsis(name)}
	}
	return usageErr("%s: %s\n%s", name, say, synopsis(name))
}

// synopsis returns the lines of usage for the command name ("delivery
// list"), with their continuation lines; a subcommand without lines of
// its own gets its group's.
func synopsis(name string) string {
	for words := strings.Fields(name); len(words) > 0; words = words[:len(words)-1] {
		prefix := "mconnect " + strings.Join(words, " ")
		var b strings.Builder
		in := false
		for _, line := range strings.SplitAfter(usage, "\n") {
			t := strings.TrimSpace(line)
			switch {
			case t == prefix || strings.HasPrefix(t, prefix+" "):
				in = true
			case strings.HasPrefix(line, "          ") && t != "":
				// a continuation line: kept with the line it continues
			default:
				in = false
			}
			if in {
				b.WriteString(line)
			}
		}
		if b.Len() > 0 {
			return b.String()
		}
	}
	return usage
}

const usage = `usage:
  mconnect [--dashboard] [--tab NAME] [--config FILE]
                                              tray application; --dashboard opens the Dashboard, --tab on
                                              a tab (a running one comes forward)
  mconnect serve [--config FILE]              run the hub without a window (SIGINT/SIGTERM stop it)
  mconnect status [--config FILE] [--json]    the running hub's health (exit 1 if not running or in error)
  mconnect config example --ehr ID [--data DIR]
                                              print a complete config for an EHR (IDs: bestpractice birpis
                                              doctolib hipokrat iris isoz join nextgen tomedo vena webdoc weda ziplanerx)
  mconnect config validate [--config FILE]    check a config file
  mconnect config path                        print where the config file is looked for
  mconnect pair-code [--config FILE] [--group ID]
                                              create a one-time tablet pairing code
  mconnect secret set NAME                    store a secret (read from standard input) in the OS keyring
  mconnect secret delete NAME | check         remove a secret | check that the keyring is reachable
  mconnect delivery list [--state STATES] [--connection NAME] [--limit N] [--config FILE]
  mconnect delivery show ID [--config FILE]    one delivery with every attempt (errors, the EHR's answers)
  mconnect delivery resend ID|--failed|--ambiguous [--connection NAME] --reason TEXT [--config FILE]
  mconnect delivery cancel ID --reason TEXT [--config FILE]
  mconnect integration client add --name NAME | list | revoke ID --reason TEXT [--config FILE]
                                              clients of the Integration API (Join, ZipLaneRx)
  mconnect autostart on [--config FILE] | off | status
                                              start the tray application when this user logs in, or not;
                                              status prints on or off and where the OS keeps the entry
  mconnect tablet-sim --help                  the tablet simulator
  mconnect version [--config FILE]            version; with a config also the LAN endpoint's TLS fingerprint
  mconnect diag export [--config FILE] --out FILE.zip [--include-patient-data]
                                              write the diagnostic bundle for support (works while the hub runs)
  mconnect help [COMMAND]                     this list, or one command's flags (also: COMMAND --help)

Without --config every command uses the one default file (mconnect config path prints it); headless
servers keep theirs elsewhere and pass --config to every command.
`
