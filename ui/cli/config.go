package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/connectors/registry"
)

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// configFlag adds the --config flag every command that reads the config has.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "the config `FILE` (default: what mconnect config path prints)")
}

// parseFlags parses a command's flags; it takes no other arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("%s: unexpected argument %q\n%s", fs.Name(), rest[0], commandHelp(fs))
	}
	return nil
}

// parseArgs parses a command's flags and returns its other arguments, which
// may stand before the flags, after them, or both (`delivery show 7 --config F`).
// --help and -h are a help request; an unknown flag is named.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		rest, args = append(rest, args[0]), args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, &helpRequest{commandHelp(fs)}
		}
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
			msg = "unknown flag -" + strings.TrimLeft(name, "-")
			if len(strings.TrimLeft(name, "-")) > 1 {
				msg = "unknown flag --" + strings.TrimLeft(name, "-")
			}
		}
		return nil, usageErr("%s: %s\n%s", fs.Name(), msg, commandHelp(fs))
	}
	return append(rest, fs.Args()...), nil
}

// commandHelp is one command's usage lines and its flags.
func commandHelp(fs *flag.FlagSet) string {
	syn := synopsis(fs.Name())
	if fs.Name() == "mconnect" {
		syn = strings.SplitAfter(usage, "\n")[1]
	}
	s := "usage:\n" + syn
	if f := flagUsage(fs); f != "" {
		s += "\nflags:\n" + f
	}
	return s
}

// flagUsage lists the flags: name, value placeholder, what it does, default.
func flagUsage(fs *flag.FlagSet) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		name, text := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if name != "" {
			left += " " + name
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "0s" {
			text += " (default " + d + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", left, text)
	})
	tw.Flush()
	return b.String()
}

// configPath returns the given path or the OS default.
func configPath(p string) (string, error) {
	if p != "" {
		return p, nil
	}
	return config.DefaultPath()
}

// loadConfig loads and validates; every failure is exit code 2 naming the file.
func loadConfig(path string) (*config.Config, string, error) {
	p, err := configPath(path)
	if err != nil {
		return nil, "", usageErr("%v", err)
	}
	c, err := registry.Load(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, p, usageErr("config %s does not exist; create one with `mconnect config example --ehr ID > %s`", p, p)
		}
		return nil, p, usageErr("%v", err)
	}
	return c, p, nil
}

func cmdConfig(args []string, stdout io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		return groupHelp("config", args, "say example, validate or path")
	}
	switch args[0] {
	case "example":
		fs := newFlags("config example")
		ehr := fs.String("ehr", "", "the EHR's `ID` (required)")
		data := fs.String("data", "", "put the database and every folder under this `DIR` (default: "+config.DefaultDataDir()+")")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if *ehr == "" {
			return usageErr("config example: --ehr is required")
		}
		c, err := registry.Example(*ehr, *data)
		if err != nil {
			return usageErr("config example: %v", err)
		}
		b, err := c.Marshal()
		if err != nil {
			return err
		}
		_, err = stdout.Write(b)
		return err
	case "validate":
		fs := newFlags("config validate")
		path := configFlag(fs)
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		_, p, err := loadConfig(*path)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: valid\n", p)
		return nil
	case "path":
		if err := parseFlags(newFlags("config path"), args[1:]); err != nil {
			return err
		}
		p, err := config.DefaultPath()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, p)
		return nil
	}
	return usageErr("config: unknown subcommand %q (example, validate, path)\n%s", args[0], synopsis("config"))
}
