package hl7net

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/tlscert"
	"github.com/mesi/mconnect/connectors/hl7"
)

// WEDAOutboundOptions configure result delivery to WEDA's HTTP endpoint.
type WEDAOutboundOptions struct {
	// Name is the connection's name (log field).
	Name string
	// URL receives the POST.
	URL string
	// Token is the API token (already resolved from the keyring).
	Token string
	// TokenHeader carries the token (default "Authorization").
	TokenHeader string
	// TokenFormat renders the header value from the token with %s (default
	// "Bearer %s" for Authorization, "%s" for any other header).
	TokenFormat string
	// ContentType of the body (default "application/hl7-v2").
	ContentType string
	// Timeout bounds one POST including the answer (default 60 s).
	Timeout time.Duration
	// MaxAnswerBytes bounds how much of the answer is read (default 64 KB);
	// the answer recorded is cut to 512 characters.
	MaxAnswerBytes int64
	// TempDir holds the ORU while it is posted (default os.TempDir(); never
	// a watched exchange folder).
	TempDir string
	// Client overrides the HTTP client (TLS settings, tests).
	Client *http.Client
	// ORU fixes MSH values of the results.
	ORU ORUSettings
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// WEDAOutbound POSTs results as ORU^R01 to WEDA. It implements domain.Outbound.
type WEDAOutbound struct {
	opts WEDAOutboundOptions
	log  logrus.FieldLogger
	seq  atomic.Uint64
}

var _ domain.Outbound = (*WEDAOutbound)(nil)

// NewWEDAOutbound returns the outbound connection.
func NewWEDAOutbound(opts WEDAOutboundOptions, log logrus.FieldLogger) (*WEDAOutbound, error) {
	if opts.URL == "" {
		return nil, errors.New("hl7net: WEDA outbound needs a URL")
	}
	if opts.Token == "" {
		return nil, errors.New("hl7net: WEDA outbound needs an API token")
	}
	if opts.TokenHeader == "" {
		opts.TokenHeader = "Authorization"
	}
	if opts.TokenFormat == "" {
		opts.TokenFormat = "%s"
		if strings.EqualFold(opts.TokenHeader, "Authorization") {
			opts.TokenFormat = "Bearer %s"
		}
	}
	if !strings.Contains(opts.TokenFormat, "%s") {
		return nil, fmt.Errorf("hl7net: WEDA token format %q has no %%s", opts.TokenFormat)
	}
	if opts.ContentType == "" {
		opts.ContentType = "application/hl7-v2"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.MaxAnswerBytes <= 0 {
		opts.MaxAnswerBytes = 64 << 10
	}
	if opts.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tlscert.ClientConfig()
		opts.Client = &http.Client{Transport: tr}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if log == nil {
		log = logrus.StandardLogger()
	}
	return &WEDAOutbound{opts: opts, log: log.WithFields(logrus.Fields{"connection": opts.Name})}, nil
}

// Deliver builds the ORU into a temporary file and POSTs it: 2xx delivers;
// 408, 429, 5xx, timeouts and connection errors are temporary; other
// answers are permanent with the body (cut) as the answer. A 2xx body that
// is an HL7 ACK with AE/AR is honoured.
func (w *WEDAOutbound) Deliver(ctx context.Context, out domain.Outgoing) (string, error) {
	log := w.log.WithFields(logrus.Fields{"result_id": out.Result.ID, "order_id": out.Result.OrderID, "delivery_id": out.Delivery.ID})
	report, err := openBuildable(out)
	if err != nil {
		return "", domain.Permanent(err, "")
	}
	if report != nil {
		defer report.Close()
	}
	now := w.opts.Now()
	ctrl := "W" + strconv.FormatInt(now.UnixNano(), 36) + strconv.FormatUint(w.seq.Add(1)%1000, 36)
	// The temp folder (the hub's data/tmp) may not exist yet on a fresh
	// data folder or may have been cleaned away: make it on demand.
	if w.opts.TempDir != "" {
		if err := os.MkdirAll(w.opts.TempDir, 0o700); err != nil {
			return "", domain.Temporary(fmt.Errorf("hl7net: temporary folder for result %s: %w", out.Result.ID, err), "")
		}
	}
	f, err := os.CreateTemp(w.opts.TempDir, "mconnect-oru-*.hl7")
	if err != nil {
		return "", domain.Temporary(fmt.Errorf("hl7net: temporary file for result %s: %w", out.Result.ID, err), "")
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := hl7.WriteORU(f, out, readerOf(report), w.opts.ORU.options(ctrl, now)); err != nil {
		return "", domain.Temporary(fmt.Errorf("hl7net: building result %s: %w", out.Result.ID, err), "")
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		return "", domain.Temporary(fmt.Errorf("hl7net: result %s: %w", out.Result.ID, err), "")
	}
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.opts.URL, io.NopCloser(f))
	if err != nil {
		return "", domain.Permanent(fmt.Errorf("hl7net: WEDA URL: %w", err), "")
	}
	req.ContentLength = size
	req.GetBody = nil
	req.Header.Set("Content-Type", w.opts.ContentType)
	req.Header.Set(w.opts.TokenHeader, fmt.Sprintf(w.opts.TokenFormat, w.opts.Token))
	req.Header.Set("X-Message-Control-Id", ctrl)
	resp, err := w.opts.Client.Do(req)
	if err != nil {
		log.WithError(err).Warn("hl7: WEDA not reached")
		return "", domain.Temporary(fmt.Errorf("hl7net: posting result %s: %w", out.Result.ID, err), "")
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, w.opts.MaxAnswerBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	answer := fmt.Sprintf("HTTP %d", resp.StatusCode)
	if t := strings.TrimSpace(string(body)); t != "" {
		answer += ": " + truncate(t, 512)
	}
	log = log.WithFields(logrus.Fields{"status": resp.StatusCode, "control_id": ctrl})
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		if rerr != nil && !errors.Is(rerr, io.ErrUnexpectedEOF) {
			log.WithError(rerr).Debug("hl7: WEDA answer not fully read")
		}
		if bytes.HasPrefix(bytes.TrimSpace(body), []byte("MSH")) {
			if ack, err := hl7.ReadAck(body); err == nil && !ack.Accepted() {
				a := string(ack.Code) + ": " + ack.Text
				// The EHR's text may name the patient: debug only.
				log.WithFields(logrus.Fields{"ack": ack.Code, "ack_text": ack.Text}).Debug("hl7: text of WEDA's answer")
				if ack.Rejected() {
					log.Warn("hl7: WEDA rejected the result")
					return "", domain.Permanent(fmt.Errorf("hl7net: WEDA rejected the result (%s)", ack.Code), a)
				}
				return "", domain.Temporary(fmt.Errorf("hl7net: WEDA answered %s", ack.Code), a)
			}
		}
		log.Info("hl7: result delivered to WEDA")
		return answer, nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		log.Warn("hl7: WEDA busy or failing; will retry")
		return "", domain.Temporary(fmt.Errorf("hl7net: WEDA answered %d", code), answer)
	default:
		log.Warn("hl7: WEDA refused the result")
		return "", domain.Permanent(fmt.Errorf("hl7net: WEDA answered %d", code), answer)
	}
}
