package integration

import (
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/problem"
)

// TokenResponse is the token endpoint's answer (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

// unknownHash is compared against for an unknown client.
var unknownHash = HashSecret("no client has this secret")

// maxFormBytes bounds a token request.
const maxFormBytes = 16 << 10

func oauthReply(status int, code, slug, title, detail string) reply {
	rep := problemReply(problem.New(status, slug, title, detail))
	rep.oauth = code
	return rep
}

// handleToken is the client-credentials grant (RFC 6749 §4.4) with
// client_secret_basic or client_secret_post. Wrong secrets count against
// the caller's address and the client; a locked one gets 429 with
// Retry-After, even with the right secret, until the lock ends.
func (s *Server) handleToken(c *call) reply {
	r := c.r
	ipKey := addrKey(c.ip)
	if d := s.ipLock.lockedFor(ipKey); d > 0 {
		rep := oauthReply(http.StatusTooManyRequests, "invalid_client", "token-locked", "Too many wrong client secrets",
			fmt.Sprintf("too many wrong client credentials from %s: token requests from there are refused for %s", c.ip, d.Round(time.Second)))
		rep.prob.RetryAfter = retrySeconds(d)
		return rep
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return oauthReply(http.StatusBadRequest, "invalid_request", "token-request-invalid", "Invalid token request",
			"the body must be application/x-www-form-urlencoded (grant_type=client_credentials)")
	}
	r.Body = http.MaxBytesReader(c.w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return oauthReply(http.StatusBadRequest, "invalid_request", "token-request-invalid", "Invalid token request",
			"the form cannot be read (at most 16 KB)")
	}
	form := r.PostForm
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		return oauthReply(http.StatusBadRequest, "unsupported_grant_type", "grant-unsupported", "Unsupported grant type",
			fmt.Sprintf("grant_type %q: this endpoint issues tokens for grant_type=client_credentials only", cut(gt, 40)))
	}
	id, secret, basic := r.BasicAuth()
	if basic && (form.Has("client_id") || form.Has("client_secret")) {
		return oauthReply(http.StatusBadRequest, "invalid_request", "token-request-invalid", "Invalid token request",
			"send the client credentials once: in the Authorization header or in the form, not both")
	}
	if !basic {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	c.target = id
	refuse := func(detail string) reply {
		s.ipLock.fail(ipKey)
		if id != "" {
			s.idLock.fail(id)
		}
		rep := oauthReply(http.StatusUnauthorized, "invalid_client", "client-invalid", "Invalid client", detail)
		rep.header = http.Header{"Www-Authenticate": {`Basic realm="mconnect-integration"`}}
		return rep
	}
	if id == "" || secret == "" {
		return refuse("send the client ID and secret (HTTP Basic authentication, or client_id and client_secret in the form)")
	}
	if len(id) > 100 || len(secret) > 200 {
		return refuse("the client ID or the secret is not one this hub issued")
	}
	if d := s.idLock.lockedFor(id); d > 0 {
		rep := oauthReply(http.StatusTooManyRequests, "invalid_client", "token-locked", "Too many wrong client secrets",
			fmt.Sprintf("too many wrong secrets for client %s: its token requests are refused for %s", id, d.Round(time.Second)))
		rep.prob.RetryAfter = retrySeconds(d)
		return rep
	}
	ctx := r.Context()
	cl, err := s.opts.Store.IntegrationClientByID(ctx, id)
	switch {
	case errors.Is(err, domain.ErrNotFound) || (err == nil && cl.Connection != s.opts.Name):
		secretMatches(secret, unknownHash) // the same work as for a known client: the time tells nothing
		return refuse("unknown client ID or wrong secret")
	case err != nil:
		return s.storeProblem(err)
	case !secretMatches(secret, cl.SecretHash):
		return refuse("unknown client ID or wrong secret")
	case cl.Revoked():
		return refuse(fmt.Sprintf("client %s was revoked on the hub", id))
	}
	scopes := strings.Fields(form.Get("scope"))
	if len(scopes) == 0 {
		scopes = []string{ScopeWrite}
	}
	for _, sc := range scopes {
		if sc != ScopeWrite && sc != ScopeRead {
			return oauthReply(http.StatusBadRequest, "invalid_scope", "scope-invalid", "Invalid scope",
				fmt.Sprintf("scope %q: the Integration API knows %s and %s", cut(sc, 40), ScopeWrite, ScopeRead))
		}
	}
	s.ipLock.succeed(ipKey)
	s.idLock.succeed(id)
	c.client = id
	tok, exp, err := s.issue(r, id, strings.Join(scopes, " "))
	if err != nil {
		return s.storeProblem(err)
	}
	if err := s.opts.Store.TouchIntegrationClient(ctx, id, s.opts.Now().UTC()); err != nil {
		s.log.WithError(err).Warn("integration: record the client's last token")
	}
	return reply{status: http.StatusOK, header: http.Header{"Pragma": {"no-cache"}}, note: "expires " + exp.UTC().Format(time.RFC3339),
		body: TokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(s.tokenTTL / time.Second), Scope: strings.Join(scopes, " ")}}
}

