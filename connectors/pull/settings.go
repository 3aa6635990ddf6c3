package pull

import (
	"net"
	"net/url"
	"time"

	"github.com/mesi/mconnect/app/config"
)

// Settings are the config keys every pull connection has (they sit in the
// connection's own section: "halo", "leyr").
type Settings struct {
	// WindowBefore and WindowAfter span the appointments asked for around
	// now (default 2h before, 12h after).
	WindowBefore config.Duration `json:"windowBefore"`
	WindowAfter  config.Duration `json:"windowAfter"`
	// MinInterval is how long one answer serves every request (default
	// 15s); PollInterval how often the EHR is asked again while tablets
	// wait for changes (default 30s); Timeout bounds one upstream call
	// (default 8s).
	MinInterval  config.Duration `json:"minInterval"`
	PollInterval config.Duration `json:"pollInterval"`
	Timeout      config.Duration `json:"timeout"`
	// MaxAnswerMB bounds one answer (default 16).
	MaxAnswerMB int `json:"maxAnswerMB"`
	// TimeZone is the practice's IANA time zone for times the EHR gives
	// without one ("Australia/Sydney"; empty: the computer's own).
	TimeZone string `json:"timeZone"`
	Routing
}

// ApplyDefaults fills empty values.
func (s *Settings) ApplyDefaults() {
	def := func(d *config.Duration, v time.Duration) {
		if *d == 0 {
			*d = config.Duration(v)
		}
	}
	def(&s.WindowBefore, 2*time.Hour)
	def(&s.WindowAfter, 12*time.Hour)
	def(&s.MinInterval, 15*time.Second)
	def(&s.PollInterval, 30*time.Second)
	def(&s.Timeout, 8*time.Second)
	if s.MaxAnswerMB == 0 {
		s.MaxAnswerMB = 16
	}
	s.Routing.ApplyDefaults()
}

// Validate reports every invalid key.
func (s *Settings) Validate(ck *config.Checker) {
	ck.RangeDur("windowBefore", s.WindowBefore.D(), 0, 7*24*time.Hour)
	ck.RangeDur("windowAfter", s.WindowAfter.D(), time.Minute, 7*24*time.Hour)
	ck.RangeDur("minInterval", s.MinInterval.D(), time.Second, time.Hour)
	ck.RangeDur("pollInterval", s.PollInterval.D(), 5*time.Second, time.Hour)
	ck.RangeDur("timeout", s.Timeout.D(), time.Second, 2*time.Minute)
	ck.RangeInt("maxAnswerMB", s.MaxAnswerMB, 1, 256)
	if _, err := s.Location(); err != nil {
		ck.Add("timeZone", "%q is not an IANA time zone (e.g. Australia/Sydney, Europe/Stockholm)", s.TimeZone)
	}
	s.Routing.Validate(ck)
}

// Location returns the practice's time zone.
func (s *Settings) Location() (*time.Location, error) {
	if s.TimeZone == "" {
		return time.Local, nil
	}
	return time.LoadLocation(s.TimeZone)
}

// MaxAnswer is MaxAnswerMB in bytes.
func (s *Settings) MaxAnswer() int64 { return int64(s.MaxAnswerMB) << 20 }

// Options returns the Source options of the settings for connection.
func (s *Settings) Options(connection, ehr string) Options {
	return Options{
		Connection: connection, EHR: ehr,
		Before: s.WindowBefore.D(), After: s.WindowAfter.D(),
		MinInterval: s.MinInterval.D(), PollInterval: s.PollInterval.D(), Timeout: s.Timeout.D(),
	}
}

// CheckBaseURL checks an API base URL: https, or http to this computer only
// (local test doubles): a key never crosses a network in clear text.
func CheckBaseURL(ck *config.Checker, key, v string) {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		ck.Add(key, "%q is not an https URL", v)
		return
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		ck.Add(key, "%q must be https: the credentials would cross the network unencrypted", v)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		ck.Add(key, "%q must not have a query or fragment", v)
	}
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
