// Package pushjson is the connection of the cloud EHRs that push
// appointments to the hub and take results as JSON: Join (catalogue 3.7)
// and ZipLaneRx (3.13). Appointments come in through the hub's Integration
// API (connectors/integration); results go out as the predefined result
// JSON (connectors/resultjson), POSTed to the EHR's results URL with an
// OAuth 2.0 client-credentials token from the EHR's token URL.
//
// Neither vendor publishes its API, so everything on the EHR's side is
// configurable: the results URL (with {externalId} and other placeholders),
// the token URL, client ID, secret reference, scopes, audience and
// authentication style, extra token parameters and headers.
package pushjson

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/connectors/credurl"
	"github.com/mesi/mconnect/connectors/integration"
	"github.com/mesi/mconnect/connectors/probe"
)

// Sections of the two kinds.
const (
	JoinSection      = "join"
	ZipLaneRxSection = "ziplanerx"
)

// Config is the "join" or "ziplanerx" config section.
type Config struct {
	// API is the hub's Integration API, where the EHR sends appointments.
	API integration.Config `json:"api"`
	// Results is where and how results go back.
	Results ResultsConfig `json:"results"`
	config.Mapping
}

// ResultsConfig is the EHR's results endpoint and its OAuth 2.0 client.
type ResultsConfig struct {
	// URL receives one POST per result. {externalId}, {appointmentId},
	// {resultId} and {patientId} are replaced (path-escaped).
	URL string `json:"url"`
	// TokenURL is the EHR's token endpoint (client-credentials grant).
	TokenURL string `json:"tokenURL"`
	ClientID string `json:"clientId"`
	// ClientSecret is a secret reference: keyring:NAME or env:VAR.
	ClientSecret string   `json:"clientSecret"`
	Scopes       []string `json:"scopes,omitempty"`
	// Audience is sent as the token request's "audience" parameter.
	Audience string `json:"audience,omitempty"`
	// TokenParams are further token request parameters ("resource" ...).
	TokenParams map[string]string `json:"tokenParams,omitempty"`
	// AuthStyle is "basic" (client_secret_basic) or "post" (client_secret_post).
	AuthStyle string `json:"authStyle"`
	// Report is "inline" (the PDF's bytes in report.base64) or "reference"
	// (size and SHA-256 only).
	Report string `json:"report"`
	// Headers are sent with every result (an API version the EHR wants);
	// never credentials.
	Headers map[string]string `json:"headers,omitempty"`
	// Timeout bounds one POST, or one token request.
	Timeout config.Duration `json:"timeout"`
	// AllowInsecure accepts http:// for URL and TokenURL off loopback
	// (the token and the client secret then cross the network
	// unencrypted). Off by default.
	AllowInsecure bool `json:"allowInsecure,omitempty"`
}

// ApplyDefaults fills empty values.
func (c *Config) ApplyDefaults() {
	c.API.ApplyDefaults()
	r := &c.Results
	if r.AuthStyle == "" {
		r.AuthStyle = "basic"
	}
	if r.Report == "" {
		r.Report = "inline"
	}
	if r.Timeout == 0 {
		r.Timeout = config.Duration(30 * time.Second)
	}
}

// placeholders may appear in the results URL.
var placeholders = []string{"{externalId}", "{appointmentId}", "{resultId}", "{patientId}"}

// Validate reports every invalid key.
func (c *Config) Validate(ck *config.Checker) {
	c.API.Validate(ck.In("api"))
	r := c.Results
	rk := ck.In("results")
	u := r.URL
	for _, p := range placeholders {
		u = strings.ReplaceAll(u, p, "x")
	}
	if strings.ContainsAny(u, "{}") {
		rk.Add("url", "%q has an unknown placeholder (known: %s)", r.URL, strings.Join(placeholders, ", "))
	} else {
		rk.URL("url", u)
		credurl.NoCredentials(rk, "url", u)
		credurl.TokenTransport(rk, "url", u, r.AllowInsecure, "results.allowInsecure")
	}
	rk.URL("tokenURL", r.TokenURL)
	credurl.NoCredentials(rk, "tokenURL", r.TokenURL)
	credurl.TokenTransport(rk, "tokenURL", r.TokenURL, r.AllowInsecure, "results.allowInsecure")
	if strings.TrimSpace(r.ClientID) == "" {
		rk.Add("clientId", "must name the hub's client at the EHR's token endpoint")
	}
	rk.SecretRef("clientSecret", r.ClientSecret)
	for i, s := range r.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\"\\") {
			rk.Add("scopes", "scope %d %q is not a scope token", i, s)
		}
	}
	if r.AuthStyle != "basic" && r.AuthStyle != "post" {
		rk.Add("authStyle", "%q is not basic or post", r.AuthStyle)
	}
	if r.Report != "inline" && r.Report != "reference" {
		rk.Add("report", "%q is not inline or reference", r.Report)
	}
	for k := range r.TokenParams {
		switch k {
		case "grant_type", "client_id", "client_secret", "scope", "audience":
			rk.Add("tokenParams["+k+"]", "is set by the hub itself (use scopes, audience, clientId, clientSecret)")
		}
	}
	for k := range r.Headers {
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "Content-Type", "Content-Length", "Idempotency-Key", "Host", "Cookie":
			rk.Add("headers["+k+"]", "is set by the hub itself; credentials never go into the config")
		default:
			if strings.ContainsAny(k, " :\r\n") || k == "" {
				rk.Add("headers["+k+"]", "is not an HTTP header name")
			}
		}
	}
	rk.RangeDur("timeout", r.Timeout.D(), time.Second, 10*time.Minute)
	ck.Mapping(c.Mapping)
}

