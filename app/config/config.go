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
	"runtime"
	"sort"
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
	Update   UpdateConfig   `json:"update"`

	// Retention is how long finished data is kept and when the disk is low.
	Retention RetentionConfig `json:"retention"`
	// Groups are the tablet groups the hub creates at start (the default
	// group always exists). Group maps refer to them by ID.
	Groups []GroupConfig `json:"groups,omitempty"`
	// Sections are the connectors' own sections, by top-level key ("hl7",
	// "gdt", ...): exactly those the EHR's profile uses. Each connector
	// package owns its section's type, defaults, validation and example.
	Sections map[string]Section `json:"-"`
}

// HubConfig names the hub and its data folder.
type HubConfig struct {
	// Name is shown to tablets (mDNS instance name) and in the Dashboard.
	Name string `json:"name"`
	// DataDir holds the database, logs, reports, the TLS certificate and the
	// archive/ and error/ folders. Empty: the OS user data dir.
	DataDir string `json:"dataDir"`
	// LegacyAutostart is read from configs of earlier versions, which wrote
	// a hub.autostart key that nothing used; it is ignored and not written
	// back (autostart at login is the OS's own setting).
	LegacyAutostart *bool `json:"autostart,omitempty"`
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
	// Limits of the endpoint; zero means the endpoint's default
	// (docs/CONFIG.md): connections held open at once, and from one
	// address; how long a connection may wait before its first request;
	// the appointments one worklist answer lists.
	MaxConnections      int      `json:"maxConnections,omitempty"`
	MaxConnectionsPerIP int      `json:"maxConnectionsPerIP,omitempty"`
	FirstRequestTimeout Duration `json:"firstRequestTimeout,omitempty"`
	MaxWorklist         int      `json:"maxWorklist,omitempty"`
}

// DeliveryConfig tunes the result outbox.
type DeliveryConfig struct {
	InitialBackoff Duration `json:"initialBackoff"`
	MaxBackoff     Duration `json:"maxBackoff"`
	// Ambiguous is what happens to a send that was in flight when the hub
	// stopped: "hold" (a person decides) or "resend" (the EHR de-duplicates).
	Ambiguous string `json:"ambiguous"`
}

// DefaultUpdateFeed is the update feed asked when update.feed is empty.
const DefaultUpdateFeed = "https://updates.mesimedical.com/mconnect-hub/feed.json"

// UpdateConfig sets the update notices (app/update): the hub asks the feed
// at most once a day and shows a newer signed version; it never installs.
type UpdateConfig struct {
	// Feed is the https address of the signed update feed.
	Feed string `json:"feed"`
	// Check turns the daily check on (default) or off.
	Check *bool `json:"check,omitempty"`
}

// Enabled says whether the hub asks the update feed.
func (u UpdateConfig) Enabled() bool { return u.Check == nil || *u.Check }

// RetentionConfig is what the daily sweep deletes (app/retention) and the
// free-space warning. An age of 0 days keeps that kind for ever; an absent
// key takes the default.
type RetentionConfig struct {
	// OrdersDays: done, cancelled and deleted orders, after their last
	// change (an order stays while a result of it is kept).
	OrdersDays *int `json:"ordersDays,omitempty"`
	// ResultsDays: results whose every delivery is delivered (or cancelled
	// by a person), with their PDF reports, after they arrived. Results
	// whose delivery failed or is ambiguous are never deleted.
	ResultsDays *int `json:"resultsDays,omitempty"`
	// ArchiveDays: files in the exchange folders' archive/.
	ArchiveDays *int `json:"archiveDays,omitempty"`
	// BatchSize is the most rows one database transaction of the sweep
	// looks at.
	BatchSize int `json:"batchSize,omitempty"`
	// LowDiskMB and LowDiskPercent: the disk of the data folder is low when
	// its free space is below both; 0 leaves that bound out.
	LowDiskMB      *int     `json:"lowDiskMB,omitempty"`
	LowDiskPercent *float64 `json:"lowDiskPercent,omitempty"`
}

// Retention defaults.
const (
	DefaultOrdersDays     = 90
	DefaultResultsDays    = 90
	DefaultArchiveDays    = 30
	DefaultBatchSize      = 500
	DefaultLowDiskMB      = 2048
	DefaultLowDiskPercent = 5.0
)

