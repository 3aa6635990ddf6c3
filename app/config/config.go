// Package config loads, validates, writes and exemplifies the hub's one
// JSON configuration file.
//
// Secrets never appear in the file: every secret is a reference, either
// "keyring:NAME" (the OS keyring) or "env:VAR" (headless servers and
// tests), resolved by app/secrets at start. Validation names the key and
// the problem ("hl7.listen: port 99999 out of range") and reports every
// problem at once.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FileName is the config file's name in the OS user config dir.
const FileName = "config.json"

// Config is the whole configuration of one hub.
type Config struct {
	// EHR is the catalogue ID of the clinic's EHR (birpis, tomedo, ...).
	EHR      string         `json:"ehr"`
	Hub      HubConfig      `json:"hub"`
	Log      LogConfig      `json:"log"`
	Device   DeviceConfig   `json:"device"`
	Delivery DeliveryConfig `json:"delivery"`
	// Groups are the tablet groups the hub creates at start (the default
	// group always exists). Group maps refer to them by ID.
	Groups []GroupConfig `json:"groups,omitempty"`
	// Exactly the section of the EHR's format is set.
	HL7  *HL7Config  `json:"hl7,omitempty"`
	WEDA *WEDAConfig `json:"weda,omitempty"`
	GDT  *GDTConfig  `json:"gdt,omitempty"`
}

// HubConfig names the hub and its data folder.
type HubConfig struct {
	// Name is shown to tablets (mDNS instance name) and in the Dashboard.
	Name string `json:"name"`
	// DataDir holds the database, logs, reports, the TLS certificate and the
	// archive/ and error/ folders. Empty: the OS user data dir.
	DataDir string `json:"dataDir"`
	// Autostart starts the tray app at login.
	Autostart bool `json:"autostart"`
}

// LogConfig sets logging.
type LogConfig struct {
	Level      string `json:"level"`      // debug, info, warn, error
	MaxSizeMB  int    `json:"maxSizeMB"`  // size of one log file before it rotates
	MaxBackups int    `json:"maxBackups"` // rotated files kept
}

// DeviceConfig is the LAN endpoint tablets use.
type DeviceConfig struct {
	Listen string `json:"listen"` // host:port, default ":8443"
	// PlainHTTP serves without TLS: only for tests and broken tablets; the
	// Dashboard warns while it is on.
	PlainHTTP      bool     `json:"plainHTTP"`
	Discovery      bool     `json:"discovery"` // mDNS/DNS-SD announcement
	MaxReportMB    int      `json:"maxReportMB"`
	PairingCodeTTL Duration `json:"pairingCodeTTL"`
}

// DeliveryConfig tunes the result outbox.
type DeliveryConfig struct {
	InitialBackoff Duration `json:"initialBackoff"`
	MaxBackoff     Duration `json:"maxBackoff"`
	// Ambiguous is what happens to a send that was in flight when the hub
	// stopped: "hold" (a person decides) or "resend" (the EHR de-duplicates).
	Ambiguous string `json:"ambiguous"`
}

// GroupConfig declares a tablet group.
type GroupConfig struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Mapping is the part of an order connection that routes orders: which
// tablet group's worklist and which measurement a requested service means.
type Mapping struct {
	// GroupMap maps the EHR's service/procedure code to a tablet group ID;
	// unmapped codes go to the default group.
	GroupMap map[string]string `json:"groupMap,omitempty"`
	// MeasurementMap maps the EHR's code to the hub's measurement
	// (ECG, ABI, TBI, SPO2, BP ...); unmapped codes use built-in defaults.
	MeasurementMap map[string]string `json:"measurementMap,omitempty"`
}

// HL7Config is an HL7 v2 connection over MLLP (Birpis, Hipokrat, Iris, Isoz, NextGen).
type HL7Config struct {
	// Listen is where the EHR sends ORM^O01 orders.
	Listen string `json:"listen"`
	// Whitelist lists the addresses (CIDRs or single IPs) allowed to connect.
	Whitelist      []string `json:"whitelist"`
	MaxMessageMB   int      `json:"maxMessageMB"`
	MaxConnections int      `json:"maxConnections"`
	IdleTimeout    Duration `json:"idleTimeout"`
	// ResultHost is the EHR's host:port that receives ORU^R01 results.
	ResultHost string   `json:"resultHost"`
	AckTimeout Duration `json:"ackTimeout"`
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
	Mapping
}

