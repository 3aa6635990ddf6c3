package cli

import (
	"context"
	"fmt"
	"io"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mesi/mconnect/app/control"
	"github.com/mesi/mconnect/app/domain"
)

// cmdDelivery lets support see and act on result deliveries: through the
// running hub's control endpoint (a resend is attempted at once), or with
// no hub running on the data folder itself.
func cmdDelivery(args []string, stdout io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		return groupHelp("delivery", args, "say list, show, resend or cancel")
	}
	sub, rest := args[0], args[1:]
	fs := newFlags("delivery " + sub)
	path := configFlag(fs)
	var states, conn, reason *string
	var limit *int
	var failed, ambiguous *bool
	switch sub {
	case "list":
		states = fs.String("state", "", "only these `STATES`, comma-separated (queued,inflight,retrying,failed,ambiguous,delivered,cancelled)")
		conn = fs.String("connection", "", "only this connection (`NAME`)")
		limit = fs.Int("limit", 50, "at most `N`, newest first")
	case "resend":
		failed = fs.Bool("failed", false, "resend every failed delivery")
		ambiguous = fs.Bool("ambiguous", false, "resend every ambiguous delivery")
		conn = fs.String("connection", "", "with --failed/--ambiguous: only this connection (`NAME`)")
		reason = fs.String("reason", "", "why, in `TEXT` (written to the audit log; required)")
	case "cancel":
		reason = fs.String("reason", "", "why, in `TEXT` (written to the audit log; required)")
	case "show":
	default:
		return usageErr("delivery: unknown subcommand %q (list, show, resend, cancel)\n%s", sub, synopsis("delivery"))
	}
	// The delivery ID may stand before or after the flags.
	ids, err := parseArgs(fs, rest)
	if err != nil {
		return err
	}
	cfg, cfgPath, err := loadConfig(*path)
	if err != nil {
		return err
	}
	api, running, closeAPI, err := connect(cfg, cfgPath)
	if err != nil {
		return err
	}
	defer closeAPI()
	ctx := context.Background()
	actor := "cli"
	if u, err := user.Current(); err == nil {
		actor = "cli:" + u.Username
	}
	needReason := func() error {
		if reason == nil || strings.TrimSpace(*reason) == "" {
			return usageErr("delivery %s: --reason is required (it goes to the audit log)", sub)
		}
		return nil
	}
	oneID := func() (int64, error) {
		if len(ids) != 1 {
			return 0, usageErr("delivery %s: give exactly one delivery ID (see `mconnect delivery list`)", sub)
		}
		id, err := strconv.ParseInt(ids[0], 10, 64)
		if err != nil || id <= 0 {
			return 0, usageErr("delivery %s: %q is not a delivery ID", sub, ids[0])
		}
		return id, nil
	}
	switch sub {
	case "list":
		if len(ids) > 0 {
			return usageErr("delivery list: unexpected argument %q", ids[0])
		}
		f := control.DeliveryQuery{Connection: *conn, Limit: *limit}
		for _, s := range strings.Split(*states, ",") {
			if s = strings.TrimSpace(s); s != "" {
				if !knownState(s) {
					return usageErr("delivery list: --state %q is not a delivery state", s)
				}
				f.States = append(f.States, domain.DeliveryState(s))
			}
		}
		ds, err := api.Deliveries(ctx, f)
		if err != nil {
			return describe(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATE\tCONNECTION\tRESULT\tATTEMPTS\tUPDATED\tLAST ERROR")
		for _, d := range ds {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.State, d.Connection, d.ResultID, d.Attempts,
				d.UpdatedAt.Local().Format("2006-01-02 15:04:05"), shorten(d.LastError, 80))
		}
		return tw.Flush()
	case "show":
		id, err := oneID()
		if err != nil {
			return err
		}
		dd, err := api.Delivery(ctx, id)
		if err != nil {
			return describe(err)
		}
		d, atts := dd.Delivery, dd.Attempts
		fmt.Fprintf(stdout, "delivery %d: %s to %s, result %s, %d attempts, created %s, updated %s\n",
			d.ID, d.State, d.Connection, d.ResultID, d.Attempts, d.CreatedAt.Local().Format(time.DateTime), d.UpdatedAt.Local().Format(time.DateTime))
		if !d.NextAt.IsZero() && !d.State.Final() {
			fmt.Fprintf(stdout, "next attempt: %s\n", d.NextAt.Local().Format(time.DateTime))
		}
		for i, a := range atts {
			fmt.Fprintf(stdout, "attempt %d at %s (%s)\n", i+1, a.At.Local().Format(time.DateTime), a.Duration.Round(time.Millisecond))
			if a.Error != "" {
				fmt.Fprintf(stdout, "  error:  %s\n", a.Error)
			}
			if a.Answer != "" {
				fmt.Fprintf(stdout, "  answer: %s\n", a.Answer)
			}
		}
		return nil
	case "resend":
		if err := needReason(); err != nil {
			return err
		}
		if *failed || *ambiguous {
			if len(ids) > 0 {
				return usageErr("delivery resend: give an ID or --failed/--ambiguous, not both")
			}
			n := 0
			if *failed {
				r, err := api.Resend(ctx, control.ResendRequest{Failed: true, Connection: *conn, Reason: *reason, Actor: actor})
				if err != nil {
					return describe(err)
				}
				n += r.Count
			}
			if *ambiguous {
				r, err := api.Resend(ctx, control.ResendRequest{Ambiguous: true, Connection: *conn, Reason: *reason, Actor: actor})
				if err != nil {
					return describe(err)
				}
				n += r.Count
			}
			fmt.Fprintf(stdout, "%d deliveries queued again%s\n", n, when(running))
			return nil
		}
		id, err := oneID()
		if err != nil {
			return err
		}
		if _, err := api.Resend(ctx, control.ResendRequest{ID: id, Reason: *reason, Actor: actor}); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "delivery %d queued again%s\n", id, when(running))
		return nil
	case "cancel":
		if err := needReason(); err != nil {
			return err
		}
		id, err := oneID()
		if err != nil {
			return err
		}
		if _, err := api.Cancel(ctx, control.CancelRequest{ID: id, Reason: *reason, Actor: actor}); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "delivery %d cancelled\n", id)
		return nil
	}
	return nil
}

// when says when a queued delivery is sent.
func when(running bool) string {
	if running {
		return "; the running hub sends it now"
	}
	return "; no hub is running: it is sent when the hub starts"
}

func knownState(s string) bool {
	for _, k := range []domain.DeliveryState{domain.DeliveryQueued, domain.DeliveryInflight, domain.DeliveryRetrying,
		domain.DeliveryDelivered, domain.DeliveryFailed, domain.DeliveryAmbiguous, domain.DeliveryCancelled} {
		if string(k) == s {
			return true
		}
	}
	return false
}

// shorten keeps the end of an error text: wrapped errors say the cause last.
func shorten(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}
