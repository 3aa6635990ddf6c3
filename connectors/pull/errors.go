package pull

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Kind says what a failed upstream call means for the next one.
type Kind int

// Kinds of failure.
const (
	// KindUnavailable: the EHR, its cloud or the way to it is down (5xx,
	// a refused connection, a site offline). Asked again after a short
	// pause; repeated failures open the circuit.
	KindUnavailable Kind = iota
	// KindTimeout: no answer within the per-call timeout. As unavailable.
	KindTimeout
	// KindBadAnswer: an answer that cannot be read (malformed JSON, bad
	// base64). As unavailable: a broken proxy may pass.
	KindBadAnswer
	// KindAuth: the credentials were refused (401, 403). Not asked again
	// for a hold-off: a wrong key does not become right by repetition,
	// and repeated refusals may lock the account.
	KindAuth
	// KindRefused: the request itself is refused (400 bad query, 404
	// unknown site, 413 too large): held off like KindAuth until a
	// person corrects the configuration.
	KindRefused
	// KindRateLimited: 429; not asked again before its Retry-After.
	KindRateLimited
)

func (k Kind) String() string {
	switch k {
	case KindUnavailable:
		return "unavailable"
	case KindTimeout:
		return "timeout"
	case KindBadAnswer:
		return "bad-answer"
	case KindAuth:
		return "auth"
	case KindRefused:
		return "refused"
	case KindRateLimited:
		return "rate-limited"
	}
	return "kind-" + strconv.Itoa(int(k))
}

// Error is a classified failure of an upstream call. Code and Args are
// what health shows (no prose: the UI's texts are keyed by the code);
// Err is the technical text behind "Details". Neither ever holds a
// secret.
type Error struct {
	Kind Kind
	// Code is the health code: "auth-refused", "site-offline", "timeout" ...
	Code string
	Args map[string]string
	// RetryAfter is the EHR's Retry-After, if it sent one.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Fail returns a classified error.
func Fail(kind Kind, code string, args map[string]string, err error) *Error {
	return &Error{Kind: kind, Code: code, Args: args, Err: err}
}

// Classify returns err as an *Error: one already classified as it is; a
// deadline or network timeout as a timeout; anything else (a refused
// connection, an unknown host) as the EHR being unreachable.
func Classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Fail(KindTimeout, CodeTimeout, nil, err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return Fail(KindTimeout, CodeTimeout, nil, err)
	}
	// Refused connections, unknown hosts, resets: the EHR is not reachable.
	return Fail(KindUnavailable, CodeUnreachable, nil, err)
}

// Health codes every pull connector may report (vendors add their own,
// such as "site-offline").
const (
	CodeIdle        = "idle" // no tablet asked yet
	CodeOK          = "ok"
	CodeAuthRefused = "auth-refused" // Args: credential
	CodeTimeout     = "timeout"
	CodeUnreachable = "unreachable"
	CodeServerError = "server-error" // Args: status
	CodeBadAnswer   = "bad-answer"
	CodeTooLarge    = "too-large" // Args: limit
	CodeRefused     = "refused"   // Args: status
	CodeRateLimited = "rate-limited"
	CodeRowsSkipped = "rows-skipped" // Args: count, first
	CodeRowsOK      = "rows-ok"
)

// HTTPStatus classifies an HTTP error status: 401/403 refused
// credentials (credential names which), 408 a timeout, 429 rate limited
// (with Retry-After from h), other 4xx a refused request, 5xx the EHR
// unavailable. err is the technical text.
func HTTPStatus(status int, h http.Header, credential string, err error) *Error {
	args := map[string]string{"status": strconv.Itoa(status)}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		args["credential"] = credential
		return Fail(KindAuth, CodeAuthRefused, args, err)
	case status == http.StatusRequestTimeout:
		return Fail(KindTimeout, CodeTimeout, args, err)
	case status == http.StatusTooManyRequests:
		e := Fail(KindRateLimited, CodeRateLimited, args, err)
		e.RetryAfter = RetryAfter(h, time.Now())
		return e
	case status == http.StatusRequestEntityTooLarge:
		return Fail(KindRefused, CodeTooLarge, args, err)
	case status >= 400 && status < 500:
		return Fail(KindRefused, CodeRefused, args, err)
	}
	return Fail(KindUnavailable, CodeServerError, args, err)
}

// RetryAfter reads a Retry-After header (seconds or an HTTP date); 0 when
// absent or unreadable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// TooLarge is the error of an answer over limit bytes.
func TooLarge(what string, limit int64) *Error {
	return Fail(KindRefused, CodeTooLarge, map[string]string{"limit": fmt.Sprintf("%d MB", limit>>20)},
		fmt.Errorf("%s is larger than the limit of %d bytes (maxAnswerMB); narrow the window or the query", what, limit))
}
