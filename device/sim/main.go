package sim

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

const usage = `usage: mconnect tablet-sim --hub https://HOST:PORT --fp FINGERPRINT (--code CODE | --token-file FILE) [options]

Simulates mTABLETs: pairs (or reuses a token), reads the worklist, starts
each appointment and uploads an ECG or ABI result with a PDF report.

--tablets N runs N tablets in this process. They share the one pairing (one
token, one device on the hub: a pairing code pairs one tablet) and split the
worklist between them, so each appointment is measured once.
`

// Main runs the simulator with command-line args (without the program
// name); it returns the exit code: 0 done, 1 failed, 2 bad flags.
func Main(ctx context.Context, args []string, stdout io.Writer) int {
	fs := flag.NewFlagSet("tablet-sim", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprint(stdout, usage)
		fs.PrintDefaults()
	}
	hub := fs.String("hub", "https://127.0.0.1:8443", "hub address")
	fp := fs.String("fp", "", "hub certificate fingerprint (hex SHA-256) to pin; required for https")
	code := fs.String("code", "", "one-time pairing code (pairs first)")
	tokenFile := fs.String("token-file", "", "file with the device token; written after pairing with --code, read otherwise")
	serial := fs.String("serial", "SIM-0001", "tablet serial number")
	name := fs.String("name", "", "tablet name (default: the serial)")
	model := fs.String("model", "mTABLET", "tablet model")
	appVersion := fs.String("app-version", "sim-1.0", "tablet app version")
	tablets := fs.Int("tablets", 1, "number of simulated tablets sharing the token")
	once := fs.Bool("once", false, "process the current worklist once and exit (default: watch with long-poll)")
	measurement := fs.String("measurement", "", "ECG or ABI (default: the appointment's, else ECG)")
	wait := fs.Duration("wait", 25*time.Second, "long-poll wait when watching")
	operator := fs.String("operator", "sim-operator", "operator name in results")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	bad := func(msg string) int {
		fmt.Fprintln(stdout, "tablet-sim: "+msg)
		fs.Usage()
		return 2
	}
	if fs.NArg() > 0 {
		return bad(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if *code == "" && *tokenFile == "" {
		return bad("give --code to pair or --token-file with a token from an earlier pairing")
	}
	if *tablets < 1 || *tablets > 10000 {
		return bad("--tablets must be between 1 and 10000")
	}
	m := strings.ToUpper(*measurement)
	if m != "" && m != "ECG" && m != "ABI" {
		return bad("--measurement must be ECG or ABI")
	}
	if *wait <= 0 {
		return bad("--wait must be positive")
	}
	if strings.HasPrefix(*hub, "https://") && *fp == "" {
		return bad("--fp is required for https: the fingerprint the hub shows (or announces as fp= over mDNS)")
	}
	token := ""
	if *code == "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintf(stdout, "tablet-sim: read token: %v\n", err)
			return 1
		}
		token = strings.TrimSpace(string(b))
	}
	c, err := NewClient(*hub, *fp, token)
	if err != nil {
		return bad(err.Error())
	}
	if *code != "" {
		pr, err := c.Pair(ctx, PairRequest{Code: *code, Serial: *serial, Name: *name, Model: *model, AppVersion: *appVersion})
		if err != nil {
			fmt.Fprintf(stdout, "tablet-sim: pairing failed: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "paired as %s in group %s\n", pr.DeviceID, pr.Group)
		if *tokenFile != "" {
			if err := os.WriteFile(*tokenFile, []byte(pr.Token+"\n"), 0o600); err != nil {
				fmt.Fprintf(stdout, "tablet-sim: write token: %v\n", err)
				return 1
			}
			fmt.Fprintf(stdout, "token written to %s\n", *tokenFile)
		}
	}
	if err := c.Heartbeat(ctx, 90, *appVersion); err != nil {
		fmt.Fprintf(stdout, "tablet-sim: %v\n", err)
		return 1
	}
	var wg sync.WaitGroup
	errs := make([]error, *tablets)
	var outMu sync.Mutex
	out := &lockedWriter{w: stdout, mu: &outMu}
	for i := 0; i < *tablets; i++ {
		t := &Tablet{Client: c, Index: i, Of: *tablets, Serial: *serial, Model: *model, Operator: *operator, Measurement: m, Wait: *wait, Out: out}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if *once {
				_, errs[i] = t.Once(ctx)
			} else {
				errs[i] = t.Watch(ctx)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintf(stdout, "tablet-sim: %v\n", err)
			return 1
		}
	}
	return 0
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
