package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// errKeysUnavailable: the key set could not be fetched and no cached key
// has the token's key ID.
var errKeysUnavailable = errors.New("the issuer's key set cannot be fetched")

// Bounds of the key set cache.
const (
	jwksMaxAge      = time.Hour        // keys are refetched after an hour in any case
	jwksMinRefetch  = 10 * time.Second // an unknown kid refetches at most this often
	jwksMaxBytes    = 1 << 20
	jwksTimeout     = 10 * time.Second
	jwksRetryFailed = 30 * time.Second // after a failed fetch, the next is not before
)

// jwksCache holds an identity provider's public keys (RFC 7517 key set).
// A token whose kid is unknown refetches the set, at most every
// jwksMinRefetch; a bad signature with a known kid never does (a forged
// token must not make the hub hammer the provider). When the provider is
// unreachable the keys already fetched keep working.
type jwksCache struct {
	url    string
	client *http.Client
	now    func() time.Time
	// onFetch hears of every fetch (nil error: fetched), for health.
	onFetch func(n int, err error)

	mu        sync.Mutex
	keys      map[string]jose.JSONWebKey
	fetchedAt time.Time
	triedAt   time.Time
	lastErr   error
	inflight  chan struct{}
}

func newJWKSCache(url string, client *http.Client, now func() time.Time, onFetch func(int, error)) *jwksCache {
	if client == nil {
		client = &http.Client{Timeout: jwksTimeout}
	}
	return &jwksCache{url: url, client: client, now: now, onFetch: onFetch}
}

// key returns the public key for kid and alg.
func (c *jwksCache) key(ctx context.Context, kid, alg string) (any, error) {
	c.mu.Lock()
	k, found := c.lookup(kid)
	now := c.now()
	fresh := found && now.Sub(c.fetchedAt) <= jwksMaxAge
	inflight := c.inflight != nil
	recent := now.Sub(c.triedAt) < jwksMinRefetch || (c.lastErr != nil && now.Sub(c.triedAt) < jwksRetryFailed)
	lastErr := c.lastErr
	c.mu.Unlock()
	if !fresh && (inflight || !recent) {
		lastErr = c.refresh(ctx)
		c.mu.Lock()
		k, found = c.lookup(kid)
		c.mu.Unlock()
	}
	if !found {
		if lastErr != nil {
			return nil, fmt.Errorf("%w: %v", errKeysUnavailable, lastErr)
		}
		return nil, errUnknownKey
	}
	return checkJWK(k, alg)
}

func (c *jwksCache) lastErrOf() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

// lookup finds kid; a token without kid matches the only key of a set of one.
func (c *jwksCache) lookup(kid string) (jose.JSONWebKey, bool) {
	if kid == "" {
		if len(c.keys) == 1 {
			for _, k := range c.keys {
				return k, true
			}
		}
		return jose.JSONWebKey{}, false
	}
	k, ok := c.keys[kid]
	return k, ok
}

// refresh fetches the set once for all callers waiting at the moment.
func (c *jwksCache) refresh(ctx context.Context) error {
	c.mu.Lock()
	if ch := c.inflight; ch != nil {
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		return c.lastErrOf()
	}
	ch := make(chan struct{})
	c.inflight = ch
	c.triedAt = c.now()
	c.mu.Unlock()

	keys, err := c.fetch(context.WithoutCancel(ctx))
	c.mu.Lock()
	if err == nil {
		c.keys, c.fetchedAt = keys, c.now()
	}
	c.lastErr = err
	c.inflight = nil
	close(ch)
	c.mu.Unlock()
	if c.onFetch != nil {
		c.onFetch(len(keys), err)
	}
	return err
}

func (c *jwksCache) fetch(ctx context.Context) (map[string]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(ctx, jwksTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, fmt.Errorf("key set %s: %w", c.url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("key set %s: %w", c.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("key set %s: read: %w", c.url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("key set %s answered %s", c.url, resp.Status)
	}
	if len(body) > jwksMaxBytes {
		return nil, fmt.Errorf("key set %s is larger than %d bytes", c.url, jwksMaxBytes)
	}
	return parseJWKS(body)
}

// parseJWKS reads a key set, skipping keys that are not public signing
// keys of a supported type (RFC 7517 §5: ignore what is not understood).
func parseJWKS(body []byte) (map[string]jose.JSONWebKey, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("key set is not JSON: %w", err)
	}
	out := map[string]jose.JSONWebKey{}
	for _, r := range raw.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(r); err != nil {
			continue
		}
		if !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		out[k.KeyID] = k
	}
	if len(out) == 0 {
		return nil, errors.New("key set holds no usable public signing key")
	}
	return out, nil
}

// checkJWK returns the key when its type and declared algorithm fit alg.
func checkJWK(k jose.JSONWebKey, alg string) (any, error) {
	if k.Algorithm != "" && k.Algorithm != alg {
		return nil, fmt.Errorf("key %s is for %s, the token says %s", k.KeyID, k.Algorithm, alg)
	}
	ok := false
	switch k.Key.(type) {
	case *rsa.PublicKey:
		ok = strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		ok = strings.HasPrefix(alg, "ES")
	case ed25519.PublicKey:
		ok = alg == "EdDSA"
	}
	if !ok {
		return nil, fmt.Errorf("key %s (%T) cannot verify %s", k.KeyID, k.Key, alg)
	}
	return k.Key, nil
}
