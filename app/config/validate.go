package config

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ValidationError lists every problem of a config, each naming its key.
type ValidationError struct {
	Problems []Problem
}

// Problem is one invalid key.
type Problem struct {
	Key     string // "hl7.listen"
	Problem string // "port 99999 out of range"
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Key + ": " + p.Problem)
	}
	return b.String()
}

// Checker collects problems, each under its full key. In returns a checker
// for a sub-key that adds to the same list.
type Checker struct {
	prefix string
	probs  *[]Problem
	groups map[string]bool
}

// NewChecker returns an empty checker.
func NewChecker() *Checker {
	return &Checker{probs: &[]Problem{}, groups: map[string]bool{"default": true}}
}

// In returns a checker whose keys are below key ("hl7" → "hl7.listen").
func (c *Checker) In(key string) *Checker {
	return &Checker{prefix: c.key(key), probs: c.probs, groups: c.groups}
}

func (c *Checker) key(k string) string {
	switch {
	case c.prefix == "":
		return k
	case k == "":
		return c.prefix
	case strings.HasPrefix(k, "["):
		return c.prefix + k
	}
	return c.prefix + "." + k
}

// Add records a problem of key.
func (c *Checker) Add(key, format string, args ...any) {
	*c.probs = append(*c.probs, Problem{Key: c.key(key), Problem: fmt.Sprintf(format, args...)})
}

// Problems returns what was found so far.
func (c *Checker) Problems() []Problem { return append([]Problem(nil), *c.probs...) }

// Err returns a *ValidationError with the problems, or nil.
func (c *Checker) Err() error {
	if len(*c.probs) == 0 {
		return nil
	}
	return &ValidationError{Problems: c.Problems()}
}

