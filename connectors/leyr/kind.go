// Package leyr is the connection of EHRs reached through Leyr (Vena,
// catalogue section 3.10; Webdoc, 3.11): when a tablet reads its worklist,
// the hub reads the care unit's appointments of the window with their
// patients' and practitioners' details (IDs kept in Leyr's {type}:{value}
// form); results go back as a medical note holding a readable rendering
// of the measurement, then the PDF report as a document. Every call
// carries the client ID and secret (x-leyr-client-id,
// x-leyr-client-secret). Leyr's wire shapes are in client.go; leyrfake is
// a strict stand-in for tests.
package leyr

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/tlscert"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/connectors/probe"
	"github.com/mesi/mconnect/connectors/pull"
)

// EHRLabel names Leyr for people (health, logs).
const EHRLabel = "Leyr"

// Kind is the Leyr connector kind.
func Kind() connector.Kind {
	return connector.Kind{
		Section: Section,
		New:     func(catalogue.Profile) config.Section { return &Config{} },
		Example: func(p catalogue.Profile, _ string) config.Section {
			c := &Config{
				// Leyr names Webdoc "webdoc"; other EHRs' codes come from
				// the clinic's Leyr account.
				EMR:          p.ID,
				CareUnitID:   "care-unit-id",
				ClientID:     "client-id",
				ClientSecret: "keyring:" + p.ID + "-leyr-client-secret",
			}
			c.MeasurementMap = map[string]string{}
			c.ApplyDefaults()
			return c
		},
		Build: build,
		Endpoints: func(s config.Section) []connector.Endpoint {
			c := s.(*Config)
			return []connector.Endpoint{{Kind: connector.EndpointRemote, Label: "appointments and results (Leyr)", Value: c.BaseURL}}
		},
	}
}

func build(env connector.Env, s config.Section) (connector.Parts, error) {
	c := s.(*Config)
	secret, err := env.Secret(Section+".clientSecret", c.ClientSecret)
	if err != nil {
		return connector.Parts{}, err
	}
	loc, err := c.Location()
	if err != nil {
		return connector.Parts{}, &config.KeyError{Key: Section + ".timeZone", Err: err}
	}
	cl := newClient(c, secret, &http.Client{Transport: tlscert.Transport()})
	ap := &appointments{c: cl, conn: env.Name, cfg: c.Appointments, routing: c.Routing, loc: loc, now: time.Now}
	src := pull.New(ap.fetch, c.Options(env.Name, EHRLabel), env.Health, env.Log)
	out := &Outbound{c: cl, cfg: c.Results, hubID: hubID(env.DataDir), loc: loc, log: env.Log.WithField("connection", env.Name)}
	return connector.Parts{
		Pull:     src,
		Outbound: &connector.Outbound{Outbound: out, Label: env.Profile.Name + " (Leyr)"},
		Checks:   []connector.Check{{What: "Leyr care unit " + c.CareUnitID, Run: cl.check}},
	}, nil
}

// hubID reads the hub's ID from its data folder, for the result's hubId.
func hubID(dataDir string) string {
	b, err := os.ReadFile(filepath.Join(dataDir, "hub-id"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// check reads the care unit's healthcare services (Test connection): the
// credentials are accepted and the care unit exists.
func (c *client) check(ctx context.Context) connector.CheckResult {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	var v any
	err := c.getJSON(ctx, "/healthcare-services", &v)
	r := connector.CheckResult{Duration: time.Since(start), Args: map[string]string{"url": c.base}}
	if err != nil {
		e := pull.Classify(err)
		r.Detail = e.Error()
		switch e.Kind {
		case pull.KindAuth:
			r.Code = probe.CodeAuthRefused
			r.Args["credential"] = credential
		case pull.KindTimeout:
			r.Code = probe.CodeTimeout
		case pull.KindRefused, pull.KindRateLimited:
			r.Code = probe.CodeHTTPStatus
		default:
			r.Code = probe.CodeUnreachable
		}
		return r
	}
	r.OK, r.Code = true, probe.CodeReachable
	return r
}
