// Command mconnect is mCONNECT Hub: it connects a clinic's EHR with MESI
// mTABLET measurement tablets on the clinic LAN. The command line lives in
// ui/cli, the desktop application in ui/desktop; `mconnect help` lists the
// commands.
package main

import (
	"os"

	"github.com/mesi/mconnect/ui/cli"
	"github.com/mesi/mconnect/ui/desktop"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, cli.Options{GUI: func(o cli.GUIOptions) error {
		return desktop.Main(desktop.StartOptions{ConfigPath: o.ConfigPath, ShowDashboard: o.ShowDashboard, Tab: o.Tab, Pair: o.Pair,
			DashboardProcess: o.DashboardProcess, Stderr: o.Stderr})
	}}))
}
