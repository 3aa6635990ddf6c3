package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/ui/words"
)

// cmdStatus prints the running hub's health, component by component, in
// words (or as JSON for monitoring). Exit code 1 when no hub runs or a
// component reports an error.
func cmdStatus(args []string, stdout io.Writer) error {
	fs := newFlags("status")
	path := configFlag(fs)
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, _, err := loadConfig(*path)
	if err != nil {
		return err
	}
	c, err := control.Dial(cfg.DataDirPath())
	if errors.Is(err, control.ErrNoHub) {
		fmt.Fprintf(stdout, "mCONNECT Hub is not running on %s\n", cfg.DataDirPath())
		return errSilent
	}
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		return describe(err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	fmt.Fprintf(stdout, "mCONNECT Hub %s: %s (pid %d, since %s)\n", st.Version, st.State, st.PID, st.StartedAt.Local().Format(time.DateTime))
	fmt.Fprintf(stdout, "EHR %s, data folder %s\n", st.EHR, st.DataDir)
	if st.LANAddress != "" {
		fmt.Fprintf(stdout, "tablets: %s (fingerprint %s)\n", st.LANAddress, st.Fingerprint)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tCOMPONENT\tSTATUS\tLAST MESSAGE")
	for _, h := range st.Health {
		title, _ := words.Health(h, nil)
		last := "never"
		if !h.LastMessageAt.IsZero() {
			last = h.LastMessageAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.Severity, h.Component, title, last)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if st.Worst() >= 2 {
		return errSilent
	}
	return nil
}
