package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/connectors/registry"
)

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return usageErr("%s: flags:\n%s", fs.Name(), flagUsage(fs))
		}
		return usageErr("%s: %v\n%s", fs.Name(), err, flagUsage(fs))
	}
	if fs.NArg() > 0 {
		return usageErr("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

func flagUsage(fs *flag.FlagSet) string {
	s := ""
	fs.VisitAll(func(f *flag.Flag) { s += fmt.Sprintf("  --%s\t%s\n", f.Name, f.Usage) })
	return s
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
	if len(args) == 0 {
		return usageErr("config: say example, validate or path")
	}
	switch args[0] {
	case "example":
		fs := newFlags("config example")
		ehr := fs.String("ehr", "", "EHR ID (required)")
		data := fs.String("data", "", "put the database and every folder under this folder")
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
		path := fs.String("config", "", "config file (default: the OS user config folder)")
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
		p, err := config.DefaultPath()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, p)
		return nil
	}
	return usageErr("config: unknown subcommand %q (example, validate, path)", args[0])
}
