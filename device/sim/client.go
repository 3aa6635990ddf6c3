// Package sim is an mTABLET simulator: it pairs with the hub, reads its
// group's worklist (once or long-polling), starts each appointment and
// uploads a realistic ECG or ABI result with a generated PDF report,
// retrying server errors with the same Idempotency-Key.
//
// It is a library (Client, Tablet) for tests and load tests, and the
// `mconnect tablet-sim` command (Main).
package sim

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/problem"
	"github.com/mesi/mconnect/app/tlscert"
	"github.com/mesi/mconnect/device"
)

// Client speaks the LAN API for one paired tablet.
type Client struct {
	base  string // https://host:port/api/v1
	token string
	http  *http.Client
	// Retries bounds the attempts of an upload on 5xx or network errors.
	Retries int
	// Backoff is the first pause between attempts (doubles, capped at 5 s).
	Backoff time.Duration
}

// NewClient returns a client for the hub at hubURL ("https://10.0.0.5:8443").
// For https, fingerprint (hex SHA-256 of the hub's certificate, with or
// without colons) is required: the client accepts exactly that certificate
// instead of verifying it against CAs. token may be empty until Pair.
func NewClient(hubURL, fingerprint, token string) (*Client, error) {
	u, err := url.Parse(hubURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("sim: hub URL %q must look like https://HOST:PORT", hubURL)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true}
	if u.Scheme == "https" {
		fp := tlscert.NormalizeFingerprint(fingerprint)
		if len(fp) != 64 {
			return nil, errors.New("sim: --fp must be the hub's certificate fingerprint (64 hex digits, shown by the hub and in its mDNS TXT record fp=)")
		}
		if _, err := hex.DecodeString(fp); err != nil {
			return nil, fmt.Errorf("sim: fingerprint is not hex: %w", err)
		}
		tr.TLSClientConfig = pinnedTLS(fp)
	}
	base := strings.TrimSuffix(u.Scheme+"://"+u.Host+strings.TrimSuffix(u.Path, "/"), device.APIPrefix) + device.APIPrefix
	return &Client{base: base, token: token, http: &http.Client{Transport: tr}, Retries: 8, Backoff: 200 * time.Millisecond}, nil
}

// pinnedTLS accepts exactly the certificate with fingerprint fp, with
// the hub's TLS versions and suites.
func pinnedTLS(fp string) *tls.Config { return tlscert.PinnedClientConfig(fp) }

// Token returns the device token (after Pair or as given).
func (c *Client) Token() string { return c.token }

// HTTPError is a non-2xx answer with its problem details.
type HTTPError struct {
	Status  int
	Problem problem.Problem
	// RetryAfter is the hub's Retry-After, if any.
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	if e.Problem.Title != "" {
		return fmt.Sprintf("hub answered %d %s: %s", e.Status, e.Problem.Title, e.Problem.Detail)
	}
	return fmt.Sprintf("hub answered %d", e.Status)
}

func (c *Client) newRequest(ctx context.Context, method, path string, body io.Reader, ctype string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

// do sends req and decodes a 2xx JSON answer into out; other answers become *HTTPError.
func (c *Client) do(req *http.Request, out any) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sim: %s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return resp, fmt.Errorf("sim: %s %s: read answer: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotModified {
		he := &HTTPError{Status: resp.StatusCode}
		_ = json.Unmarshal(body, &he.Problem)
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			he.RetryAfter = time.Duration(s) * time.Second
		}
		return resp, he
	}
	if out != nil && resp.StatusCode != http.StatusNotModified && len(body) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			return resp, fmt.Errorf("sim: %s %s: decode answer: %w", req.Method, req.URL.Path, err)
		}
	}
	return resp, nil
}

// Health calls GET /health.
func (c *Client) Health(ctx context.Context) (device.HealthResponse, error) {
	var h device.HealthResponse
	req, err := c.newRequest(ctx, http.MethodGet, "/health", nil, "")
	if err != nil {
		return h, err
	}
	_, err = c.do(req, &h)
	return h, err
}

// PairRequest is what a tablet tells the hub when pairing.
type PairRequest struct {
	Code       string `json:"code"`
	Serial     string `json:"serial"`
	Name       string `json:"name,omitempty"`
	Model      string `json:"model,omitempty"`
	AppVersion string `json:"appVersion,omitempty"`
}

