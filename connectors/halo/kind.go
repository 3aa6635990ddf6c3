// Package halo is the connection of Best Practice (Bp Premier) through
// HALO Connect (catalogue section 3.1): when a tablet reads its worklist,
// the hub reads the practice's appointments with an immediate SQL reader
// query (the query text and its columns are configurable; the default
// reads BPS_Appointments with BPS_Patients); results go back as the
// predefined result JSON with the PDF, as parameters of an async nonQuery
// command (by default a stored procedure call), whose status the hub
// reads until HALO says how it ended. Every call carries the integrator
// subscription key (Ocp-Apim-Subscription-Key). HALO's wire shapes are in
// client.go; halofake is a strict stand-in for tests.
package halo

import (
	"context"
	"fmt"
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

// EHRLabel names HALO for people (health, logs).
const EHRLabel = "HALO Connect"

// Kind is the HALO connector kind.
func Kind() connector.Kind {
	return connector.Kind{
		Section: Section,
		New:     func(catalogue.Profile) config.Section { return &Config{} },
		Example: func(p catalogue.Profile, _ string) config.Section {
			c := &Config{
				SiteID:    "00000000-0000-0000-0000-000000000000",
				APIKey:    "keyring:" + p.ID + "-halo-api-key",
				Catalogue: "BPSPatients",
			}
			c.GroupMap = map[string]string{}
			c.MeasurementMap = map[string]string{"ECG": "ECG", "ABI": "ABI", "Spirometry": "SPIRO"}
			c.ApplyDefaults()
			return c
		},
		Build: build,
		Endpoints: func(s config.Section) []connector.Endpoint {
			c := s.(*Config)
			return []connector.Endpoint{{Kind: connector.EndpointRemote, Label: "appointments and results (HALO Connect)", Value: c.BaseURL}}
		},
	}
}

func build(env connector.Env, s config.Section) (connector.Parts, error) {
	c := s.(*Config)
	key, err := env.Secret(Section+".apiKey", c.APIKey)
	if err != nil {
		return connector.Parts{}, err
	}
	loc, err := c.Location()
	if err != nil {
		return connector.Parts{}, &config.KeyError{Key: Section + ".timeZone", Err: err}
	}
	cl := &client{
		base: strings.TrimRight(c.BaseURL, "/"), site: c.SiteID, catalogue: c.Catalogue, key: key,
		http: &http.Client{Transport: tlscert.Transport()}, maxAnswer: c.MaxAnswer(),
	}
	ap := &appointments{c: cl, conn: env.Name, cfg: c.Appointments, routing: c.Routing, loc: loc}
	src := pull.New(ap.fetch, c.Options(env.Name, EHRLabel), env.Health, env.Log)
	out := &Outbound{c: cl, cfg: c.Results, hubID: hubID(env.DataDir), log: env.Log.WithField("connection", env.Name), sleep: sleepCtx}
	return connector.Parts{
		Pull:     src,
		Outbound: &connector.Outbound{Outbound: out, Label: env.Profile.Name + " (HALO Connect)"},
		Checks:   []connector.Check{{What: "HALO site " + c.SiteID, Run: cl.check}},
	}, nil
}

// hubID reads the hub's ID from its data folder (the hub writes it before
// it builds the connections), for the result JSON's hubId.
func hubID(dataDir string) string {
	b, err := os.ReadFile(filepath.Join(dataDir, "hub-id"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// check reads the site (Test connection): the key is accepted and the
// practice's HALO Link is online.
func (c *client) check(ctx context.Context) connector.CheckResult {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	avail, err := c.availability(ctx)
	r := connector.CheckResult{Duration: time.Since(start), Args: map[string]string{"url": c.base, "site": c.site}}
	if err != nil {
		e := pull.Classify(err)
		r.Detail = e.Error()
		switch e.Kind {
		case pull.KindAuth:
			r.Code = probe.CodeAuthRefused
			r.Args["credential"] = credentialAPIKey
		case pull.KindTimeout:
			r.Code = probe.CodeTimeout
		case pull.KindRefused, pull.KindRateLimited:
			r.Code = probe.CodeHTTPStatus
		default:
			r.Code = probe.CodeUnreachable
		}
		return r
	}
	r.Args["availability"] = avail
	r.Detail = fmt.Sprintf("site availability: %s", avail)
	if avail != "online" {
		r.Code = CodeSiteOffline
		return r
	}
	r.OK, r.Code = true, probe.CodeReachable
	return r
}
