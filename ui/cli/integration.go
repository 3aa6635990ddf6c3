package cli

import (
	"context"
	"fmt"
	"io"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mesi/mconnect/app/control"
)

// cmdIntegration manages the clients of the Integration API through which
// Join and ZipLaneRx push appointments (the hub's built-in token endpoint):
//
//	mconnect integration client add --name NAME [--config FILE]
//	mconnect integration client list [--config FILE]
//	mconnect integration client revoke ID --reason TEXT [--config FILE]
func cmdIntegration(args []string, stdout io.Writer) error {
	switch {
	case len(args) == 0 || isHelp(args[0]):
		return groupHelp("integration", args, "say client add, list or revoke")
	case args[0] != "client":
		return usageErr("integration: unknown subcommand %q (client)\n%s", args[0], synopsis("integration"))
	case len(args) == 1 || isHelp(args[1]):
		return groupHelp("integration client", args[1:], "say add, list or revoke")
	}
	sub, rest := args[1], args[2:]
	fs := newFlags("integration client " + sub)
	path := configFlag(fs)
	var name, reason *string
	switch sub {
	case "add":
		name = fs.String("name", "", "who the client is, a `NAME` such as \"Join production\" (required)")
	case "revoke":
		reason = fs.String("reason", "", "why, in `TEXT` (written to the audit log; required)")
	case "list":
	default:
		return usageErr("integration client: unknown subcommand %q (add, list, revoke)\n%s", sub, synopsis("integration client"))
	}
	ids, err := parseArgs(fs, rest)
	if err != nil {
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
	ctx := context.Background()
	who := "cli"
	if u, err := user.Current(); err == nil {
		who = "cli:" + u.Username
	}
	switch sub {
	case "add":
		if strings.TrimSpace(*name) == "" {
			return usageErr("integration client add: --name is required")
		}
		c, err := api.AddAPIClient(ctx, control.AddAPIClientRequest{Connection: cfg.EHR, Name: *name, Actor: who})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "Client registered for %s: %s\n  client_id:     %s\n  client_secret: %s\n", c.Connection, c.Name, c.ClientID, c.ClientSecret)
		fmt.Fprintln(stdout, "The secret is shown only now: hand it to the EHR vendor over a secure channel. To replace it, add a new client and revoke this one.")
	case "list":
		cs, err := api.APIClients(ctx, cfg.EHR)
		if err != nil {
			return describe(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT ID\tNAME\tCREATED\tLAST TOKEN\tSTATE")
		for _, c := range cs {
			state, last := "active", "never"
			if !c.RevokedAt.IsZero() {
				state = "revoked " + c.RevokedAt.Local().Format("2006-01-02 15:04")
			}
			if !c.LastUsedAt.IsZero() {
				last = c.LastUsedAt.Local().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, c.CreatedAt.Local().Format(time.DateTime), last, state)
		}
		return tw.Flush()
	case "revoke":
		if len(ids) != 1 {
			return usageErr("integration client revoke: give exactly one client ID (see `mconnect integration client list`)")
		}
		if strings.TrimSpace(*reason) == "" {
			return usageErr("integration client revoke: --reason is required (it goes to the audit log)")
		}
		if _, err := api.RevokeAPIClient(ctx, control.RevokeAPIClientRequest{ID: ids[0], Reason: *reason, Actor: who}); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "client %s revoked: its tokens stop working at once\n", ids[0])
	}
	return nil
}
