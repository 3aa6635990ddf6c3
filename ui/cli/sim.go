package cli

import (
	"fmt"
	"io"

	"github.com/mesi/mconnect/device/sim"
)

// cmdTabletSim runs the tablet simulator, which parses its own flags and
// prints its own help and usage errors.
func cmdTabletSim(args []string, stdout io.Writer) error {
	ctx, stop := signalContext()
	defer stop()
	switch code := sim.Main(ctx, args, stdout); code {
	case 0:
		return nil
	case 2:
		return usageErr("tablet-sim: bad usage (the simulator printed the problem and its flags above)")
	default:
		return &exitError{code: code, err: fmt.Errorf("tablet-sim failed (exit code %d)", code)}
	}
}