// WEDAConfig is WEDA's connection: HL7 files in, HL7 over HTTP out.
type WEDAConfig struct {
	InboundDir  string   `json:"inboundDir"`
	QuietPeriod Duration `json:"quietPeriod"`
	// AfterProcess is "archive" (default) or "delete".
	AfterProcess string `json:"afterProcess"`
	ResultURL    string `json:"resultURL"`
	// TokenHeader carries the API token ("Authorization" sends "Bearer <token>").
	TokenHeader string `json:"tokenHeader"`
	// Token is a secret reference: keyring:NAME or env:VAR.
	Token       string            `json:"token"`
	Timeout     Duration          `json:"timeout"`
	SendingApp  string            `json:"sendingApp"`
	Charset     string            `json:"charset"`
	RaceMap     map[string]string `json:"raceMap,omitempty"`
	ContentType string            `json:"contentType"`
	Mapping
}

// GDTConfig is a GDT connection (Doctolib, Tomedo).
type GDTConfig struct {
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
	Naming       string   `json:"naming"`
	QuietPeriod  Duration `json:"quietPeriod"`
	AfterProcess string   `json:"afterProcess"` // archive or delete
	// EmbedPDF puts the PDF into the GDT 3.0 result as Base64 (field 6329).
	EmbedPDF  bool      `json:"embedPDF"`
	MaxFileMB int       `json:"maxFileMB"`
	FTP       FTPConfig `json:"ftp"`
	Mapping
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

// Duration is a time.Duration written as "5s", "10m" in JSON.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText writes "5s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads "5s", "1m30s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (write e.g. \"5s\", \"10m\")", string(b))
	}
	*d = Duration(v)
	return nil
}

// DefaultPath returns the config file's path in the OS user config dir.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("config: no user config folder: %w", err)
	}
	return filepath.Join(dir, "mconnect", FileName), nil
}

// DefaultDataDir returns the OS user data dir for the hub.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "mconnect")
	}
	if home, err := os.UserHomeDir(); err == nil {
		switch {
		case fileExists(filepath.Join(home, "Library")): // macOS
			return filepath.Join(home, "Library", "Application Support", "mCONNECT Hub")
		case os.Getenv("LOCALAPPDATA") != "": // Windows
			return filepath.Join(os.Getenv("LOCALAPPDATA"), "mCONNECT Hub")
		default:
			return filepath.Join(home, ".local", "share", "mconnect")
		}
	}
	return filepath.Join(os.TempDir(), "mconnect")
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// Load reads, parses and validates the config file at path. The error names
// the file, and for syntax errors the line and column; for invalid values
// every key with its problem (ValidationError).
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes and validates a config. Unknown keys are errors: a typo must
// not silently fall back to a default.
func Parse(data []byte) (*Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, describeJSONError(data, err)
	}
	if dec.More() {
		return nil, errors.New("unexpected content after the JSON object")
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func describeJSONError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := position(data, se.Offset)
		return fmt.Errorf("line %d, column %d: %v", line, col, se)
	case errors.As(err, &te):
		line, col := position(data, te.Offset)
		return fmt.Errorf("%s: line %d, column %d: expected %s, found %s", te.Field, line, col, te.Type, te.Value)
	case errors.Is(err, io.EOF):
		return errors.New("the file is empty")
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return fmt.Errorf("%s: unknown key (check its spelling against docs/CONFIG.md)", strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
	}
	return err
}

func position(data []byte, off int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < off && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// Marshal writes the config as indented JSON.
func (c *Config) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("config: encode: %w", err)
	}
	return append(b, '\n'), nil
}

// Save validates c and writes it to path atomically (temp file, fsync, rename).
func (c *Config) Save(path string) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	b, err := c.Marshal()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.tmp")
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("config %s: write: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("config %s: sync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// DataDirPath returns the data folder in use: hub.dataDir, else the OS
// user data dir.
func (c *Config) DataDirPath() string {
	if c.Hub.DataDir != "" {
		return c.Hub.DataDir
	}
	return DefaultDataDir()
}
