package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mesi/mconnect/app/autostart"
)

// cmdAutostart switches starting the tray application at login on or off
// for this user, and says what the OS will do (for IT's silent installs):
//
//	mconnect autostart on [--config FILE]
//	mconnect autostart off
//	mconnect autostart status
//
// The state is the OS's own entry (app/autostart), read every time.
func cmdAutostart(args []string, stdout io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		return groupHelp("autostart", args, "say on, off or status")
	}
	sub := args[0]
	fs := newFlags("autostart " + sub)
	var path *string
	switch sub {
	case "on":
		path = fs.String("config", "", "start with this config `FILE` (default: none given, so the one that mconnect config path prints)")
	case "off", "status":
	default:
		return usageErr("autostart: unknown subcommand %q (on, off, status)\n%s", sub, synopsis("autostart"))
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("autostart: where this program is: %w", err)
	}
	var extra []string
	if path != nil && *path != "" {
		p, err := filepath.Abs(*path)
		if err != nil {
			return usageErr("autostart on: --config %s: %v", *path, err)
		}
		extra = []string{"--config", p}
	}
	m := autostart.New(exe, extra...)
	switch sub {
	case "on", "off":
		if err := m.SetEnabled(sub == "on"); err != nil {
			return err
		}
		on, err := m.Enabled()
		if err != nil {
			return err
		}
		if on != (sub == "on") {
			return fmt.Errorf("autostart %s: written, but %s still reads as %s", sub, m.Where(), onOff(on))
		}
		if on {
			fmt.Fprintf(stdout, "on: %s (the tray application starts at the next login)\n", m.Where())
		} else {
			fmt.Fprintf(stdout, "off: %s (nothing starts at login)\n", m.Where())
		}
		return nil
	}
	st, err := inspect(m)
	if err != nil {
		return err
	}
	if st.Enabled {
		fmt.Fprintf(stdout, "on: %s\n", st.Where)
	} else {
		fmt.Fprintf(stdout, "off: %s (%s)\n", st.Where, st.Reason)
	}
	if len(st.Command) > 0 {
		words := make([]string, len(st.Command))
		for i, a := range st.Command {
			words[i] = a
			if a == "" || strings.ContainsAny(a, " \t\"'") {
				words[i] = strconv.Quote(a)
			}
		}
		fmt.Fprintf(stdout, "starts: %s\n", strings.Join(words, " "))
	}
	return nil
}

// inspect reads the full state where the manager offers it.
func inspect(m autostart.Manager) (autostart.Status, error) {
	if i, ok := m.(autostart.Inspector); ok {
		return i.Inspect()
	}
	on, err := m.Enabled()
	return autostart.Status{Enabled: on, Where: m.Where()}, err
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
