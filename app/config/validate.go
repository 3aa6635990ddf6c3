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

	"github.com/mesi/mconnect/connectors/catalogue"
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

type checker struct{ probs []Problem }

func (c *checker) add(key, format string, args ...any) {
	c.probs = append(c.probs, Problem{Key: key, Problem: fmt.Sprintf(format, args...)})
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
	if h := c.HL7; h != nil {
		if h.MaxMessageMB == 0 {
			h.MaxMessageMB = 50
		}
		if h.MaxConnections == 0 {
			h.MaxConnections = 16
		}
		if h.IdleTimeout == 0 {
			h.IdleTimeout = Duration(5 * time.Minute)
		}
		if h.AckTimeout == 0 {
			h.AckTimeout = Duration(30 * time.Second)
		}
		if h.SendingApp == "" {
			h.SendingApp = "MCONNECT"
		}
	}
	if w := c.WEDA; w != nil {
		if w.QuietPeriod == 0 {
			w.QuietPeriod = Duration(2 * time.Second)
		}
		if w.AfterProcess == "" {
			w.AfterProcess = "archive"
		}
		if w.TokenHeader == "" {
			w.TokenHeader = "Authorization"
		}
		if w.Timeout == 0 {
			w.Timeout = Duration(30 * time.Second)
		}
		if w.SendingApp == "" {
			w.SendingApp = "MCONNECT"
		}
		if w.ContentType == "" {
			w.ContentType = "application/hl7-v2"
		}
	}
	if g := c.GDT; g != nil {
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
			g.QuietPeriod = Duration(2 * time.Second)
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
}

// Validate checks every key and returns a *ValidationError listing all problems.
func (c *Config) Validate() error {
	var ck checker
	prof, err := catalogue.Lookup(c.EHR)
	if err != nil {
		ck.add("ehr", "%v", err)
	}
	if strings.TrimSpace(c.Hub.Name) == "" {
		ck.add("hub.name", "must not be empty")
	}
	if c.Hub.DataDir != "" && !filepath.IsAbs(c.Hub.DataDir) {
		ck.add("hub.dataDir", "%q must be an absolute path", c.Hub.DataDir)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "warning", "error":
	default:
		ck.add("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	if c.Log.MaxSizeMB < 1 || c.Log.MaxSizeMB > 1024 {
		ck.add("log.maxSizeMB", "%d out of range 1..1024", c.Log.MaxSizeMB)
	}
	if c.Log.MaxBackups < 1 || c.Log.MaxBackups > 1000 {
		ck.add("log.maxBackups", "%d out of range 1..1000", c.Log.MaxBackups)
	}
	ck.hostPort("device.listen", c.Device.Listen, true)
	if c.Device.MaxReportMB < 1 || c.Device.MaxReportMB > 1024 {
		ck.add("device.maxReportMB", "%d out of range 1..1024", c.Device.MaxReportMB)
	}
	if d := c.Device.PairingCodeTTL.D(); d < time.Minute || d > 24*time.Hour {
		ck.add("device.pairingCodeTTL", "%s out of range 1m..24h", d)
	}
	if c.Delivery.InitialBackoff.D() < 100*time.Millisecond {
		ck.add("delivery.initialBackoff", "%s is shorter than 100ms", c.Delivery.InitialBackoff.D())
	}
	if c.Delivery.MaxBackoff.D() < c.Delivery.InitialBackoff.D() {
		ck.add("delivery.maxBackoff", "%s is shorter than delivery.initialBackoff", c.Delivery.MaxBackoff.D())
	}
	if c.Delivery.Ambiguous != "hold" && c.Delivery.Ambiguous != "resend" {
		ck.add("delivery.ambiguous", "%q is not hold or resend", c.Delivery.Ambiguous)
	}
	groupIDs := map[string]bool{"default": true}
	for i, g := range c.Groups {
		key := fmt.Sprintf("groups[%d]", i)
		if !idRE.MatchString(g.ID) {
			ck.add(key+".id", "%q must be 1-40 letters, digits, '-' or '_'", g.ID)
		}
		if groupIDs[g.ID] {
			ck.add(key+".id", "%q is declared twice (or is the built-in default group)", g.ID)
		}
		groupIDs[g.ID] = true
		if strings.TrimSpace(g.Name) == "" {
			ck.add(key+".name", "must not be empty")
		}
	}
	if err == nil {
		ck.sections(c, prof, groupIDs)
	}
	if len(ck.probs) > 0 {
		return &ValidationError{Problems: ck.probs}
	}
	return nil
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

func (ck *checker) sections(c *Config, prof catalogue.Profile, groups map[string]bool) {
	want := map[string]bool{}
	switch prof.Inbound {
	case catalogue.InMLLP:
		want["hl7"] = true
	case catalogue.InHL7Files:
		want["weda"] = true
	case catalogue.InGDTFiles:
		want["gdt"] = true
	}
	has := map[string]bool{"hl7": c.HL7 != nil, "weda": c.WEDA != nil, "gdt": c.GDT != nil}
	for _, s := range []string{"hl7", "weda", "gdt"} {
		switch {
		case want[s] && !has[s]:
			ck.add(s, "missing: the %s connection needs it (see `mconnect config example --ehr %s`)", prof.Name, prof.ID)
		case !want[s] && has[s]:
			ck.add(s, "not used by %s (%s); remove it", prof.Name, prof.Format)
		}
	}
	if h := c.HL7; h != nil {
		ck.hostPort("hl7.listen", h.Listen, true)
		if len(h.Whitelist) == 0 {
			ck.add("hl7.whitelist", "empty: no EHR could connect; list the EHR's address (e.g. \"192.168.1.20\" or \"192.168.1.0/24\")")
		}
		for i, w := range h.Whitelist {
			if !validCIDROrIP(w) {
				ck.add(fmt.Sprintf("hl7.whitelist[%d]", i), "%q is not an IP address or CIDR", w)
			}
		}
		ck.rangeInt("hl7.maxMessageMB", h.MaxMessageMB, 1, 512)
		ck.rangeInt("hl7.maxConnections", h.MaxConnections, 1, 1024)
		ck.rangeDur("hl7.idleTimeout", h.IdleTimeout.D(), time.Second, 24*time.Hour)
		ck.hostPort("hl7.resultHost", h.ResultHost, false)
		ck.rangeDur("hl7.ackTimeout", h.AckTimeout.D(), time.Second, 10*time.Minute)
		ck.charsetHL7("hl7.charset", h.Charset)
		ck.mapping("hl7", h.Mapping, groups)
	}
	if w := c.WEDA; w != nil {
		ck.dir("weda.inboundDir", w.InboundDir)
		ck.rangeDur("weda.quietPeriod", w.QuietPeriod.D(), 100*time.Millisecond, time.Hour)
		ck.afterProcess("weda.afterProcess", w.AfterProcess)
		ck.url("weda.resultURL", w.ResultURL)
		ck.secretRef("weda.token", w.Token)
		if strings.TrimSpace(w.TokenHeader) == "" || strings.ContainsAny(w.TokenHeader, " :\r\n") {
			ck.add("weda.tokenHeader", "%q is not an HTTP header name", w.TokenHeader)
		}
		ck.rangeDur("weda.timeout", w.Timeout.D(), time.Second, 10*time.Minute)
		ck.charsetHL7("weda.charset", w.Charset)
		ck.mapping("weda", w.Mapping, groups)
	}
	if g := c.GDT; g != nil {
		ck.dir("gdt.inboundDir", g.InboundDir)
		ck.dir("gdt.resultDir", g.ResultDir)
		ck.dir("gdt.pdfDir", g.PDFDir)
		for _, kv := range [][2]string{{"gdt.ehrId", g.EHRID}, {"gdt.hubId", g.HubID}} {
			if kv[1] == "" || len(kv[1]) > 8 {
				ck.add(kv[0], "%q must be 1-8 characters (GDT IDs 8315/8316)", kv[1])
			}
		}
		if g.Version != "02.10" && g.Version != "03.00" {
			ck.add("gdt.version", "%q is not 02.10 or 03.00", g.Version)
		}
		switch g.Charset {
		case "auto", "cp437", "windows-1252", "iso-8859-1", "iso-8859-15", "din66003", "utf-8":
		default:
			ck.add("gdt.charset", "%q is not one of auto, cp437, windows-1252, iso-8859-1, iso-8859-15, din66003, utf-8", g.Charset)
		}
		if g.Naming != "fixed" && g.Naming != "counting" {
			ck.add("gdt.naming", "%q is not fixed or counting", g.Naming)
		}
		ck.rangeDur("gdt.quietPeriod", g.QuietPeriod.D(), 100*time.Millisecond, time.Hour)
		ck.afterProcess("gdt.afterProcess", g.AfterProcess)
		ck.rangeInt("gdt.maxFileMB", g.MaxFileMB, 1, 1024)
		if g.EmbedPDF && g.Version != "03.00" {
			ck.add("gdt.embedPDF", "needs gdt.version 03.00 (GDT 2.1 has no field for embedded files)")
		}
		if g.FTP.Enabled {
			ck.hostPort("gdt.ftp.listen", g.FTP.Listen, true)
			if g.FTP.User == "" {
				ck.add("gdt.ftp.user", "must not be empty when the FTP endpoint is enabled")
			}
			ck.secretRef("gdt.ftp.password", g.FTP.Password)
			if !portRangeRE.MatchString(g.FTP.PassivePorts) {
				ck.add("gdt.ftp.passivePorts", "%q is not a port range like 30000-30009", g.FTP.PassivePorts)
			} else {
				parts := strings.SplitN(g.FTP.PassivePorts, "-", 2)
				lo, _ := strconv.Atoi(parts[0])
				hi, _ := strconv.Atoi(parts[1])
				if lo < 1024 || hi > 65535 || lo > hi {
					ck.add("gdt.ftp.passivePorts", "%q out of range 1024-65535 or reversed", g.FTP.PassivePorts)
				}
			}
			if g.FTP.RequireTLS && !g.FTP.TLS {
				ck.add("gdt.ftp.requireTLS", "needs gdt.ftp.tls")
			}
			ck.rangeInt("gdt.ftp.maxConnections", g.FTP.MaxConnections, 1, 256)
		}
		ck.mapping("gdt", g.Mapping, groups)
	}
}

var portRangeRE = regexp.MustCompile(`^\d{1,5}-\d{1,5}$`)

func (ck *checker) hostPort(key, v string, listen bool) {
	if v == "" {
		ck.add(key, "must not be empty (host:port)")
		return
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		ck.add(key, "%q is not host:port", v)
		return
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		ck.add(key, "port %q is not a number", port)
		return
	}
	if p < 1 || p > 65535 {
		ck.add(key, "port %d out of range", p)
		return
	}
	if !listen && host == "" {
		ck.add(key, "%q has no host", v)
	}
}

func (ck *checker) rangeInt(key string, v, lo, hi int) {
	if v < lo || v > hi {
		ck.add(key, "%d out of range %d..%d", v, lo, hi)
	}
}

func (ck *checker) rangeDur(key string, v, lo, hi time.Duration) {
	if v < lo || v > hi {
		ck.add(key, "%s out of range %s..%s", v, lo, hi)
	}
}

func (ck *checker) dir(key, v string) {
	if v == "" {
		ck.add(key, "must not be empty (a folder)")
	} else if !filepath.IsAbs(v) {
		ck.add(key, "%q must be an absolute path", v)
	}
}

func (ck *checker) afterProcess(key, v string) {
	if v != "archive" && v != "delete" {
		ck.add(key, "%q is not archive or delete", v)
	}
}

func (ck *checker) url(key, v string) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		ck.add(key, "%q is not an http(s) URL", v)
	}
}

// secretRef accepts only references, never a secret itself.
func (ck *checker) secretRef(key, v string) {
	switch {
	case v == "":
		ck.add(key, "must not be empty: write keyring:NAME (stored with `mconnect secret set NAME`) or env:VAR")
	case strings.HasPrefix(v, "keyring:") && len(v) > len("keyring:"):
	case strings.HasPrefix(v, "env:") && len(v) > len("env:"):
	default:
		ck.add(key, "must be a reference keyring:NAME or env:VAR; secrets themselves never go into the config file")
	}
}

func (ck *checker) charsetHL7(key, v string) {
	switch strings.ToUpper(v) {
	case "", "UNICODE UTF-8", "UTF-8", "8859/1", "8859/2", "WINDOWS-1250", "CP1250", "ASCII":
	default:
		ck.add(key, "%q is not one of UNICODE UTF-8, 8859/1, 8859/2, WINDOWS-1250 (or empty: answer in the order's charset)", v)
	}
}

func (ck *checker) mapping(sec string, m Mapping, groups map[string]bool) {
	for code, g := range m.GroupMap {
		if !groups[g] {
			ck.add(fmt.Sprintf("%s.groupMap[%s]", sec, code), "group %q is not declared in groups", g)
		}
	}
	for code, meas := range m.MeasurementMap {
		if strings.TrimSpace(meas) == "" {
			ck.add(fmt.Sprintf("%s.measurementMap[%s]", sec, code), "must not be empty")
		}
	}
}

func validCIDROrIP(s string) bool {
	if _, _, err := net.ParseCIDR(s); err == nil {
		return true
	}
	return net.ParseIP(s) != nil
}
