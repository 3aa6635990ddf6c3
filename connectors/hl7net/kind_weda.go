package hl7net

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/connectors/credurl"
	"github.com/mesi/mconnect/connectors/hl7"
	"github.com/mesi/mconnect/connectors/probe"
)

// WEDAConfig is the "weda" config section: HL7 files in, HL7 over HTTPS out.
type WEDAConfig struct {
	InboundDir  string          `json:"inboundDir"`
	QuietPeriod config.Duration `json:"quietPeriod"`
	// AfterProcess is "archive" (default) or "delete".
	AfterProcess string `json:"afterProcess"`
	ResultURL    string `json:"resultURL"`
	// TokenHeader carries the API token ("Authorization" sends "Bearer <token>").
	TokenHeader string `json:"tokenHeader"`
	// Token is a secret reference: keyring:NAME or env:VAR.
	Token       string            `json:"token"`
	Timeout     config.Duration   `json:"timeout"`
	SendingApp  string            `json:"sendingApp"`
	Charset     string            `json:"charset"`
	RaceMap     map[string]string `json:"raceMap,omitempty"`
	ContentType string            `json:"contentType"`
	// AllowInsecure accepts an http:// ResultURL off loopback (the token
	// then crosses the network unencrypted). Off by default.
	AllowInsecure bool `json:"allowInsecure,omitempty"`
	config.Mapping
}

// WEDASection is the config key of WEDAConfig.
const WEDASection = "weda"

// ApplyDefaults fills empty values.
func (w *WEDAConfig) ApplyDefaults() {
	if w.QuietPeriod == 0 {
		w.QuietPeriod = config.Duration(2 * time.Second)
	}
	if w.AfterProcess == "" {
		w.AfterProcess = "archive"
	}
	if w.TokenHeader == "" {
		w.TokenHeader = "Authorization"
	}
	if w.Timeout == 0 {
		w.Timeout = config.Duration(30 * time.Second)
	}
	if w.SendingApp == "" {
		w.SendingApp = "MCONNECT"
	}
	if w.ContentType == "" {
		w.ContentType = "application/hl7-v2"
	}
}

// Validate reports every invalid key.
func (w *WEDAConfig) Validate(ck *config.Checker) {
	ck.Dir("inboundDir", w.InboundDir)
	ck.RangeDur("quietPeriod", w.QuietPeriod.D(), 100*time.Millisecond, time.Hour)
	ck.AfterProcess("afterProcess", w.AfterProcess)
	ck.URL("resultURL", w.ResultURL)
	credurl.NoCredentials(ck, "resultURL", w.ResultURL)
	credurl.TokenTransport(ck, "resultURL", w.ResultURL, w.AllowInsecure, "allowInsecure")
	ck.SecretRef("token", w.Token)
	if strings.TrimSpace(w.TokenHeader) == "" || strings.ContainsAny(w.TokenHeader, " :\r\n") {
		ck.Add("tokenHeader", "%q is not an HTTP header name", w.TokenHeader)
	}
	ck.RangeDur("timeout", w.Timeout.D(), time.Second, 10*time.Minute)
	ck.CharsetHL7("charset", w.Charset)
	ck.Mapping(w.Mapping)
}

// WEDAKind is WEDA's connector kind: HL7 order files from a folder, ORU^R01
// POSTed to WEDA's HTTPS endpoint with the API token.
func WEDAKind() connector.Kind {
	return connector.Kind{
		Section: WEDASection,
		New:     func(catalogue.Profile) config.Section { return &WEDAConfig{} },
		Example: func(p catalogue.Profile, dataDir string) config.Section {
			c := &WEDAConfig{
				InboundDir:  filepath.Join(dataDir, "exchange", "weda-in"),
				ResultURL:   "https://weda.example.invalid/api/mesi/results",
				TokenHeader: "Authorization",
				Token:       "keyring:" + p.ID + "-api-token",
				Mapping:     config.Mapping{MeasurementMap: map[string]string{"ECG": "ECG", "ABI": "ABI"}},
			}
			c.ApplyDefaults()
			return c
		},
		Build: buildWEDA,
		Endpoints: func(s config.Section) []connector.Endpoint {
			c := s.(*WEDAConfig)
			return []connector.Endpoint{
				{Kind: connector.EndpointFolder, Label: "orders in", Value: c.InboundDir},
				{Kind: connector.EndpointRemote, Label: "results out (HTTPS)", Value: c.ResultURL},
			}
		},
	}
}

func buildWEDA(env connector.Env, s config.Section) (connector.Parts, error) {
	c := s.(*WEDAConfig)
	token, err := env.Secret(WEDASection+".token", c.Token)
	if err != nil {
		return connector.Parts{}, err
	}
	in, err := NewWEDAInbound(WEDAInboundOptions{
		Name: env.Name, Dir: c.InboundDir, QuietPeriod: c.QuietPeriod.D(), DeleteProcessed: c.AfterProcess == "delete",
		Map: hl7.MapOptions{Connection: env.Name, RaceMap: c.RaceMap, GroupMap: c.GroupMap, MeasurementMap: c.MeasurementMap},
	}, env.Orders, env.Log, env.Health)
	if err != nil {
		return connector.Parts{}, &config.KeyError{Key: WEDASection + ".inboundDir", Err: err}
	}
	out, err := NewWEDAOutbound(WEDAOutboundOptions{
		Name: env.Name, URL: c.ResultURL, Token: token, TokenHeader: c.TokenHeader, ContentType: c.ContentType,
		Timeout: c.Timeout.D(), TempDir: env.TempDir,
		ORU: ORUSettings{SendingApp: c.SendingApp, Charset: c.Charset},
	}, env.Log)
	if err != nil {
		return connector.Parts{}, &config.KeyError{Key: WEDASection, Err: err}
	}
	return connector.Parts{
		Inbound:  []connector.Component{{Name: in.Component(), Run: in.Run, CountsOrders: true}},
		Outbound: &connector.Outbound{Outbound: out, Label: "WEDA (HL7 over HTTPS)"},
		Checks: []connector.Check{
			{What: "orders folder " + c.InboundDir, Run: func(context.Context) connector.CheckResult { return probe.Folder(c.InboundDir) }},
			{What: "results to " + c.ResultURL, Run: out.Check},
		},
	}, nil
}

// Check reaches the results URL with the token (a HEAD request: nothing
// is posted) and reports the status (Test connection).
func (o *WEDAOutbound) Check(ctx context.Context) connector.CheckResult {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, o.opts.URL, nil)
	if err != nil {
		return connector.CheckResult{Code: probe.CodeUnreachable, Detail: fmt.Sprintf("results URL: %v", err)}
	}
	req.Header.Set(o.opts.TokenHeader, fmt.Sprintf(o.opts.TokenFormat, o.opts.Token))
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return probe.HTTP(o.opts.Client, req.WithContext(ctx))
}
