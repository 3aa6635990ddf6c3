package gdtfile

import (
	"context"
	"path/filepath"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/tlscert"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/connectors/gdt"
	"github.com/mesi/mconnect/connectors/probe"
)

// Section is the config key of Config.
const Section = "gdt"

// Config is the "gdt" config section: a GDT connection (Doctolib, Tomedo).
type Config struct {
	InboundDir string `json:"inboundDir"`
	// ResultDir receives the result GDT files, PDFDir the PDF reports (may be the same).
	ResultDir string `json:"resultDir"`
	PDFDir    string `json:"pdfDir"`
	// EHRID and HubID are the GDT IDs (8315/8316) of the EHR and the hub.
	EHRID   string `json:"ehrId"`
	HubID   string `json:"hubId"`
	Version string `json:"version"` // "02.10" or "03.00"
	// Charset: "auto" reads what 9206 declares (else valid UTF-8, else
	// CP437) and answers in the order's charset; any other value (cp437,
	// windows-1252, iso-8859-15, din66003, utf-8) is forced for the files
	// read, overriding 9206, and used for the results written.
	Charset string `json:"charset"`
	// Naming of result files: "fixed" (<EHRID><HubID>.GDT) or "counting" (.000 ... .999).
	Naming       string          `json:"naming"`
	QuietPeriod  config.Duration `json:"quietPeriod"`
	AfterProcess string          `json:"afterProcess"` // archive or delete
	// EmbedPDF puts the PDF into the GDT 3.0 result as Base64 (field 6329).
	EmbedPDF  bool      `json:"embedPDF"`
	MaxFileMB int       `json:"maxFileMB"`
	FTP       FTPConfig `json:"ftp"`
	config.Mapping
}

// FTPConfig is the hub's embedded FTP endpoint for EHRs that deliver over FTP.
type FTPConfig struct {
	Enabled bool   `json:"enabled"`
	Listen  string `json:"listen"`
	User    string `json:"user"`
	// Password is a secret reference: keyring:NAME or env:VAR.
	Password     string `json:"password"`
	PassivePorts string `json:"passivePorts"` // "30000-30009"
	// TLS offers explicit FTPS with the hub's certificate; RequireTLS refuses plain logins.
	TLS            bool `json:"tls"`
	RequireTLS     bool `json:"requireTLS"`
	MaxConnections int  `json:"maxConnections"`
}

// ApplyDefaults fills empty values.
func (g *Config) ApplyDefaults() {
	if g.Version == "" {
		g.Version = "02.10"
	}
	if g.Charset == "" {
		g.Charset = "auto"
	}
	if g.Naming == "" {
		g.Naming = "fixed"
	}
	if g.QuietPeriod == 0 {
		g.QuietPeriod = config.Duration(2 * time.Second)
	}
	if g.AfterProcess == "" {
		g.AfterProcess = "archive"
	}
	if g.MaxFileMB == 0 {
		g.MaxFileMB = 10
	}
	if g.PDFDir == "" {
		g.PDFDir = g.ResultDir
	}
	if g.FTP.Listen == "" {
		g.FTP.Listen = "0.0.0.0:2121"
	}
	if g.FTP.PassivePorts == "" {
		g.FTP.PassivePorts = "30000-30009"
	}
	if g.FTP.MaxConnections == 0 {
		g.FTP.MaxConnections = 8
	}
}

// Validate reports every invalid key.
func (g *Config) Validate(ck *config.Checker) {
	ck.Dir("inboundDir", g.InboundDir)
	ck.Dir("resultDir", g.ResultDir)
	ck.Dir("pdfDir", g.PDFDir)
	for _, kv := range [][2]string{{"ehrId", g.EHRID}, {"hubId", g.HubID}} {
		if kv[1] == "" || len(kv[1]) > 8 {
			ck.Add(kv[0], "%q must be 1-8 characters (GDT IDs 8315/8316)", kv[1])
		}
	}
	if g.Version != "02.10" && g.Version != "03.00" {
		ck.Add("version", "%q is not 02.10 or 03.00", g.Version)
	}
	switch g.Charset {
	case "auto", "cp437", "windows-1252", "iso-8859-1", "iso-8859-15", "din66003", "utf-8":
	default:
		ck.Add("charset", "%q is not one of auto, cp437, windows-1252, iso-8859-1, iso-8859-15, din66003, utf-8", g.Charset)
	}
	if g.Naming != "fixed" && g.Naming != "counting" {
		ck.Add("naming", "%q is not fixed or counting", g.Naming)
	}
	ck.RangeDur("quietPeriod", g.QuietPeriod.D(), 100*time.Millisecond, time.Hour)
	ck.AfterProcess("afterProcess", g.AfterProcess)
	ck.RangeInt("maxFileMB", g.MaxFileMB, 1, 1024)
	if g.EmbedPDF && g.Version != "03.00" {
		ck.Add("embedPDF", "needs gdt.version 03.00 (GDT 2.1 has no field for embedded files)")
	}
	if g.FTP.Enabled {
		ck.HostPort("ftp.listen", g.FTP.Listen, true)
		if g.FTP.User == "" {
			ck.Add("ftp.user", "must not be empty when the FTP endpoint is enabled")
		}
		ck.SecretRef("ftp.password", g.FTP.Password)
		ck.PortRange("ftp.passivePorts", g.FTP.PassivePorts)
		if g.FTP.RequireTLS && !g.FTP.TLS {
			ck.Add("ftp.requireTLS", "needs gdt.ftp.tls")
		}
		ck.RangeInt("ftp.maxConnections", g.FTP.MaxConnections, 1, 256)
	}
	ck.Mapping(g.Mapping)
}

