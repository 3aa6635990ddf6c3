package problem

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		p          *Problem
		before     map[string]string
		wantHeader map[string]string
		wantBody   string
	}{
		{
			name: "field and retry",
			p: func() *Problem {
				p := New(http.StatusTooManyRequests, "pairing-locked", "Pairing locked", "wait 30 s")
				p.RetryAfter = 30
				return p.WithField("code")
			}(),
			wantHeader: map[string]string{"Content-Type": ContentType, "Cache-Control": "no-store", "Retry-After": "30"},
			wantBody:   `{"type":"https://mesi.example/mconnect/problems/pairing-locked","title":"Pairing locked","status":429,"detail":"wait 30 s","field":"code","retryAfter":30}` + "\n",
		},
		{
			name:       "minimal, caller's header kept",
			p:          New(http.StatusUnauthorized, "", "Authentication required", ""),
			before:     map[string]string{"WWW-Authenticate": `Bearer realm="mconnect"`},
			wantHeader: map[string]string{"Content-Type": ContentType, "WWW-Authenticate": `Bearer realm="mconnect"`, "Retry-After": ""},
			wantBody:   `{"title":"Authentication required","status":401}` + "\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			for k, v := range tc.before {
				rec.Header().Set(k, v)
			}
			Write(rec, tc.p)
			if rec.Code != tc.p.Status {
				t.Errorf("status %d, want %d", rec.Code, tc.p.Status)
			}
			for k, v := range tc.wantHeader {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if rec.Body.String() != tc.wantBody {
				t.Errorf("body %s, want %s", rec.Body, tc.wantBody)
			}
			var back Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &back); err != nil || back != *tc.p {
				t.Errorf("read back %+v (%v), want %+v", back, err, *tc.p)
			}
		})
	}
}

func TestError(t *testing.T) {
	t.Parallel()
	var err error = New(http.StatusNotFound, "not-found", "No such endpoint", "/x is not an endpoint")
	var p *Problem
	if !errors.As(err, &p) || p.Status != http.StatusNotFound {
		t.Fatalf("errors.As: %v", err)
	}
	if err.Error() != "No such endpoint: /x is not an endpoint" {
		t.Error(err)
	}
	if got := New(500, "", "Internal error", "").Error(); got != "Internal error" {
		t.Error(got)
	}
}
