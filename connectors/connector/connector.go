// Package connector is the contract between the hub and its connectors.
// A connector kind lives in one package, owns one config section and builds
// the parts the hub runs: inbound components (Run until stopped), a pull
// source (asked for a group's appointments when a tablet fetches its
// worklist) and an outbound (Deliver). The registry lists the kinds; the
// hub wires whatever parts a kind returns, with no per-EHR special cases.
package connector

import (
	"context"
	"crypto/tls"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/catalogue"
)

// Kind is one kind of connector.
type Kind struct {
	// Section is the config key the kind owns ("hl7", "gdt", ...).
	Section string
	// New returns an empty section for the profile, to decode into; its
	// ApplyDefaults fills the profile's defaults.
	New func(p catalogue.Profile) config.Section
	// Example returns a complete section for the profile, with its folders
	// under dataDir (absolute).
	Example func(p catalogue.Profile, dataDir string) config.Section
	// Build makes the connector's parts from its validated section.
	Build func(env Env, sec config.Section) (Parts, error)
	// Endpoints describes what the section uses (folders, ports, remote
	// addresses), for the Dashboard and the support bundle.
	Endpoints func(sec config.Section) []Endpoint
}

// Env is what a connector gets from the hub to build its parts.
type Env struct {
	// Name is the connection's name (the EHR profile's ID).
	Name    string
	Profile catalogue.Profile
	// DataDir is the hub's data folder; TempDir a folder on the same
	// filesystem for staging files.
	DataDir, TempDir string
	Orders           domain.OrderSink
	Health           domain.HealthReporter
	Log              logrus.FieldLogger
	// Secret resolves a secret reference of config key key.
	Secret func(key, ref string) (string, error)
	// Certificate returns the hub's TLS certificate (created on first use).
	Certificate func() (tls.Certificate, error)
}

// Parts are what a connector built. Any may be empty.
type Parts struct {
	Inbound  []Component
	Pull     PullSource
	Outbound *Outbound
	// Checks are the "Test connection" hooks, by what they test.
	Checks []Check
}

// Component is a supervised long-running part: Run blocks until ctx is
// done; an error before that means it stopped and the hub restarts it.
type Component struct {
	// Name is the health component it reports as ("conn:birpis").
	Name string
	Run  func(ctx context.Context) error
	// CountsOrders marks the component whose health shows when the
	// connection last brought an order (seeded from the store at start).
	CountsOrders bool
}

// Outbound delivers results to the EHR.
type Outbound struct {
	domain.Outbound
	// Label names it for people ("Birpis (HL7 over MLLP)").
	Label string
	// ResumesInterrupted says that the outbound tells by itself, at its
	// next attempt, whether a send cut off by a stop or a crash reached the
	// EHR (it records resumable steps with Outgoing.Record before the EHR
	// can see anything): such a send is always taken up again, never held
	// as ambiguous for a person, whatever delivery.ambiguous says.
	ResumesInterrupted bool
}

// PullSource is a connector that is asked for a group's appointments when
// a tablet fetches its worklist (cloud EHRs without a push).
type PullSource interface {
	// Pull returns the orders the EHR has now for the group; the hub stores
	// them through the usual order path. stale reports that the EHR could
	// not be asked and the hub should serve what it has.
	Pull(ctx context.Context, group string) (orders []domain.Order, err error)
}

// Check is one "Test connection" hook.
type Check struct {
	// What names what is tested ("results to 10.0.0.5:2576").
	What string
	Run  func(ctx context.Context) CheckResult
}

// CheckResult is the outcome of a check, in codes the UI renders.
type CheckResult struct {
	OK bool
	// Code says what happened ("reachable", "refused", "timeout",
	// "writable", "not-writable" ...); Args fill its text; Detail is the
	// technical text behind "Details".
	Code     string
	Args     map[string]string
	Detail   string
	Duration time.Duration
}

// EndpointKind says what an endpoint is.
type EndpointKind string

// Endpoint kinds.
const (
	EndpointFolder EndpointKind = "folder" // a local folder
	EndpointListen EndpointKind = "listen" // an address the hub listens on
	EndpointRemote EndpointKind = "remote" // an address or URL the hub sends to
)

// Endpoint is one folder, port or address a connector uses.
type Endpoint struct {
	Kind  EndpointKind
	Label string // "orders in", "results out", "FTP"
	Value string // path, host:port or URL
}
