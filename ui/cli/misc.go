package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/hub"
	"github.com/mesi/mconnect/app/secrets"
	"github.com/mesi/mconnect/app/tlscert"
	"github.com/mesi/mconnect/device"
)

func cmdPairCode(args []string, stdout io.Writer) error {
	fs := newFlags("pair-code")
	path := configFlag(fs)
	group := fs.String("group", "", "the tablet group `ID` the new tablet joins (default: the default group)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, cfgPath, err := loadConfig(*path)
	if err != nil {
		return err
	}
	api, _, closeAPI, err := connect(cfg, cfgPath)
	if err != nil {
		return err
	}
	defer closeAPI()
	p, err := api.NewPairingCode(context.Background(), *group)
	if err != nil {
		if control.KindOf(err) == control.NotFound {
			return usageErr("pair-code: --group %q: no such tablet group", *group)
		}
		return describe(err)
	}
	fp := p.Fingerprint
	if fp == "" {
		if _, fp, err = tlscert.LoadOrCreate(cfg.DataDirPath()); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "Pairing code: %s (valid until %s, one use)\n", p.Code, p.Expires.Local().Format("15:04:05"))
	if !cfg.Device.PlainHTTP {
		fmt.Fprintf(stdout, "Hub fingerprint: %s\n", fp)
	}
	fmt.Fprintf(stdout, "Manual setup: %s\n", device.PairingURL(cfg.Device.Listen, fp, p.Code))
	return nil
}

func cmdSecret(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		return groupHelp("secret", args, "say set NAME, delete NAME or check")
	}
	sub := args[0]
	switch sub {
	case "set", "delete", "check":
	default:
		return usageErr("secret: unknown subcommand %q (set, delete, check)\n%s", sub, synopsis("secret"))
	}
	names, err := parseArgs(newFlags("secret "+sub), args[1:])
	if err != nil {
		return err
	}
	args = append([]string{sub}, names...)
	s := secrets.New()
	switch sub {
	case "set":
		if len(args) != 2 {
			return usageErr("secret set: give exactly one NAME; the value is read from standard input")
		}
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("secret set: read standard input: %w", err)
		}
		value := strings.TrimRight(line, "\r\n")
		if value == "" {
			return usageErr("secret set %s: standard input was empty", args[1])
		}
		if err := s.Set(args[1], value); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "stored %s in the OS keyring; refer to it in the config as \"keyring:%s\"\n", args[1], args[1])
		return nil
	case "delete":
		if len(args) != 2 {
			return usageErr("secret delete: give exactly one NAME")
		}
		return s.Delete(args[1])
	case "check":
		if len(args) != 1 {
			return usageErr("secret check: unexpected argument %q", args[1])
		}
		if err := s.Check(); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "OS keyring reachable")
	}
	return nil
}

func cmdVersion(args []string, stdout io.Writer) error {
	fs := newFlags("version")
	path := fs.String("config", "", "also print the LAN endpoint's TLS fingerprint for this config `FILE`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "mCONNECT Hub %s\n", hub.Version)
	if *path == "" {
		return nil
	}
	cfg, _, err := loadConfig(*path)
	if err != nil {
		return err
	}
	_, fp, err := tlscert.LoadOrCreate(cfg.DataDirPath())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "LAN endpoint: %s (TLS fingerprint SHA-256 %s)\n", cfg.Device.Listen, fp)
	return nil
}
