package hl7net

import (
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/connectors/hl7"
)

// MLLPConfig is the "hl7" config section: HL7 v2 over MLLP (Birpis,
// Hipokrat, Iris, Isoz, NextGen).
type MLLPConfig struct {
	// Listen is where the EHR sends ORM^O01 orders.
	Listen string `json:"listen"`
	// Whitelist lists the addresses (CIDRs or single IPs) allowed to connect.
	Whitelist    []string `json:"whitelist"`
	MaxMessageMB int      `json:"maxMessageMB"`
	// MaxFieldText bounds each text an order keeps, in characters (a
	// source field, a note NTE-3, the service text); a longer one is cut
	// with a warning (default hl7.DefaultMaxText).
	MaxFieldText   int             `json:"maxFieldText"`
	MaxConnections int             `json:"maxConnections"`
	IdleTimeout    config.Duration `json:"idleTimeout"`
	// ResultHost is the EHR's host:port that receives ORU^R01 results.
	ResultHost string          `json:"resultHost"`
	AckTimeout config.Duration `json:"ackTimeout"`
	// SendingApp/SendingFacility are MSH-3/4 of our results; ReceivingApp
	// and ReceivingFacility MSH-5/6 (defaults: what the order said).
	SendingApp        string `json:"sendingApp"`
	SendingFacility   string `json:"sendingFacility"`
	ReceivingApp      string `json:"receivingApp"`
	ReceivingFacility string `json:"receivingFacility"`
	// Charset is MSH-18 of our results ("UNICODE UTF-8", "8859/1",
	// "8859/2"); empty answers in the charset of the order.
	Charset string `json:"charset"`
	// RaceMap maps PID-10 codes to the hub's race_code.
	RaceMap map[string]string `json:"raceMap,omitempty"`
	config.Mapping
}

// MLLPSection is the config key of MLLPConfig.
const MLLPSection = "hl7"

// ApplyDefaults fills empty values.
func (h *MLLPConfig) ApplyDefaults() {
	if h.MaxMessageMB == 0 {
		h.MaxMessageMB = DefaultMaxOrderSize >> 20
	}
	if h.MaxFieldText == 0 {
		h.MaxFieldText = hl7.DefaultMaxText
	}
	if h.MaxConnections == 0 {
		h.MaxConnections = 16
	}
	if h.IdleTimeout == 0 {
		h.IdleTimeout = config.Duration(5 * time.Minute)
	}
	if h.AckTimeout == 0 {
		h.AckTimeout = config.Duration(30 * time.Second)
	}
	if h.SendingApp == "" {
		h.SendingApp = "MCONNECT"
	}
}

// Validate reports every invalid key.
func (h *MLLPConfig) Validate(ck *config.Checker) {
	ck.HostPort("listen", h.Listen, true)
	if len(h.Whitelist) == 0 {
		ck.Add("whitelist", "empty: no EHR could connect; list the EHR's address (e.g. \"192.168.1.20\" or \"192.168.1.0/24\")")
	}
	ck.Addresses("whitelist", h.Whitelist)
	ck.RangeInt("maxMessageMB", h.MaxMessageMB, 1, 512)
	ck.RangeInt("maxFieldText", h.MaxFieldText, 100, 1<<20)
	ck.RangeInt("maxConnections", h.MaxConnections, 1, 1024)
	ck.RangeDur("idleTimeout", h.IdleTimeout.D(), time.Second, 24*time.Hour)
	ck.HostPort("resultHost", h.ResultHost, false)
	ck.RangeDur("ackTimeout", h.AckTimeout.D(), time.Second, 10*time.Minute)
	ck.CharsetHL7("charset", h.Charset)
	ck.Mapping(h.Mapping)
}

// MLLPKind is the connector kind of HL7 v2 over MLLP: ORM^O01 in on the
// hub's listener, ORU^R01 out to the EHR's host:port.
func MLLPKind() connector.Kind {
	return connector.Kind{
		Section: MLLPSection,
		New:     func(catalogue.Profile) config.Section { return &MLLPConfig{} },
		Example: func(p catalogue.Profile, _ string) config.Section {
			// The EHR's one address is let in, the same host the results
			// go to: a whole network would let any PC of the clinic (or a
			// guest Wi-Fi) put orders on the tablets. docs/CONFIG.md says
			// how to widen it.
			const ehrHost = "127.0.0.1"
			c := &MLLPConfig{
				Listen:       ":2575",
				Whitelist:    []string{ehrHost},
				ResultHost:   ehrHost + ":2576",
				ReceivingApp: p.HL7.ReceivingApp,
				RaceMap:      map[string]string{"2106-3": "white", "2054-5": "black", "2028-9": "asian", "2131-1": "other"},
				Mapping: config.Mapping{
					MeasurementMap: map[string]string{"ECG": "ECG", "ABI": "ABI", "TBI": "TBI", "SPO2": "SPO2", "BP": "BP"},
				},
			}
			c.ApplyDefaults()
			return c
		},
		Build: buildMLLP,
		Endpoints: func(s config.Section) []connector.Endpoint {
			c := s.(*MLLPConfig)
			return []connector.Endpoint{
				{Kind: connector.EndpointListen, Label: "orders in (MLLP)", Value: c.Listen},
				{Kind: connector.EndpointRemote, Label: "results out (MLLP)", Value: c.ResultHost},
			}
		},
	}
}

func buildMLLP(env connector.Env, s config.Section) (connector.Parts, error) {
	c := s.(*MLLPConfig)
	comp := "conn:" + env.Name
	in, err := NewMLLPInbound(MLLPInboundOptions{
		Name: env.Name, ListenAddr: c.Listen, Allow: c.Whitelist, MaxConnections: c.MaxConnections,
		MaxMessageSize: c.MaxMessageMB << 20, MaxFieldText: c.MaxFieldText, IdleTimeout: c.IdleTimeout.D(),
		RaceMap: c.RaceMap, GroupMap: c.GroupMap, MeasurementMap: c.MeasurementMap,
		Application: c.SendingApp,
	}, env.Orders, env.Log, env.Health)
	if err != nil {
		return connector.Parts{}, &config.KeyError{Key: MLLPSection, Err: err}
	}
	out, err := NewMLLPOutbound(MLLPOutboundOptions{
		Name: env.Name, Addr: c.ResultHost, AckTimeout: c.AckTimeout.D(),
		ORU: ORUSettings{SendingApp: c.SendingApp, SendingFacility: c.SendingFacility,
			ReceivingApp: c.ReceivingApp, ReceivingFacility: c.ReceivingFacility, Charset: c.Charset},
	}, env.Log)
	if err != nil {
		return connector.Parts{}, &config.KeyError{Key: MLLPSection + ".resultHost", Err: err}
	}
	return connector.Parts{
		Inbound:  []connector.Component{{Name: comp, Run: in.Run, CountsOrders: true}},
		Outbound: &connector.Outbound{Outbound: out, Label: env.Profile.Name + " (HL7 over MLLP)"},
		Checks:   []connector.Check{{What: "results to " + c.ResultHost, Run: out.Check}},
	}, nil
}
