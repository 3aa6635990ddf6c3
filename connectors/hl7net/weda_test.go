package hl7net

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/hl7"
)

func TestWEDACodec(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 8, 12, 16, 1, 2, 0, time.UTC)
	c := NewWEDACodec(hl7.MapOptions{Connection: "weda", Now: func() time.Time { return now }, Location: time.UTC})
	o, err := c.OrderFromFile(readFile(t, "weda_orm.hl7"))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"requestedDate": "2024-08-12T16:01:02Z", "task_type": "ECG", "activity_id": "98765"} {
		if o.Meta[k] != want {
			t.Errorf("Meta[%s] = %q, want %q", k, o.Meta[k], want)
		}
	}
	if o.Patient.Name.Given != "Hélène" || o.Connection != "weda" || o.Measurement != "ECG" {
		t.Errorf("order %+v", o)
	}
	if _, err := c.OrderFromFile([]byte("not hl7")); err == nil || !strings.Contains(err.Error(), "weda file") {
		t.Errorf("garbage file: %v", err)
	}
	two := string(readFile(t, "weda_orm.hl7")) + "ORC|CA|ECG-1\r"
	if _, err := c.OrderFromFile([]byte(two)); err == nil {
		t.Error("two orders returned as one")
	}
	if orders, err := c.OrdersFromFile([]byte(two)); err != nil || len(orders) != 2 {
		t.Errorf("OrdersFromFile: %d, %v", len(orders), err)
	}
}

// wedaServer strictly checks the token, content type and HL7 body.
func wedaServer(t *testing.T, header, value string, status int, body string) (*httptest.Server, *[]*hl7.Message) {
	t.Helper()
	var got []*hl7.Message
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get(header) != value {
			http.Error(w, `{"error":"invalid token"}`, http.StatusUnauthorized)
			return
		}
		if r.Header.Get("Content-Type") != "application/hl7-v2" || r.ContentLength <= 0 {
			http.Error(w, "bad content type or length", http.StatusUnsupportedMediaType)
			return
		}
		b, _ := io.ReadAll(r.Body)
		m, err := hl7.Parse(b)
		if err != nil || m.Get("MSH-9") != "ORU" {
			http.Error(w, "not an ORU: "+err.Error(), http.StatusBadRequest)
			return
		}
		got = append(got, m)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func TestWEDAOutbound(t *testing.T) {
	t.Parallel()
	out, pdf := outgoing(t, "weda_orm.hl7", 200_000)
	long := strings.Repeat("e", 5000)
	tests := []struct {
		name          string
		header, value string // what the server expects
		opts          WEDAOutboundOptions
		status        int
		body          string
		ok, permanent bool
		answer        string
	}{
		{"200 default bearer", "Authorization", "Bearer s3cret", WEDAOutboundOptions{Token: "s3cret"}, 200, `{"status":"ok"}`, true, false, `HTTP 200: {"status":"ok"}`},
		{"201 custom header", "X-Api-Key", "s3cret", WEDAOutboundOptions{Token: "s3cret", TokenHeader: "X-Api-Key"}, 201, "", true, false, "HTTP 201"},
		{"wrong token", "Authorization", "Bearer s3cret", WEDAOutboundOptions{Token: "wrong"}, 200, "", false, true, "HTTP 401: {\"error\":\"invalid token\"}"},
		{"400 body truncated", "Authorization", "Bearer t", WEDAOutboundOptions{Token: "t"}, 400, long, false, true, "HTTP 400: " + long[:512] + "…"},
		{"404", "Authorization", "Bearer t", WEDAOutboundOptions{Token: "t"}, 404, "no such endpoint", false, true, "HTTP 404: no such endpoint"},
		{"408", "Authorization", "Bearer t", WEDAOutboundOptions{Token: "t"}, 408, "", false, false, "HTTP 408"},
		{"429", "Authorization", "Bearer t", WEDAOutboundOptions{Token: "t"}, 429, "slow down", false, false, "HTTP 429: slow down"},
		{"500", "Authorization", "Bearer t", WEDAOutboundOptions{Token: "t"}, 500, "oops", false, false, "HTTP 500: oops"},
		{"503", "Authorization", "Bearer t", WEDAOutboundOptions{Token: "t"}, 503, "", false, false, "HTTP 503"},
		{"200 with HL7 AR", "Authorization", "Bearer t", WEDAOutboundOptions{Token: "t"}, 200,
			"MSH|^~\\&|WEDA||||20240101||ACK|1|P|2.5\rMSA|AR|x|patient unknown\r", false, true, "AR: patient unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, got := wedaServer(t, tt.header, tt.value, tt.status, tt.body)
			opts := tt.opts
			opts.URL = srv.URL + "/results"
			ob, err := NewWEDAOutbound(opts, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			answer, err := ob.Deliver(context.Background(), out)
			if tt.ok {
				if err != nil || answer != tt.answer {
					t.Fatalf("Deliver = %q, %v", answer, err)
				}
				m := (*got)[0]
				if m.Get("PID-5.1") != "Dupré" || m.Get("ORC-2") != "ECG-98765" || m.Get("MSH-5") != "WEDA" {
					t.Errorf("ORU fields: %s %s %s", m.Get("PID-5.1"), m.Get("ORC-2"), m.Get("MSH-5"))
				}
				if b, _ := base64.StdEncoding.DecodeString(m.Get("OBX(5)-5.5")); !bytes.Equal(b, pdf) {
					t.Error("PDF differs")
				}
				return
			}
			if err == nil {
				t.Fatalf("Deliver succeeded: %q", answer)
			}
			if domain.IsPermanent(err) != tt.permanent || domain.AnswerOf(err) != tt.answer {
				t.Errorf("permanent %v answer %q; want %v %q (%v)", domain.IsPermanent(err), domain.AnswerOf(err), tt.permanent, tt.answer, err)
			}
		})
	}
}

func TestWEDAOutboundTimeoutAndErrors(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-release
	}))
	defer slow.Close()
	defer close(release)
	out, _ := outgoing(t, "weda_orm.hl7", 1000)
	ob, _ := NewWEDAOutbound(WEDAOutboundOptions{URL: slow.URL, Token: "t", Timeout: 200 * time.Millisecond}, quietLog())
	if _, err := ob.Deliver(context.Background(), out); err == nil || domain.IsPermanent(err) {
		t.Errorf("timeout: %v, want temporary", err)
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	ob, _ = NewWEDAOutbound(WEDAOutboundOptions{URL: down.URL, Token: "t"}, quietLog())
	if _, err := ob.Deliver(context.Background(), out); err == nil || domain.IsPermanent(err) {
		t.Errorf("connection refused: %v, want temporary", err)
	}
	if _, err := NewWEDAOutbound(WEDAOutboundOptions{URL: "http://x"}, nil); err == nil {
		t.Error("missing token accepted")
	}
	if _, err := NewWEDAOutbound(WEDAOutboundOptions{Token: "t"}, nil); err == nil {
		t.Error("missing URL accepted")
	}
}

