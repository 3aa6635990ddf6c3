// Package credurl checks the URLs of a connection's config section for
// what must not be in them: credentials (a user and password, an API key
// or token in the query), which would end up in the config file, logs and
// support bundles, and plain http where the hub sends a token.
package credurl

import (
	"net"
	"net/url"
	"strings"

	"github.com/mesi/mconnect/app/config"
)

// credentialNames are parts of query parameter names that carry a
// credential ("api_key", "access_token", "sig", "X-Amz-Signature").
var credentialNames = []string{"key", "token", "secret", "pass", "pwd", "auth", "sig", "credential", "session", "jwt", "bearer"}

// NoCredentials reports under key a URL carrying a user and password, or a
// query parameter named or looking like a credential. It says nothing about
// a URL that does not parse (the caller's URL check does).
func NoCredentials(ck *config.Checker, key, raw string) {
	u, err := url.Parse(raw)
	if err != nil {
		return
	}
	if u.User != nil {
		ck.Add(key, "%q holds a user name or password: put the credential in the keyring (`mconnect secret set NAME`) and name it in the section's secret key, not in the URL", u.Redacted())
	}
	for name, vals := range u.Query() {
		if credentialName(name) || anyTokenLike(vals) {
			ck.Add(key, "the query parameter %q looks like a credential: put the credential in the keyring (`mconnect secret set NAME`) and name it in the section's secret key, not in the URL", name)
		}
	}
}

func credentialName(name string) bool {
	n := strings.ToLower(strings.NewReplacer("_", "", "-", "", ".", "").Replace(name))
	for _, c := range credentialNames {
		if strings.Contains(n, c) {
			return true
		}
	}
	return false
}

func anyTokenLike(vals []string) bool {
	for _, v := range vals {
		if tokenLike(v) {
			return true
		}
	}
	return false
}

// tokenLike: a JWT, or a long opaque value of letters and digits mixed
// (32 characters or more: keys and tokens, not dates, IDs or words).
func tokenLike(v string) bool {
	if strings.HasPrefix(v, "eyJ") && strings.Count(v, ".") == 2 {
		return true
	}
	if len(v) < 32 {
		return false
	}
	var letters, digits int
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			letters++
		case strings.ContainsRune("-_.~+/=", r):
		default:
			return false
		}
	}
	return letters > 0 && digits > 0
}

// TokenTransport reports under key an http:// URL the hub sends a token or
// secret to, unless it is on loopback or allowInsecure is set (the key
// allowInsecureKey, named in the message).
func TokenTransport(ck *config.Checker, key, raw string, allowInsecure bool, allowInsecureKey string) {
	u, err := url.Parse(raw)
	if err != nil || !strings.EqualFold(u.Scheme, "http") || allowInsecure || loopback(u.Hostname()) {
		return
	}
	ck.Add(key, "%q is http: the hub's token would cross the network unencrypted; use https, or set %q to true to accept that", u.Redacted(), allowInsecureKey)
}

func loopback(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
