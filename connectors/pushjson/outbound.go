package pushjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/tlscert"
	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/connectors/integration"
	"github.com/mesi/mconnect/connectors/probe"
	"github.com/mesi/mconnect/connectors/resultjson"
)

// tokenSkew renews a token this long before it expires.
const tokenSkew = 60 * time.Second

// maxAnswer bounds how much of the EHR's answer is read; the answer
// recorded for an attempt is cut to 512 characters.
const maxAnswer = 64 << 10

// OutboundOptions configure result delivery.
type OutboundOptions struct {
	// Name is the connection ("join"); health reports as "conn:<Name>/results".
	Name    string
	Results ResultsConfig
	// ClientSecret is the resolved secret of Results.ClientSecret.
	ClientSecret string
	// HubID is the result JSON's hubId.
	HubID  string
	Health domain.HealthReporter
	Log    logrus.FieldLogger
	// Client overrides the HTTP client of both the token and the results
	// requests (TLS settings, tests).
	Client *http.Client
}

// Outbound POSTs results to the EHR. It implements domain.Outbound.
type Outbound struct {
	opts OutboundOptions
	cc   clientcredentials.Config
	http *http.Client
	log  logrus.FieldLogger
	rep  *domain.Reporter

	mu  sync.Mutex
	src oauth2.TokenSource
}

var _ domain.Outbound = (*Outbound)(nil)

// NewOutbound returns the results sender.
func NewOutbound(opts OutboundOptions) (*Outbound, error) {
	r := opts.Results
	if r.URL == "" || r.TokenURL == "" || r.ClientID == "" {
		return nil, errors.New("pushjson: the results URL, token URL and client ID are required")
	}
	if opts.ClientSecret == "" {
		return nil, errors.New("pushjson: the client secret is empty")
	}
	if r.Timeout == 0 {
		r.Timeout = config.Duration(30 * time.Second)
		opts.Results = r
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Transport: tlscert.Transport()}
	}
	if opts.Log == nil {
		opts.Log = logrus.StandardLogger()
	}
	params := url.Values{}
	for k, v := range r.TokenParams {
		params.Set(k, v)
	}
	if r.Audience != "" {
		params.Set("audience", r.Audience)
	}
	style := oauth2.AuthStyleInHeader
	if r.AuthStyle == "post" {
		style = oauth2.AuthStyleInParams
	}
	o := &Outbound{
		opts: opts,
		cc: clientcredentials.Config{ClientID: r.ClientID, ClientSecret: opts.ClientSecret, TokenURL: r.TokenURL, Scopes: r.Scopes,
			EndpointParams: params, AuthStyle: style},
		http: opts.Client,
		log:  opts.Log.WithField("connection", opts.Name),
		rep:  domain.NewReporter(opts.Health, "conn:"+opts.Name+"/results"),
	}
	o.src = o.newSource()
	return o, nil
}

// fetcher gets a new token from the EHR's token URL each time it is asked.
type fetcher struct{ o *Outbound }

func (f fetcher) Token() (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), f.o.opts.Results.Timeout.D())
	defer cancel()
	return f.o.cc.Token(context.WithValue(ctx, oauth2.HTTPClient, f.o.http))
}

// newSource caches a token until a minute before it expires.
func (o *Outbound) newSource() oauth2.TokenSource {
	return oauth2.ReuseTokenSourceWithExpiry(nil, fetcher{o}, tokenSkew)
}

// token returns the cached token or a new one.
func (o *Outbound) token() (*oauth2.Token, error) {
	o.mu.Lock()
	src := o.src
	o.mu.Unlock()
	return src.Token()
}

// dropToken forgets the cached token (the EHR refused it).
func (o *Outbound) dropToken() {
	o.mu.Lock()
	o.src = o.newSource()
	o.mu.Unlock()
}

// IdempotencyKey is the key of a delivery: the same on every retry of it,
// so that the EHR can tell a retry after an ambiguous send from a new result.
func IdempotencyKey(d domain.Delivery) string {
	return fmt.Sprintf("%s.%d", d.ResultID, d.ID)
}

// Deliver POSTs one result: 2xx delivers; a 401 refreshes the token and
// tries once more; 408, 409, 429, 5xx, timeouts and a token endpoint that
// cannot be reached are temporary; every other answer is permanent.
func (o *Outbound) Deliver(ctx context.Context, out domain.Outgoing) (string, error) {
	log := o.log.WithFields(logrus.Fields{"result_id": out.Result.ID, "delivery_id": out.Delivery.ID})
	body, err := o.body(out)
	if err != nil {
		return "", domain.Permanent(err, "")
	}
	target, err := o.target(out)
	if err != nil {
		return "", domain.Permanent(err, "")
	}
	tok, err := o.token()
	if err != nil {
		return "", o.tokenFailed(err)
	}
	resp, err := o.post(ctx, target, tok, body, out.Delivery)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		resp.Body.Close()
		log.Info("pushjson: the EHR refused the token; getting a new one")
		o.dropToken()
		if tok, err = o.token(); err != nil {
			return "", o.tokenFailed(err)
		}
		resp, err = o.post(ctx, target, tok, body, out.Delivery)
	}
	if err != nil {
		log.WithError(err).Warn("pushjson: EHR not reached")
		return "", domain.Temporary(fmt.Errorf("pushjson: posting result %s to %s: %w", out.Result.ID, redacted(target), err), "")
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	answer := "HTTP " + strconv.Itoa(resp.StatusCode)
	if t := strings.TrimSpace(string(b)); t != "" {
		answer += ": " + cut(t, 512)
	}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		o.rep.Moved("delivering", map[string]string{"url": redacted(o.opts.Results.URL)})
		log.Info("pushjson: result delivered")
		return answer, nil
	case code == http.StatusRequestTimeout || code == http.StatusConflict || code == http.StatusTooManyRequests || code >= 500:
		log.WithField("status", code).Warn("pushjson: EHR busy or failing; will retry")
		return "", domain.Temporary(fmt.Errorf("pushjson: the EHR answered %d", code), answer)
	default:
		log.WithField("status", code).Warn("pushjson: EHR refused the result")
		return "", domain.Permanent(fmt.Errorf("pushjson: the EHR refused the result with %d", code), answer)
	}
}

