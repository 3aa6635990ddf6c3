package halo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mesi/mconnect/connectors/pull"
)

// HALO Connect's wire shapes (the integrator API's SQL passthrough).

// Command is a query's command.
type Command struct {
	Text          string      `json:"text"`
	ExecutionMode string      `json:"executionMode"` // reader, nonQuery, scalar
	Type          string      `json:"type"`          // text, storedProcedure
	Parameters    []Parameter `json:"parameters"`
}

// Parameter is one SQL parameter.
type Parameter struct {
	Name      string  `json:"name"`
	Value     *string `json:"value"` // null for a SQL NULL
	Direction string  `json:"direction"`
	Type      string  `json:"type"`
	Size      int     `json:"size,omitempty"`
}

// QueryRequest is the body of POST …/queries/immediate and …/async.
type QueryRequest struct {
	MaxTimeInQueue int64   `json:"maxTimeInQueue"` // milliseconds
	Catalogue      string  `json:"catalogue,omitempty"`
	Command        Command `json:"command"`
}

// Query is HALO's query object (the answer of every query endpoint).
type Query struct {
	ID           string        `json:"id"`
	IntegratorID string        `json:"integratorId,omitempty"`
	SiteID       string        `json:"siteId,omitempty"`
	Mode         string        `json:"mode,omitempty"`
	Status       string        `json:"status"`
	Result       *QueryResult  `json:"result,omitempty"`
	ErrorDetails *ErrorDetails `json:"errorDetails,omitempty"`
	CompletedAt  string        `json:"completedAt,omitempty"`
}

// QueryResult is a successful query's result: rows and base64 data for a
// reader, rowsAffected for a nonQuery.
type QueryResult struct {
	Rows         int             `json:"rows,omitempty"`
	RowsAffected *int            `json:"rowsAffected,omitempty"`
	Size         int             `json:"size"`
	Data         json.RawMessage `json:"data,omitempty"`
}