// ApplyDefaults fills empty values with the defaults; the EHR's section gets
// its profile's defaults for what is left empty.
func (c *Config) ApplyDefaults() {
	if c.Hub.Name == "" {
		c.Hub.Name = "mCONNECT Hub"
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.MaxSizeMB == 0 {
		c.Log.MaxSizeMB = 20
	}
	if c.Log.MaxBackups == 0 {
		c.Log.MaxBackups = 10
	}
	if c.Device.Listen == "" {
		c.Device.Listen = ":8443"
	}
	if c.Device.MaxReportMB == 0 {
		c.Device.MaxReportMB = 50
	}
	if c.Device.PairingCodeTTL == 0 {
		c.Device.PairingCodeTTL = Duration(10 * time.Minute)
	}
	if c.Delivery.InitialBackoff == 0 {
		c.Delivery.InitialBackoff = Duration(5 * time.Second)
	}
	if c.Delivery.MaxBackoff == 0 {
		c.Delivery.MaxBackoff = Duration(10 * time.Minute)
	}
	if c.Delivery.Ambiguous == "" {
		c.Delivery.Ambiguous = "hold"
	}
	if c.Update.Feed == "" {
		c.Update.Feed = DefaultUpdateFeed
	}
	if c.Update.Check == nil {
		on := true
		c.Update.Check = &on
	}
	c.Retention.applyDefaults()
	for _, sec := range c.Sections {
		sec.ApplyDefaults()
	}
}

// Validate checks every key and returns a *ValidationError listing all problems.
func (c *Config) Validate(schema Schema) error {
	ck := NewChecker()
	if strings.TrimSpace(c.EHR) == "" {
		ck.Add("ehr", "must name the clinic's EHR (one of the IDs that `mconnect config example --help` lists)")
	}
	if strings.TrimSpace(c.Hub.Name) == "" {
		ck.Add("hub.name", "must not be empty")
	}
	if c.Hub.DataDir != "" && !filepath.IsAbs(c.Hub.DataDir) {
		ck.Add("hub.dataDir", "%q must be an absolute path", c.Hub.DataDir)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "warning", "error":
	default:
		ck.Add("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	if c.Log.MaxSizeMB < 1 || c.Log.MaxSizeMB > 1024 {
		ck.Add("log.maxSizeMB", "%d out of range 1..1024", c.Log.MaxSizeMB)
	}
	if c.Log.MaxBackups < 1 || c.Log.MaxBackups > 1000 {
		ck.Add("log.maxBackups", "%d out of range 1..1000", c.Log.MaxBackups)
	}
	ck.HostPort("device.listen", c.Device.Listen, true)
	if c.Device.MaxReportMB < 1 || c.Device.MaxReportMB > 1024 {
		ck.Add("device.maxReportMB", "%d out of range 1..1024", c.Device.MaxReportMB)
	}
	if d := c.Device.PairingCodeTTL.D(); d < time.Minute || d > 24*time.Hour {
		ck.Add("device.pairingCodeTTL", "%s out of range 1m..24h", d)
	}
	if n := c.Device.MaxConnections; n != 0 && (n < 16 || n > 8192) {
		ck.Add("device.maxConnections", "%d out of range 16..8192 (0: the default, 512)", n)
	}
	if n := c.Device.MaxConnectionsPerIP; n != 0 && (n < 1 || n > 1024) {
		ck.Add("device.maxConnectionsPerIP", "%d out of range 1..1024 (0: the default, 16)", n)
	} else if m := c.Device.MaxConnections; n != 0 && m != 0 && n > m {
		ck.Add("device.maxConnectionsPerIP", "%d is more than device.maxConnections (%d)", n, m)
	}
	if d := c.Device.FirstRequestTimeout.D(); d != 0 && (d < time.Second || d > 5*time.Minute) {
		ck.Add("device.firstRequestTimeout", "%s out of range 1s..5m (0: the default, 10s)", d)
	}
	if n := c.Device.MaxWorklist; n != 0 && (n < 10 || n > 10000) {
		ck.Add("device.maxWorklist", "%d out of range 10..10000 (0: the default, 500)", n)
	}
	if c.Delivery.InitialBackoff.D() < 100*time.Millisecond {
		ck.Add("delivery.initialBackoff", "%s is shorter than 100ms", c.Delivery.InitialBackoff.D())
	}
	if c.Delivery.MaxBackoff.D() < c.Delivery.InitialBackoff.D() {
		ck.Add("delivery.maxBackoff", "%s is shorter than delivery.initialBackoff", c.Delivery.MaxBackoff.D())
	}
	if c.Delivery.Ambiguous != "hold" && c.Delivery.Ambiguous != "resend" {
		ck.Add("delivery.ambiguous", "%q is not hold or resend", c.Delivery.Ambiguous)
	}
	if u, err := url.Parse(c.Update.Feed); c.Update.Feed != "" && (err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil) {
		ck.Add("update.feed", "%q is not an https address", c.Update.Feed)
	}
	c.Retention.validate(ck)
	groupIDs := map[string]bool{"default": true}
	for i, g := range c.Groups {
		key := fmt.Sprintf("groups[%d]", i)
		if !idRE.MatchString(g.ID) {
			ck.Add(key+".id", "%q must be 1-40 letters, digits, '-' or '_'", g.ID)
		}
		if groupIDs[g.ID] {
			ck.Add(key+".id", "%q is declared twice (or is the built-in default group)", g.ID)
		}
		groupIDs[g.ID] = true
		if strings.TrimSpace(g.Name) == "" {
			ck.Add(key+".name", "must not be empty")
		}
	}
	ck.groups = groupIDs
	if schema != nil {
		if _, err := schema.SectionsFor(c.EHR); err != nil {
			ck.Add("ehr", "%v", err)
		} else {
			c.validateSections(schema, ck)
		}
	}
	if len(*ck.probs) > 0 {
		return &ValidationError{Problems: *ck.probs}
	}
	return nil
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

// PortRange checks "lo-hi" within 1024-65535.
func (ck *Checker) PortRange(key, v string) {
	if !portRangeRE.MatchString(v) {
		ck.Add(key, "%q is not a port range like 30000-30009", v)
		return
	}
	parts := strings.SplitN(v, "-", 2)
	lo, _ := strconv.Atoi(parts[0])
	hi, _ := strconv.Atoi(parts[1])
	if lo < 1024 || hi > 65535 || lo > hi {
		ck.Add(key, "%q out of range 1024-65535 or reversed", v)
	}
}

var portRangeRE = regexp.MustCompile(`^\d{1,5}-\d{1,5}$`)

// HostPort checks a host:port; listen addresses may omit the host.
func (ck *Checker) HostPort(key, v string, listen bool) {
	if v == "" {
		ck.Add(key, "must not be empty (host:port)")
		return
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		ck.Add(key, "%q is not host:port", v)
		return
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		ck.Add(key, "port %q is not a number", port)
		return
	}
	if p < 1 || p > 65535 {
		ck.Add(key, "port %d out of range", p)
		return
	}
	if !listen && host == "" {
		ck.Add(key, "%q has no host", v)
	}
}

// RangeInt checks lo <= v <= hi.
func (ck *Checker) RangeInt(key string, v, lo, hi int) {
	if v < lo || v > hi {
		ck.Add(key, "%d out of range %d..%d", v, lo, hi)
	}
}

// RangeDur checks lo <= v <= hi.
func (ck *Checker) RangeDur(key string, v, lo, hi time.Duration) {
	if v < lo || v > hi {
		ck.Add(key, "%s out of range %s..%s", v, lo, hi)
	}
}

// Dir checks an absolute folder path.
func (ck *Checker) Dir(key, v string) {
	if v == "" {
		ck.Add(key, "must not be empty (a folder)")
	} else if !filepath.IsAbs(v) {
		ck.Add(key, "%q must be an absolute path", v)
	}
}

// AfterProcess checks "archive" or "delete".
func (ck *Checker) AfterProcess(key, v string) {
	if v != "archive" && v != "delete" {
		ck.Add(key, "%q is not archive or delete", v)
	}
}

// URL checks an http(s) URL.
func (ck *Checker) URL(key, v string) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		ck.Add(key, "%q is not an http(s) URL", v)
	}
}

// SecretRef accepts only references, never a secret itself.
func (ck *Checker) SecretRef(key, v string) {
	switch {
	case v == "":
		ck.Add(key, "must not be empty: write keyring:NAME (stored with `mconnect secret set NAME`) or env:VAR")
	case strings.HasPrefix(v, "keyring:") && len(v) > len("keyring:"):
	case strings.HasPrefix(v, "env:") && len(v) > len("env:"):
	default:
		ck.Add(key, "must be a reference keyring:NAME or env:VAR; secrets themselves never go into the config file")
	}
}

// CharsetHL7 checks an MSH-18 character set name.
func (ck *Checker) CharsetHL7(key, v string) {
	switch strings.ToUpper(v) {
	case "", "UNICODE UTF-8", "UTF-8", "8859/1", "8859/2", "WINDOWS-1250", "CP1250", "ASCII":
	default:
		ck.Add(key, "%q is not one of UNICODE UTF-8, 8859/1, 8859/2, WINDOWS-1250 (or empty: answer in the order's charset)", v)
	}
}

// Mapping checks that every group map names a declared group.
func (ck *Checker) Mapping(m Mapping) {
	for code, g := range m.GroupMap {
		if !ck.groups[g] {
			ck.Add(fmt.Sprintf("groupMap[%s]", code), "group %q is not declared in groups", g)
		}
	}
	for code, meas := range m.MeasurementMap {
		if strings.TrimSpace(meas) == "" {
			ck.Add(fmt.Sprintf("measurementMap[%s]", code), "must not be empty")
		}
	}
}

// Addresses checks a list of IP addresses or CIDRs.
func (ck *Checker) Addresses(key string, list []string) {
	for i, w := range list {
		if !validCIDROrIP(w) {
			ck.Add(fmt.Sprintf("%s[%d]", key, i), "%q is not an IP address or CIDR", w)
		}
	}
}

func validCIDROrIP(s string) bool {
	if _, _, err := net.ParseCIDR(s); err == nil {
		return true
	}
	return net.ParseIP(s) != nil
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

func (r *RetentionConfig) applyDefaults() {
	setInt := func(p **int, v int) {
		if *p == nil {
			*p = &v
		}
	}
	setInt(&r.OrdersDays, DefaultOrdersDays)
	setInt(&r.ResultsDays, DefaultResultsDays)
	setInt(&r.ArchiveDays, DefaultArchiveDays)
	setInt(&r.LowDiskMB, DefaultLowDiskMB)
	if r.LowDiskPercent == nil {
		v := DefaultLowDiskPercent
		r.LowDiskPercent = &v
	}
	if r.BatchSize == 0 {
		r.BatchSize = DefaultBatchSize
	}
}

func (r *RetentionConfig) validate(ck *Checker) {
	for _, d := range []struct {
		key string
		v   *int
	}{{"retention.ordersDays", r.OrdersDays}, {"retention.resultsDays", r.ResultsDays}, {"retention.archiveDays", r.ArchiveDays}} {
		if d.v != nil && (*d.v < 0 || *d.v > 36500) {
			ck.Add(d.key, "%d out of range 0..36500 (0 keeps for ever)", *d.v)
		}
	}
	if r.BatchSize < 0 || r.BatchSize > 10000 {
		ck.Add("retention.batchSize", "%d out of range 1..10000", r.BatchSize)
	}
	if r.LowDiskMB != nil && (*r.LowDiskMB < 0 || *r.LowDiskMB > 1<<20) {
		ck.Add("retention.lowDiskMB", "%d out of range 0..1048576 (0 leaves it out)", *r.LowDiskMB)
	}
	if r.LowDiskPercent != nil && (*r.LowDiskPercent < 0 || *r.LowDiskPercent > 50) {
		ck.Add("retention.lowDiskPercent", "%g out of range 0..50 (0 leaves it out)", *r.LowDiskPercent)
	}
}