func (o *Outbound) post(ctx context.Context, target string, tok *oauth2.Token, body []byte, d domain.Delivery) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, o.opts.Results.Timeout.D())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		cancel()
		return nil, err
	}
	for k, v := range o.opts.Results.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", IdempotencyKey(d))
	req.Header.Set("User-Agent", "mCONNECT-Hub")
	resp, err := o.http.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// tokenFailed reports a token that could not be had: amber when the token
// URL is unreachable or failing, red when it refuses the credentials. The
// result is not at fault, so the delivery is retried either way.
func (o *Outbound) tokenFailed(err error) error {
	args := map[string]string{"url": redacted(o.opts.Results.TokenURL)}
	var re *oauth2.RetrieveError
	answer := ""
	if errors.As(err, &re) && re.Response != nil {
		args["status"] = strconv.Itoa(re.Response.StatusCode)
		answer = fmt.Sprintf("token endpoint HTTP %d %s", re.Response.StatusCode, re.ErrorCode)
		if c := re.Response.StatusCode; c == http.StatusBadRequest || c == http.StatusUnauthorized || c == http.StatusForbidden {
			o.rep.Failed(domain.SeverityError, "token-refused", args, err)
			return domain.Temporary(fmt.Errorf("pushjson: the EHR's token endpoint refused the hub's credentials: %w", err), answer)
		}
	}
	o.rep.Failed(domain.SeverityWarning, "token-unavailable", args, err)
	return domain.Temporary(fmt.Errorf("pushjson: no token from the EHR's token endpoint: %w", err), answer)
}

// body builds the result JSON, with the PDF inline when configured.
func (o *Outbound) body(out domain.Outgoing) ([]byte, error) {
	var report io.Reader
	inline := o.opts.Results.Report == "inline"
	if inline && out.Result.Report != nil {
		f, err := os.Open(out.Result.Report.Path)
		if err != nil {
			return nil, fmt.Errorf("pushjson: the report of result %s: %w", out.Result.ID, err)
		}
		defer f.Close()
		report = f
	}
	doc, err := resultjson.Build(out, report, resultjson.Options{HubID: o.opts.HubID, EmbedPDF: inline, ExternalID: externalID(out)})
	if err != nil {
		return nil, fmt.Errorf("pushjson: build result %s: %w", out.Result.ID, err)
	}
	return json.Marshal(doc)
}

// externalID is the EHR's own ID of the appointment.
func externalID(out domain.Outgoing) string {
	if out.Order == nil {
		return ""
	}
	if id := out.Order.Meta[integration.MetaExternalID]; id != "" {
		return id
	}
	return out.Order.PlacerNumber
}

// target fills the results URL's placeholders.
func (o *Outbound) target(out domain.Outgoing) (string, error) {
	u := o.opts.Results.URL
	vals := map[string]string{"{externalId}": externalID(out), "{resultId}": out.Result.ID}
	if out.Order != nil {
		vals["{appointmentId}"] = out.Order.ID
		vals["{patientId}"] = out.Order.Patient.ID
	} else if out.Result.Patient != nil {
		vals["{patientId}"] = out.Result.Patient.ID
	}
	for _, p := range placeholders {
		if !strings.Contains(u, p) {
			continue
		}
		v := vals[p]
		if v == "" {
			return "", fmt.Errorf("pushjson: the results URL needs %s, which result %s has not (a result without an appointment?)", p, out.Result.ID)
		}
		u = strings.ReplaceAll(u, p, url.PathEscape(v))
	}
	return u, nil
}

// CheckToken gets a new token from the EHR's token URL (Test connection);
// the cached one is left alone.
func (o *Outbound) CheckToken(ctx context.Context) connector.CheckResult {
	start := time.Now()
	r := connector.CheckResult{Args: map[string]string{"url": redacted(o.opts.Results.TokenURL)}}
	ctx, cancel := context.WithTimeout(ctx, o.opts.Results.Timeout.D())
	defer cancel()
	tok, err := o.cc.Token(context.WithValue(ctx, oauth2.HTTPClient, o.http))
	r.Duration = time.Since(start)
	if err != nil {
		r.Detail = err.Error()
		var re *oauth2.RetrieveError
		var ne net.Error
		switch {
		case errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500:
			r.Code = probe.CodeAuthRefused
			r.Args["status"] = strconv.Itoa(re.Response.StatusCode)
		case errors.As(err, &re):
			r.Code = probe.CodeHTTPStatus
		case errors.As(err, &ne) && ne.Timeout():
			r.Code = probe.CodeTimeout
		default:
			r.Code = probe.CodeUnreachable
		}
		return r
	}
	r.OK, r.Code = true, "token-issued"
	if !tok.Expiry.IsZero() {
		r.Args["expires"] = time.Until(tok.Expiry).Round(time.Second).String()
	}
	r.Detail = "token type " + tok.Type()
	return r
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
