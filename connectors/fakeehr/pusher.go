package fakeehr

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Pusher calls the hub's Integration API as the EHR: it gets its tokens
// (from the hub's token endpoint, or minted by the EHR's own identity
// provider) and PUTs, GETs and DELETEs appointments.
type Pusher struct {
	base  string // https://host:port/integration/v1
	http  *http.Client
	token func(ctx context.Context) (string, error)
}

// Answer is a response of the Integration API.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode reads the answer's JSON into v.
func (a Answer) Decode(v any) error { return json.Unmarshal(a.Body, v) }

// PinnedClient trusts exactly the certificate with the hex SHA-256
// fingerprint fp (the hub's self-signed one).
func PinnedClient(fp string) *http.Client {
	fp = strings.ToLower(strings.ReplaceAll(fp, ":", ""))
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by the pin below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("fakeehr: the hub sent no certificate")
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if hex.EncodeToString(sum[:]) != fp {
				return errors.New("fakeehr: the hub's certificate is not the pinned one")
			}
			return nil
		},
	}}}
}

// BuiltinPusher gets its tokens from the hub's own token endpoint with a
// client ID and secret registered in the hub, through a standard OAuth 2.0
// client (cached until shortly before expiry).
func BuiltinPusher(base string, client *http.Client, clientID, secret string, scopes ...string) *Pusher {
	cc := clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: base + "/oauth/token", Scopes: scopes,
		AuthStyle: oauth2.AuthStyleInHeader}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, client)
	src := oauth2.ReuseTokenSourceWithExpiry(nil, cc.TokenSource(ctx), time.Minute)
	return &Pusher{base: base, http: client, token: func(context.Context) (string, error) {
		t, err := src.Token()
		if err != nil {
			return "", err
		}
		return t.AccessToken, nil
	}}
}

// ExternalPusher uses tokens minted by the EHR's identity provider.
func (e *EHR) ExternalPusher(base string, client *http.Client, clientID string) *Pusher {
	return &Pusher{base: base, http: client, token: func(context.Context) (string, error) { return e.Mint(clientID, nil) }}
}

// Token returns the token the pusher sends.
func (p *Pusher) Token(ctx context.Context) (string, error) { return p.token(ctx) }

// Put creates or updates an appointment.
func (p *Pusher) Put(ctx context.Context, externalID string, appointment any) (Answer, error) {
	b, err := json.Marshal(appointment)
	if err != nil {
		return Answer{}, err
	}
	return p.Do(ctx, http.MethodPut, "/appointments/"+url.PathEscape(externalID), b)
}

// Get reads an appointment's state.
func (p *Pusher) Get(ctx context.Context, externalID string) (Answer, error) {
	return p.Do(ctx, http.MethodGet, "/appointments/"+url.PathEscape(externalID), nil)
}

// Delete cancels an appointment.
func (p *Pusher) Delete(ctx context.Context, externalID string) (Answer, error) {
	return p.Do(ctx, http.MethodDelete, "/appointments/"+url.PathEscape(externalID), nil)
}

// Do sends one request with the pusher's token.
func (p *Pusher) Do(ctx context.Context, method, path string, body []byte) (Answer, error) {
	tok, err := p.token(ctx)
	if err != nil {
		return Answer{}, fmt.Errorf("fakeehr: token: %w", err)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, rd)
	if err != nil {
		return Answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return Answer{}, fmt.Errorf("fakeehr: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return Answer{}, fmt.Errorf("fakeehr: %s %s: read: %w", method, path, err)
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}