// TestWEDAOutboundMakesTempDir: a temp folder that does not exist yet (a
// fresh data folder) is created, not a reason to fail every delivery.
func TestWEDAOutboundMakesTempDir(t *testing.T) {
	t.Parallel()
	out, _ := outgoing(t, "weda_orm.hl7", 1000)
	srv, got := wedaServer(t, "Authorization", "Bearer t", 200, "")
	tmp := filepath.Join(t.TempDir(), "data", "tmp")
	ob, err := NewWEDAOutbound(WEDAOutboundOptions{URL: srv.URL, Token: "t", TempDir: tmp}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Deliver(context.Background(), out); err != nil || len(*got) != 1 {
		t.Fatalf("Deliver with a missing temp folder: %v (%d received)", err, len(*got))
	}
}

// TestWEDAOutboundMissingReport: a result whose PDF is gone is refused for
// good before anything is posted, with the result named.
func TestWEDAOutboundMissingReport(t *testing.T) {
	t.Parallel()
	out, _ := outgoing(t, "weda_orm.hl7", 1000)
	out.Result.Report.Path = filepath.Join(t.TempDir(), "gone.pdf")
	srv, got := wedaServer(t, "Authorization", "Bearer t", 200, "")
	ob, err := NewWEDAOutbound(WEDAOutboundOptions{URL: srv.URL, Token: "t"}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	_, err = ob.Deliver(context.Background(), out)
	if !domain.IsPermanent(err) || !strings.Contains(err.Error(), "report of result res-1") || len(*got) != 0 {
		t.Errorf("missing PDF: %v (permanent %v), %d posts", err, domain.IsPermanent(err), len(*got))
	}
}