// ErrorDetails is a failed query's error.
type ErrorDetails struct {
	ErrorType    string `json:"errorType"` // http, mssql, fbsql, haloLink
	ErrorCode    int    `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

// APIError is HALO's error envelope, {"error":{...}} or unwrapped.
type APIError struct {
	Status     int    `json:"status"`
	StatusText string `json:"statusText"`
	Message    string `json:"message"`
}

// Query statuses.
const (
	StatusSuccessful      = "successful"
	StatusInitialising    = "initialising"
	StatusQueued          = "queued"
	StatusExecuting       = "executing"
	StatusUploading       = "uploading"
	StatusExpiredInQueue  = "expiredInQueue"
	StatusExecutionFailed = "executionFailed"
	StatusUploadFailed    = "uploadFailed"
	StatusInitFailed      = "initialisationFailed"
	StatusInitSiteOffline = "initialisationFailedSiteOffline"
	StatusInitUnreachable = "initialisationFailedSiteUnreachable"
	StatusInitCacheError  = "initialisationFailedCacheError"
	headerSubscriptionKey = "Ocp-Apim-Subscription-Key"
	credentialAPIKey      = "HALO API key (halo.apiKey)"
	maxErrorBody          = 64 << 10
	userAgent             = "mCONNECT-Hub"
)

// Health codes of HALO's own failures (besides pull's).
const (
	CodeSiteOffline     = "site-offline"
	CodeSiteUnreachable = "site-unreachable"
	CodeQueueExpired    = "queue-expired"
	CodeQueryFailed     = "query-failed" // Args: error
	CodeSiteNotFound    = "site-not-found"
)

// client calls HALO's integrator API for one site.
type client struct {
	base      string // without a trailing slash
	site      string
	catalogue string
	key       string
	http      *http.Client
	maxAnswer int64
}

func (c *client) sitePath(rest string) string {
	return c.base + "/integrator/sites/" + url.PathEscape(c.site) + rest
}

// call sends one request and returns the body of a 2xx answer (up to
// limit bytes). Any other answer is a classified *pull.Error naming what
// HALO said (never the key).
func (c *client) call(ctx context.Context, method, path string, body any, limit int64) ([]byte, int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, 0, fmt.Errorf("encode HALO request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return nil, 0, fmt.Errorf("HALO request %s: %w", path, err)
	}
	req.Header.Set(headerSubscriptionKey, c.key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, pull.Classify(fmt.Errorf("HALO Connect %s %s: %w", method, req.URL.Path, scrub(err)))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		b, err := pull.ReadBody(resp.Body, limit, "HALO's answer")
		return b, resp.StatusCode, err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return b, resp.StatusCode, c.httpError(resp, b)
}

// scrub removes the request URL's query from a transport error (it never
// holds the key, which travels in a header, but a site ID or dates need
// not be in logs either).
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// httpError classifies a non-2xx answer: HALO's error envelope, or a query
// object with a failed status.
func (c *client) httpError(resp *http.Response, body []byte) error {
	var q Query
	if json.Unmarshal(body, &q) == nil && q.Status != "" && q.ID != "" {
		if e := statusError(q); e != nil {
			return e
		}
	}
	msg := errorMessage(body)
	err := fmt.Errorf("HALO Connect answered %s: %s", resp.Status, msg)
	lower := strings.ToLower(msg)
	switch resp.StatusCode {
	case http.StatusServiceUnavailable:
		return pull.Fail(pull.KindUnavailable, CodeSiteOffline, map[string]string{"status": "503"}, err)
	case http.StatusGatewayTimeout:
		switch {
		case strings.Contains(lower, "unreachable"):
			return pull.Fail(pull.KindUnavailable, CodeSiteUnreachable, map[string]string{"status": "504"}, err)
		case strings.Contains(lower, "offline"):
			return pull.Fail(pull.KindUnavailable, CodeSiteOffline, map[string]string{"status": "504"}, err)
		}
		return pull.Fail(pull.KindTimeout, pull.CodeTimeout, map[string]string{"status": "504"}, err)
	case http.StatusNotFound:
		return pull.Fail(pull.KindRefused, CodeSiteNotFound, map[string]string{"status": "404", "site": c.site}, err)
	}
	return pull.HTTPStatus(resp.StatusCode, resp.Header, credentialAPIKey, err)
}

// errorMessage reads HALO's error envelope, wrapped or not; otherwise a
// short excerpt of the body.
func errorMessage(body []byte) string {
	var wrapped struct {
		Error *APIError `json:"error"`
	}
	if json.Unmarshal(body, &wrapped) == nil && wrapped.Error != nil && wrapped.Error.Message != "" {
		return wrapped.Error.Message
	}
	var plain APIError
	if json.Unmarshal(body, &plain) == nil && plain.Message != "" {
		return plain.Message
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return "(no body)"
	}
	return strconv.Quote(s)
}

// statusError classifies a query that did not succeed; nil for one that
// succeeded or is still under way.
func statusError(q Query) *pull.Error {
	detail := ""
	if d := q.ErrorDetails; d != nil {
		detail = fmt.Sprintf(": %s error %d: %s", d.ErrorType, d.ErrorCode, d.ErrorMessage)
	}
	err := fmt.Errorf("HALO query %s ended %s%s", q.ID, q.Status, detail)
	switch q.Status {
	case StatusSuccessful, StatusInitialising, StatusQueued, StatusExecuting, StatusUploading:
		return nil
	case StatusInitSiteOffline:
		return pull.Fail(pull.KindUnavailable, CodeSiteOffline, nil, err)
	case StatusInitUnreachable:
		return pull.Fail(pull.KindUnavailable, CodeSiteUnreachable, nil, err)
	case StatusExpiredInQueue:
		return pull.Fail(pull.KindUnavailable, CodeQueueExpired, nil, err)
	case StatusExecutionFailed:
		msg := ""
		if q.ErrorDetails != nil {
			msg = q.ErrorDetails.ErrorMessage
		}
		return pull.Fail(pull.KindRefused, CodeQueryFailed, map[string]string{"error": msg}, err)
	}
	// initialisationFailed, …CacheError, uploadFailed, anything new.
	return pull.Fail(pull.KindUnavailable, pull.CodeServerError, map[string]string{"status": q.Status}, err)
}

// post sends a query and decodes HALO's query object.
func (c *client) post(ctx context.Context, mode string, r QueryRequest) (Query, error) {
	body, _, err := c.call(ctx, http.MethodPost, c.sitePath("/queries/"+mode), r, c.maxAnswer)
	if err != nil {
		return Query{}, err
	}
	var q Query
	if err := json.Unmarshal(body, &q); err != nil {
		return Query{}, pull.Fail(pull.KindBadAnswer, pull.CodeBadAnswer, nil,
			fmt.Errorf("HALO's answer to the %s query is not its query object: %w", mode, err))
	}
	if q.ID == "" || q.Status == "" {
		return Query{}, pull.Fail(pull.KindBadAnswer, pull.CodeBadAnswer, nil,
			fmt.Errorf("HALO's answer to the %s query has no id or status", mode))
	}
	return q, nil
}

// query reads a query's status.
func (c *client) query(ctx context.Context, id string) (Query, error) {
	body, _, err := c.call(ctx, http.MethodGet, c.sitePath("/queries/"+url.PathEscape(id)), nil, 1<<20)
	if err != nil {
		return Query{}, err
	}
	var q Query
	if err := json.Unmarshal(body, &q); err != nil || q.Status == "" {
		return Query{}, pull.Fail(pull.KindBadAnswer, pull.CodeBadAnswer, nil, fmt.Errorf("HALO's status of query %s cannot be read (%v)", id, err))
	}
	return q, nil
}

// availability reads the site (Test connection): online, offline or unreachable.
func (c *client) availability(ctx context.Context) (string, error) {
	body, _, err := c.call(ctx, http.MethodGet, c.sitePath(""), nil, 1<<20)
	if err != nil {
		return "", err
	}
	var s struct {
		Availability string `json:"availability"`
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return "", pull.Fail(pull.KindBadAnswer, pull.CodeBadAnswer, nil, fmt.Errorf("HALO's site answer cannot be read: %w", err))
	}
	return s.Availability, nil
}

// millis is d in HALO's milliseconds.
func millis(d time.Duration) int64 { return d.Milliseconds() }

func str(s string) *string { return &s }