// issue signs an access token (RFC 9068) with the current key.
func (s *Server) issue(r *http.Request, client, scope string) (string, time.Time, error) {
	key, err := s.keys.signer(r.Context())
	if err != nil {
		return "", time.Time{}, err
	}
	jti, err := randomText(12, func(b []byte) string { return fmt.Sprintf("%x", b) })
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.opts.Now()
	exp := now.Add(s.tokenTTL)
	a := s.opts.Config.Auth
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: a.Issuer, Subject: client, Audience: jwt.ClaimStrings{a.Audience},
			ExpiresAt: jwt.NewNumericDate(exp), NotBefore: jwt.NewNumericDate(now), IssuedAt: jwt.NewNumericDate(now), ID: jti,
		},
		ClientID: client, Scope: scope,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = key.id
	t.Header["typ"] = "at+jwt"
	signed, err := t.SignedString(key.priv)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("integration: sign token: %w", err)
	}
	return signed, exp, nil
}

// certReloader serves the configured certificate and reads the files again
// when they changed (checked at most every 10 s), so that a renewed
// certificate needs no restart. A renewal that cannot be read keeps the
// previous certificate in use.
type certReloader struct {
	certFile, keyFile string
	now               func() time.Time
	log               logrus.FieldLogger

	mu      sync.Mutex
	cert    *tls.Certificate
	modC    time.Time
	modK    time.Time
	checked time.Time
}

func (c *certReloader) load() error {
	ci, err := os.Stat(c.certFile)
	if err != nil {
		return fmt.Errorf("integration: certificate %s: %w", c.certFile, err)
	}
	ki, err := os.Stat(c.keyFile)
	if err != nil {
		return fmt.Errorf("integration: key %s: %w", c.keyFile, err)
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("integration: certificate %s with key %s: %w", c.certFile, c.keyFile, err)
	}
	c.mu.Lock()
	c.cert, c.modC, c.modK, c.checked = &cert, ci.ModTime(), ki.ModTime(), c.now()
	c.mu.Unlock()
	return nil
}

func (c *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	due := c.now().Sub(c.checked) >= 10*time.Second
	if due {
		c.checked = c.now()
	}
	cert, modC, modK := c.cert, c.modC, c.modK
	c.mu.Unlock()
	if due {
		ci, err1 := os.Stat(c.certFile)
		ki, err2 := os.Stat(c.keyFile)
		if err1 == nil && err2 == nil && (!ci.ModTime().Equal(modC) || !ki.ModTime().Equal(modK)) {
			if err := c.load(); err != nil {
				c.log.WithError(err).Warn("integration: renewed certificate not readable; the previous one stays in use")
			} else {
				c.mu.Lock()
				cert = c.cert
				c.mu.Unlock()
				c.log.WithField("cert", c.certFile).Info("integration: certificate reloaded")
			}
		}
	}
	return cert, nil
}