// Pair pairs with a one-time code and keeps the token.
func (c *Client) Pair(ctx context.Context, p PairRequest) (device.PairingResponse, error) {
	var pr device.PairingResponse
	b, _ := json.Marshal(p)
	req, err := c.newRequest(ctx, http.MethodPost, "/pairings", bytes.NewReader(b), "application/json")
	if err != nil {
		return pr, err
	}
	if _, err := c.do(req, &pr); err != nil {
		return pr, err
	}
	c.token = pr.Token
	return pr, nil
}

// Worklist reads the worklist. With etag set and wait > 0 it long-polls;
// changed is false (and wl empty) when the hub answered 304.
func (c *Client) Worklist(ctx context.Context, etag string, wait time.Duration) (wl device.Worklist, newETag string, changed bool, err error) {
	path := "/worklist"
	if wait > 0 {
		path += "?wait=" + url.QueryEscape(wait.String())
	}
	req, err := c.newRequest(ctx, http.MethodGet, path, nil, "")
	if err != nil {
		return wl, etag, false, err
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := c.do(req, &wl)
	if err != nil {
		return wl, etag, false, err
	}
	if resp.StatusCode == http.StatusNotModified {
		return wl, etag, false, nil
	}
	return wl, resp.Header.Get("ETag"), true, nil
}

// Appointment reads one appointment with every field (the worklist lists
// summaries).
func (c *Client) Appointment(ctx context.Context, id string) (device.Appointment, error) {
	var a device.Appointment
	req, err := c.newRequest(ctx, http.MethodGet, "/appointments/"+url.PathEscape(id), nil, "")
	if err != nil {
		return a, err
	}
	_, err = c.do(req, &a)
	return a, err
}

// Start marks an appointment in progress on this tablet.
func (c *Client) Start(ctx context.Context, id string) (device.Appointment, error) {
	var a device.Appointment
	req, err := c.newRequest(ctx, http.MethodPost, "/appointments/"+url.PathEscape(id)+"/start", nil, "")
	if err != nil {
		return a, err
	}
	_, err = c.do(req, &a)
	return a, err
}

// Heartbeat reports battery (percent, -1 unknown) and app version.
func (c *Client) Heartbeat(ctx context.Context, battery int, appVersion string) error {
	m := map[string]any{"appVersion": appVersion}
	if battery >= 0 {
		m["battery"] = battery
	}
	b, _ := json.Marshal(m)
	req, err := c.newRequest(ctx, http.MethodPost, "/heartbeat", bytes.NewReader(b), "application/json")
	if err != nil {
		return err
	}
	_, err = c.do(req, nil)
	return err
}

// Upload sends a result with its PDF report under key, retrying 5xx answers
// and network errors with the same key (so the hub stores it once).
func (c *Client) Upload(ctx context.Context, result any, pdf []byte, key string) (string, error) {
	js, err := json.Marshal(result)
	if err != nil {
		return "", fmt.Errorf("sim: encode result: %w", err)
	}
	pause := c.Backoff
	var last error
	for attempt := 1; attempt <= max(1, c.Retries); attempt++ {
		body, ctype := resultBody(js, pdf)
		req, err := c.newRequest(ctx, http.MethodPost, "/results", body, ctype)
		if err != nil {
			return "", err
		}
		req.Header.Set("Idempotency-Key", key)
		var rc device.ResultCreated
		_, err = c.do(req, &rc)
		if err == nil {
			return rc.ResultID, nil
		}
		last = err
		var he *HTTPError
		if errors.As(err, &he) && he.Status < 500 {
			return "", err // the hub refused it: retrying cannot help
		}
		wait := pause
		if he != nil && he.RetryAfter > 0 && he.RetryAfter < 30*time.Second {
			wait = he.RetryAfter
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(wait):
		}
		pause = min(pause*2, 5*time.Second)
	}
	return "", fmt.Errorf("sim: upload failed after %d attempts: %w", c.Retries, last)
}

func resultBody(js, pdf []byte) (io.Reader, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="result"`)
	h.Set("Content-Type", "application/json")
	w, _ := mw.CreatePart(h)
	w.Write(js)
	h = textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="report"; filename="report.pdf"`)
	h.Set("Content-Type", "application/pdf")
	w, _ = mw.CreatePart(h)
	w.Write(pdf)
	mw.Close()
	return &b, mw.FormDataContentType()
}
