package integration

import (
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/config"
)

// Auth modes.
const (
	// ModeBuiltin: the hub issues the tokens itself (POST /oauth/token) to
	// clients registered with `mconnect integration client add`.
	ModeBuiltin = "builtin"
	// ModeExternal: the EHR's identity provider issues them; the hub checks
	// them against its published keys (JWKS).
	ModeExternal = "external"
)

// Scopes of the Integration API.
const (
	ScopeWrite = "appointments:write" // PUT, DELETE and GET
	ScopeRead  = "appointments:read"  // GET only
)

// Defaults of the built-in mode's token claims.
const (
	DefaultIssuer   = "urn:mesi:mconnect:hub"
	DefaultAudience = "urn:mesi:mconnect:integration"
)

// Config is the Integration API's part of a pushing EHR's config section
// ("api" in the join and ziplanerx sections).
type Config struct {
	// Listen is the HTTPS listener ("host:port"; ":8444" listens on every
	// address).
	Listen string `json:"listen"`
	// PublicURL is how the EHR reaches the API from the internet, when a
	// reverse proxy or a port forward sits in front ("https://hub.clinic.example/integration/v1");
	// shown in the Dashboard, nothing else depends on it.
	PublicURL string     `json:"publicURL,omitempty"`
	TLS       TLSConfig  `json:"tls"`
	Auth      AuthConfig `json:"auth"`
	// MaxBodyKB bounds a request body.
	MaxBodyKB int             `json:"maxBodyKB"`
	RateLimit RateLimitConfig `json:"rateLimit"`
	// TrustedProxies are the reverse proxies (IPs or CIDRs) whose
	// X-Forwarded-For names the caller's address (for the token endpoint's
	// lockout and the audit log).
	TrustedProxies []string `json:"trustedProxies,omitempty"`
}

// TLSConfig names a certificate for an internet-facing hub. Both empty:
// the hub's own self-signed certificate (the EHR must then pin it).
type TLSConfig struct {
	// CertFile is a PEM certificate chain, KeyFile its private key; both are
	// read again when they change (a renewed certificate needs no restart).
	CertFile string `json:"certFile,omitempty"`
	KeyFile  string `json:"keyFile,omitempty"`
}

// AuthConfig says who issues the access tokens and what they must say.
type AuthConfig struct {
	// Mode is "builtin" or "external".
	Mode string `json:"mode"`
	// Issuer is the tokens' "iss": written by the hub (built-in) or the
	// identity provider's (external, required).
	Issuer string `json:"issuer"`
	// Audience is the "aud" the tokens must carry.
	Audience string `json:"audience"`
	// TokenTTL is how long a built-in token is valid.
	TokenTTL config.Duration `json:"tokenTTL"`
	// KeyRotation is how often the built-in signing key is replaced; the
	// previous key keeps verifying the tokens it signed until they expired.
	KeyRotation config.Duration `json:"keyRotation"`
	// JWKSURL is where the identity provider publishes its keys (external).
	JWKSURL string `json:"jwksURL,omitempty"`
	// ClientClaim is the claim naming the calling client (external;
	// default: client_id, else azp, appid or sub).
	ClientClaim string `json:"clientClaim,omitempty"`
	// AllowedClients, when set, are the only clients accepted (external).
	AllowedClients []string `json:"allowedClients,omitempty"`
}

// RateLimitConfig bounds the calls of one client: PerMinute on average,
// up to Burst at once.
type RateLimitConfig struct {
	PerMinute int `json:"perMinute"`
	Burst     int `json:"burst"`
}