// Days returns *p, or def when p is nil.
func Days(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// GroupConfig declares a tablet group.
type GroupConfig struct {
	ID   string `json:"id"`
	Name string `json:"name"`
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

// DefaultPath returns the config file's one default path, in the OS user
// config folder (os.UserConfigDir): ~/.config/mconnect/config.json on Linux
// ($XDG_CONFIG_HOME/mconnect when set), ~/Library/Application
// Support/mconnect/config.json on macOS, %AppData%\mconnect\config.json on
// Windows. Every command without --config and the desktop read this file.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("config: no user config folder: %w", err)
	}
	return filepath.Join(dir, "mconnect", FileName), nil
}

// DefaultDataDir returns the OS user data folder for the hub, used when
// hub.dataDir is empty and by `config example` without --data:
// $XDG_DATA_HOME/mconnect (default ~/.local/share/mconnect) on Linux and
// the BSDs, ~/Library/Application Support/mCONNECT Hub on macOS,
// %LOCALAPPDATA%\mCONNECT Hub on Windows.
func DefaultDataDir() string {
	home, herr := os.UserHomeDir()
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "mCONNECT Hub")
		}
		if herr == nil {
			return filepath.Join(home, "AppData", "Local", "mCONNECT Hub")
		}
	case "darwin", "ios":
		if herr == nil {
			return filepath.Join(home, "Library", "Application Support", "mCONNECT Hub")
		}
	default:
		// A relative XDG_DATA_HOME is invalid and ignored (XDG Base Directory).
		if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
			return filepath.Join(d, "mconnect")
		}
		if herr == nil {
			return filepath.Join(home, ".local", "share", "mconnect")
		}
	}
	return filepath.Join(os.TempDir(), "mconnect")
}

// Load reads, parses and validates the config file at path, decoding the
// connector sections through schema. The error names the file, and for
// syntax errors the line and column; for invalid values every key with its
// problem (ValidationError).
func Load(path string, schema Schema) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c, err := Parse(data, schema)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes and validates a config. Unknown keys are errors: a typo must
// not silently fall back to a default. A top-level key that is no core key
// is a connector section, decoded by schema.
func Parse(data []byte, schema Schema) (*Config, error) {
	c, err := decode(data, schema)
	if err != nil {
		return nil, err
	}
	c.ApplyDefaults()
	if err := c.Validate(schema); err != nil {
		return nil, err
	}
	return c, nil
}

func describeJSONError(data []byte, base int64, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := position(data, base+se.Offset)
		return fmt.Errorf("line %d, column %d: %v", line, col, se)
	case errors.As(err, &te):
		line, col := position(data, base+te.Offset)
		return fmt.Errorf("%s: line %d, column %d: expected %s, found %s", te.Field, line, col, te.Type, te.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		if base == 0 && len(bytes.TrimSpace(data)) == 0 {
			return errors.New("the file is empty")
		}
		return errors.New("the file ends in the middle of the JSON object")
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

// Marshal writes the config as indented JSON, the core keys first and then
// the connector sections in key order.
func (c *Config) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("config: encode: %w", err)
	}
	return append(b, '\n'), nil
}

// MarshalJSON writes the core keys and the sections as one object.
func (c Config) MarshalJSON() ([]byte, error) {
	type core Config
	b, err := json.Marshal(core(c))
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(c.Sections))
	for k := range c.Sections {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1])
	for _, k := range keys {
		v, err := json.Marshal(c.Sections[k])
		if err != nil {
			return nil, fmt.Errorf("section %s: %w", k, err)
		}
		kb, _ := json.Marshal(k)
		buf.WriteByte(',')
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// Save validates c and writes it to path atomically (temp file, fsync, rename).
func (c *Config) Save(path string, schema Schema) error {
	if err := c.Validate(schema); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	b, err := c.Marshal()
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(path, b); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// folder (fsync, rename), so that a reader sees the old or the new file,
// never half of one.
func WriteFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// DataDirPath returns the data folder in use: hub.dataDir, else the OS
// user data dir.
func (c *Config) DataDirPath() string {
	if c.Hub.DataDir != "" {
		return c.Hub.DataDir
	}
	return DefaultDataDir()
}

// Core returns the core of a new config for the EHR (no sections), with
// the data folder dataDir and every default applied.
func Core(ehr, dataDir string) *Config {
	c := &Config{
		EHR: ehr,
		Hub: HubConfig{Name: "mCONNECT Hub", DataDir: dataDir},
		Device: DeviceConfig{
			Listen:         ":8443",
			MaxReportMB:    50,
			PairingCodeTTL: Duration(10 * time.Minute),
		},
	}
	c.ApplyDefaults()
	return c
}
