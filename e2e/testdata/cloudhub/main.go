// Command cloudhub runs a hub whose registry has the cloud connections
// (HALO Connect, Leyr), for the end-to-end tests that kill a hub during a
// delivery: `cloudhub CONFIG` serves until it is signalled or killed.
// Secrets are read from the environment (env: references). With
// CLOUDHUB_PAIR set it first prints "PAIR <code> <fingerprint>" for a
// tablet of the default group.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/hub"
	"github.com/mesi/mconnect/app/secrets"
	"github.com/mesi/mconnect/connectors/halo"
	"github.com/mesi/mconnect/connectors/leyr"
	"github.com/mesi/mconnect/connectors/registry"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: cloudhub CONFIG")
		os.Exit(2)
	}
	reg := registry.Default.With(halo.Kind()).With(leyr.Kind())
	cfg, err := config.Load(os.Args[1], reg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cloudhub:", err)
		os.Exit(1)
	}
	h, err := hub.New(cfg, hub.Options{ConfigPath: os.Args[1], Registry: reg, LogStderr: os.Stderr,
		Secrets: secrets.NewWith(nil, os.Getenv)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cloudhub:", err)
		os.Exit(1)
	}
	defer h.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Getenv("CLOUDHUB_PAIR") != "" {
		p, err := h.NewPairingCode(ctx, "default")
		if err != nil {
			fmt.Fprintln(os.Stderr, "cloudhub:", err)
			os.Exit(1)
		}
		fmt.Printf("PAIR %s %s\n", p.Code, p.Fingerprint)
	}
	h.Run(ctx)
}
