package cli

import (
	"fmt"
	"io"

	"github.com/mesi/mconnect/device/sim"
)

func cmdTabletSim(args []string, stdout io.Writer) error {
	ctx, stop := signalContext()
	defer stop()
	if code := sim.Main(ctx, args, stdout); code != 0 {
		return &exitError{code: code, err: fmt.Errorf("tablet-sim failed (exit code %d)", code)}
	}
	return nil
}