// JoinKind is Join's connector kind.
func JoinKind() connector.Kind { return kind(JoinSection) }

// ZipLaneRxKind is ZipLaneRx's connector kind.
func ZipLaneRxKind() connector.Kind { return kind(ZipLaneRxSection) }

func kind(section string) connector.Kind {
	return connector.Kind{
		Section: section,
		New:     func(catalogue.Profile) config.Section { return &Config{} },
		Example: func(p catalogue.Profile, _ string) config.Section { return example(p) },
		Build: func(env connector.Env, s config.Section) (connector.Parts, error) {
			return build(section, env, s.(*Config))
		},
		Endpoints: func(s config.Section) []connector.Endpoint {
			c := s.(*Config)
			return []connector.Endpoint{
				{Kind: connector.EndpointListen, Label: "appointments in (Integration API)", Value: c.API.Listen},
				{Kind: connector.EndpointRemote, Label: "results out (JSON)", Value: c.Results.URL},
				{Kind: connector.EndpointRemote, Label: "results token", Value: c.Results.TokenURL},
			}
		},
	}
}

// example is a complete section; the EHR's URLs are placeholders the
// clinic replaces with what the vendor gives.
func example(p catalogue.Profile) *Config {
	host := p.ID + ".example.invalid"
	c := &Config{
		API: integration.Config{Listen: ":8444"},
		Results: ResultsConfig{
			URL:          "https://api." + host + "/mesi/v1/appointments/{externalId}/results",
			TokenURL:     "https://login." + host + "/oauth2/token",
			ClientID:     "mconnect-hub",
			ClientSecret: "keyring:" + p.ID + "-results-secret",
			Scopes:       []string{"results:write"},
		},
		Mapping: config.Mapping{MeasurementMap: map[string]string{"ECG": "ECG", "ABI": "ABI", "TBI": "TBI", "SPO2": "SPO2", "BP": "BP"}},
	}
	c.ApplyDefaults()
	return c
}

// hubStore is how a connection reaches the hub's store: the hub is the
// order sink of every connection and hands out its store.
type hubStore interface {
	Store() *store.Store
}

func build(section string, env connector.Env, c *Config) (connector.Parts, error) {
	hs, ok := env.Orders.(hubStore)
	if !ok || hs.Store() == nil {
		return connector.Parts{}, &config.KeyError{Key: section, Err: errors.New("the Integration API needs the hub's store (this order sink has none)")}
	}
	secret, err := env.Secret(section+".results.clientSecret", c.Results.ClientSecret)
	if err != nil {
		return connector.Parts{}, err
	}
	label := env.Profile.Name
	if label == "" {
		label = env.Name
	}
	srv, err := integration.New(integration.Options{Name: env.Name, Config: c.API, Mapping: c.Mapping, Orders: env.Orders, Store: hs.Store(),
		Certificate: env.Certificate, Health: env.Health, Log: env.Log})
	if err != nil {
		return connector.Parts{}, &config.KeyError{Key: section + ".api", Err: err}
	}
	out, err := NewOutbound(OutboundOptions{Name: env.Name, Results: c.Results, ClientSecret: secret, HubID: hubID(env.DataDir),
		Health: env.Health, Log: env.Log})
	if err != nil {
		return connector.Parts{}, &config.KeyError{Key: section + ".results", Err: err}
	}
	api := c.API.Listen
	return connector.Parts{
		Inbound:  []connector.Component{{Name: srv.Component(), Run: srv.Run, CountsOrders: true}},
		Outbound: &connector.Outbound{Outbound: out, Label: label + " (JSON over HTTPS)"},
		Checks: []connector.Check{
			{What: "Integration API on " + api, Run: func(ctx context.Context) connector.CheckResult { return probe.TCP(ctx, probe.LocalAddr(api)) }},
			{What: "token from " + redacted(c.Results.TokenURL), Run: out.CheckToken},
		},
	}, nil
}

// hubID reads the hub's ID from its data folder (the result JSON's hubId).
func hubID(dataDir string) string {
	b, err := os.ReadFile(filepath.Join(dataDir, "hub-id"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// redacted hides a password in a URL (the URL is shown as written otherwise).
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}