// Kind is the GDT connector kind: order files from a folder (locally or
// over the embedded FTP endpoint), result GDT files and PDFs into folders.
func Kind() connector.Kind {
	return connector.Kind{
		Section: Section,
		New:     func(catalogue.Profile) config.Section { return &Config{} },
		Example: func(p catalogue.Profile, dataDir string) config.Section {
			ex := filepath.Join(dataDir, "exchange")
			c := &Config{
				InboundDir: filepath.Join(ex, p.ID+"-in"),
				ResultDir:  filepath.Join(ex, p.ID+"-out"),
				PDFDir:     filepath.Join(ex, p.ID+"-out"),
				EHRID:      p.GDT.EHRID,
				HubID:      p.GDT.HubID,
				Version:    p.GDT.Version,
				Charset:    p.GDT.Charset,
				Naming:     "fixed",
				FTP: FTPConfig{
					Listen:       "0.0.0.0:2121",
					User:         p.ID,
					Password:     "keyring:" + p.ID + "-ftp-password",
					PassivePorts: "30000-30009",
				},
				Mapping: config.Mapping{MeasurementMap: map[string]string{"EKG01": "ECG", "ABI01": "ABI"}},
			}
			c.ApplyDefaults()
			return c
		},
		Build: build,
		Endpoints: func(s config.Section) []connector.Endpoint {
			c := s.(*Config)
			eps := []connector.Endpoint{
				{Kind: connector.EndpointFolder, Label: "orders in", Value: c.InboundDir},
				{Kind: connector.EndpointFolder, Label: "results out", Value: c.ResultDir},
			}
			if c.PDFDir != c.ResultDir {
				eps = append(eps, connector.Endpoint{Kind: connector.EndpointFolder, Label: "reports (PDF) out", Value: c.PDFDir})
			}
			if c.FTP.Enabled {
				eps = append(eps, connector.Endpoint{Kind: connector.EndpointListen, Label: "FTP", Value: c.FTP.Listen})
			}
			return eps
		},
	}
}

func build(env connector.Env, s config.Section) (connector.Parts, error) {
	parts, _, err := assemble(env, s)
	return parts, err
}

// assemble builds the parts and also returns the inbound (tests ask it for
// the FTP endpoint's bound address).
func assemble(env connector.Env, s config.Section) (connector.Parts, *Inbound, error) {
	c := s.(*Config)
	o := ProfileDefaults(env.Profile)
	o.Name, o.Profile = env.Name, env.Profile.ID
	o.InboundDir = c.InboundDir
	o.DeleteProcessed = c.AfterProcess == "delete"
	cs, err := gdt.ParseCharset(c.Charset)
	if err != nil {
		return connector.Parts{}, nil, &config.KeyError{Key: Section + ".charset", Err: err}
	}
	o.Charset = cs
	if cs != gdt.CharsetAuto {
		o.ResultCharset = cs
	}
	o.QuietPeriod = c.QuietPeriod.D()
	o.MaxFileSize = int64(c.MaxFileMB) << 20
	o.Groups, o.Measurements = c.GroupMap, c.MeasurementMap
	o.ResultDir, o.PDFDir = c.ResultDir, c.PDFDir
	o.TempDir = env.TempDir
	if c.Naming == "counting" {
		o.ResultNaming = NamingCounting
	} else {
		o.ResultNaming = NamingFixed
	}
	o.EmbedPDF = c.EmbedPDF
	o.HubID, o.EHRID, o.Version = c.HubID, c.EHRID, c.Version
	if c.FTP.Enabled {
		pw, err := env.Secret(Section+".ftp.password", c.FTP.Password)
		if err != nil {
			return connector.Parts{}, nil, err
		}
		o.FTP = FTPOptions{Enabled: true, Addr: c.FTP.Listen, User: c.FTP.User, Password: pw,
			PassivePorts: c.FTP.PassivePorts, RequireTLS: c.FTP.RequireTLS, MaxConnections: c.FTP.MaxConnections}
		if c.FTP.TLS {
			cert, err := env.Certificate()
			if err != nil {
				return connector.Parts{}, nil, err
			}
			// The hub's hardened server settings: TLS 1.2+, AEAD suites only.
			o.FTP.TLSConfig = tlscert.ServerConfig(cert)
		}
	}
	in, err := NewInbound(o, env.Orders, env.Log, env.Health)
	if err != nil {
		return connector.Parts{}, nil, &config.KeyError{Key: Section, Err: err}
	}
	out, err := NewOutbound(o, env.Log, env.Health)
	if err != nil {
		return connector.Parts{}, nil, &config.KeyError{Key: Section, Err: err}
	}
	folderCheck := func(dir string) func(context.Context) connector.CheckResult {
		return func(context.Context) connector.CheckResult { return probe.Folder(dir) }
	}
	checks := []connector.Check{
		{What: "orders folder " + c.InboundDir, Run: folderCheck(c.InboundDir)},
		{What: "results folder " + c.ResultDir, Run: folderCheck(c.ResultDir)},
	}
	if c.FTP.Enabled {
		addr := c.FTP.Listen
		checks = append(checks, connector.Check{What: "FTP endpoint " + addr, Run: func(ctx context.Context) connector.CheckResult {
			return probe.TCP(ctx, probe.LocalAddr(addr))
		}})
	}
	return connector.Parts{
		Inbound:  []connector.Component{{Name: in.rep.Component(), Run: in.Run, CountsOrders: true}},
		Outbound: &connector.Outbound{Outbound: out, Label: env.Profile.Name + " (GDT files)", ResumesInterrupted: true},
		Checks:   checks,
	}, in, nil
}