// ApplyDefaults fills empty values.
func (c *Config) ApplyDefaults() {
	if c.Listen == "" {
		c.Listen = ":8444"
	}
	if c.Auth.Mode == "" {
		c.Auth.Mode = ModeBuiltin
	}
	if c.Auth.Mode == ModeBuiltin {
		if c.Auth.Issuer == "" {
			c.Auth.Issuer = DefaultIssuer
		}
		if c.Auth.TokenTTL == 0 {
			c.Auth.TokenTTL = config.Duration(10 * time.Minute)
		}
		if c.Auth.KeyRotation == 0 {
			c.Auth.KeyRotation = config.Duration(24 * time.Hour)
		}
	}
	if c.Auth.Audience == "" {
		c.Auth.Audience = DefaultAudience
	}
	if c.MaxBodyKB == 0 {
		c.MaxBodyKB = 256
	}
	if c.RateLimit.PerMinute == 0 {
		c.RateLimit.PerMinute = 600
	}
	if c.RateLimit.Burst == 0 {
		c.RateLimit.Burst = 60
	}
}

// Validate reports every invalid key (ck is the section's checker; keys
// are below "api").
func (c *Config) Validate(ck *config.Checker) {
	ck.HostPort("listen", c.Listen, true)
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || u.Scheme != "https" || u.Host == "" {
			ck.Add("publicURL", "%q is not an https URL", c.PublicURL)
		}
	}
	switch {
	case c.TLS.CertFile == "" && c.TLS.KeyFile == "":
	case c.TLS.CertFile == "" || c.TLS.KeyFile == "":
		ck.Add("tls", "name both certFile and keyFile, or neither (the hub's own certificate)")
	default:
		for _, kv := range [][2]string{{"tls.certFile", c.TLS.CertFile}, {"tls.keyFile", c.TLS.KeyFile}} {
			if !filepath.IsAbs(kv[1]) {
				ck.Add(kv[0], "%q must be an absolute path", kv[1])
			}
		}
	}
	a := c.Auth
	if strings.TrimSpace(a.Audience) == "" {
		ck.Add("auth.audience", "must not be empty")
	}
	switch a.Mode {
	case ModeBuiltin:
		if strings.TrimSpace(a.Issuer) == "" {
			ck.Add("auth.issuer", "must not be empty")
		}
		ck.RangeDur("auth.tokenTTL", a.TokenTTL.D(), time.Minute, time.Hour)
		ck.RangeDur("auth.keyRotation", a.KeyRotation.D(), time.Hour, 90*24*time.Hour)
		if a.JWKSURL != "" || a.ClientClaim != "" || len(a.AllowedClients) > 0 {
			ck.Add("auth", "jwksURL, clientClaim and allowedClients belong to mode external; the built-in mode's clients are registered with `mconnect integration client add`")
		}
	case ModeExternal:
		if strings.TrimSpace(a.Issuer) == "" {
			ck.Add("auth.issuer", "must name the identity provider's issuer (the tokens' iss claim)")
		}
		checkJWKSURL(ck, a.JWKSURL)
		if a.TokenTTL != 0 || a.KeyRotation != 0 {
			ck.Add("auth", "tokenTTL and keyRotation belong to mode builtin; the identity provider decides them")
		}
	default:
		ck.Add("auth.mode", "%q is not builtin or external", a.Mode)
	}
	ck.RangeInt("maxBodyKB", c.MaxBodyKB, 1, 10240)
	ck.RangeInt("rateLimit.perMinute", c.RateLimit.PerMinute, 1, 1_000_000)
	ck.RangeInt("rateLimit.burst", c.RateLimit.Burst, 1, 100_000)
	ck.Addresses("trustedProxies", c.TrustedProxies)
}

// checkJWKSURL wants https, except on this machine (a local identity
// provider, tests).
func checkJWKSURL(ck *config.Checker, v string) {
	u, err := url.Parse(v)
	if v == "" || err != nil || u.Host == "" {
		ck.Add("auth.jwksURL", "%q is not a URL: name where the identity provider publishes its keys (JWKS)", v)
		return
	}
	if u.Scheme == "https" {
		return
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme == "http" && (u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())) {
		return
	}
	ck.Add("auth.jwksURL", "%q must be https (plain http only on this machine)", v)
}
