// Package toyconn is a connector kind that exists only for the hub's
// tests: it proves that a connector is one package and one registry line.
// Its inbound hands over orders fed through Feed; its outbound records
// what it delivers.
package toyconn

import (
	"context"
	"sync"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/connector"
)

// Section is the config key of Config.
const Section = "toy"

// Config is the "toy" section: Line names the feed and the record.
type Config struct {
	Line string `json:"line"`
}

// ApplyDefaults implements config.Section.
func (c *Config) ApplyDefaults() {}

// Validate implements config.Section.
func (c *Config) Validate(ck *config.Checker) {
	if c.Line == "" {
		ck.Add("line", "must not be empty")
	}
}

// Profile is a toy EHR made of the toy kind.
var Profile = catalogue.Profile{ID: "toyehr", Name: "Toy EHR", Format: "toy", Sections: []string{Section}}

// Line is one toy connection's feed and record.
type Line struct {
	Orders chan domain.Order
	Acks   chan error

	mu        sync.Mutex
	delivered []domain.Outgoing
}

var (
	mu    sync.Mutex
	lines = map[string]*Line{}
)

// Get returns the line of that name, creating it.
func Get(name string) *Line {
	mu.Lock()
	defer mu.Unlock()
	l, ok := lines[name]
	if !ok {
		l = &Line{Orders: make(chan domain.Order), Acks: make(chan error)}
		lines[name] = l
	}
	return l
}

// Delivered returns what the outbound delivered so far.
func (l *Line) Delivered() []domain.Outgoing {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]domain.Outgoing(nil), l.delivered...)
}

// Deliver implements domain.Outbound.
func (l *Line) Deliver(_ context.Context, out domain.Outgoing) (string, error) {
	l.mu.Lock()
	l.delivered = append(l.delivered, out)
	l.mu.Unlock()
	return "toy: ok", nil
}

// Kind is the toy connector kind.
func Kind() connector.Kind {
	return connector.Kind{
		Section: Section,
		New:     func(catalogue.Profile) config.Section { return &Config{} },
		Example: func(catalogue.Profile, string) config.Section { return &Config{Line: "example"} },
		Build: func(env connector.Env, s config.Section) (connector.Parts, error) {
			l := Get(s.(*Config).Line)
			run := func(ctx context.Context) error {
				for {
					select {
					case <-ctx.Done():
						return nil
					case o := <-l.Orders:
						o.Connection = env.Name
						_, err := env.Orders.AcceptOrder(ctx, o)
						l.Acks <- err
					}
				}
			}
			return connector.Parts{
				Inbound:  []connector.Component{{Name: "conn:" + env.Name + "/toy-in", Run: run, CountsOrders: true}},
				Outbound: &connector.Outbound{Outbound: l, Label: "Toy EHR"},
				Checks: []connector.Check{{What: "toy line", Run: func(context.Context) connector.CheckResult {
					return connector.CheckResult{OK: true, Code: "reachable"}
				}}},
			}, nil
		},
	}
}
