package fakeehr

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func schemaFile() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "docs", "result.schema.json")
}

func start(t *testing.T) *EHR {
	t.Helper()
	e, err := Start(Options{ClientID: "hub", ClientSecret: "s", Scopes: []string{"results:write"}, SchemaFile: schemaFile()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func post(t *testing.T, u string, hdr map[string]string, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func token(t *testing.T, e *EHR) string {
	t.Helper()
	code, body := post(t, e.TokenURL(), map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic("hub", "s")},
		"grant_type=client_credentials&scope=results%3Awrite")
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &tr) != nil {
		t.Fatalf("token: %d %s", code, body)
	}
	return tr.AccessToken
}

func basic(u, p string) string {
	r := &http.Request{Header: http.Header{}}
	r.SetBasicAuth(u, p)
	return r.Header.Get("Authorization")
}

// TestStrictTokenEndpoint: only the configured client, style and scopes.
func TestStrictTokenEndpoint(t *testing.T) {
	e := start(t)
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name string
		hdr  map[string]string
		body string
		want int
	}{
		{"good", map[string]string{"Content-Type": form, "Authorization": basic("hub", "s")}, "grant_type=client_credentials&scope=results:write", 200},
		{"credentials in the form", map[string]string{"Content-Type": form}, "grant_type=client_credentials&scope=results:write&client_id=hub&client_secret=s", 401},
		{"wrong secret", map[string]string{"Content-Type": form, "Authorization": basic("hub", "x")}, "grant_type=client_credentials&scope=results:write", 401},
		{"wrong scope", map[string]string{"Content-Type": form, "Authorization": basic("hub", "s")}, "grant_type=client_credentials&scope=all", 400},
		{"wrong grant", map[string]string{"Content-Type": form, "Authorization": basic("hub", "s")}, "grant_type=password&scope=results:write", 400},
		{"JSON", map[string]string{"Content-Type": "application/json", "Authorization": basic("hub", "s")}, `{}`, 400},
	}
	for _, tc := range tests {
		if code, body := post(t, e.TokenURL(), tc.hdr, tc.body); code != tc.want {
			t.Errorf("%s: %d %s", tc.name, code, body)
		}
	}
	if n := len(e.Refusals()); n != len(tests)-1 {
		t.Errorf("%d refusals recorded: %q", n, e.Refusals())
	}
}

// TestStrictResults: a result is taken only with a live token, JSON, an
// Idempotency-Key and a body by the schema.
func TestStrictResults(t *testing.T) {
	e := start(t)
	tok := token(t, e)
	good := `{"schema":"mesi-result/1","hubId":"h","resultId":"r1","patient":{"id":"1"},"measurement":"ECG",` +
		`"performedAt":"2026-03-02T09:41:12Z","device":{},"observations":[]}`
	h := func(mod func(m map[string]string)) map[string]string {
		m := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json", "Idempotency-Key": "k1"}
		if mod != nil {
			mod(m)
		}
		return m
	}
	tests := []struct {
		name string
		hdr  map[string]string
		body string
		want int
	}{
		{"no token", h(func(m map[string]string) { delete(m, "Authorization") }), good, 401},
		{"unknown token", h(func(m map[string]string) { m["Authorization"] = "Bearer nope" }), good, 401},
		{"not JSON", h(func(m map[string]string) { m["Content-Type"] = "text/plain" }), good, 415},
		{"no key", h(func(m map[string]string) { delete(m, "Idempotency-Key") }), good, 400},
		{"off schema", h(nil), `{"schema":"mesi-result/1"}`, 422},
		{"unknown field", h(nil), strings.Replace(good, `"device":{}`, `"device":{},"extra":1`, 1), 422},
		{"wrong PDF hash", h(nil), strings.Replace(good, `"observations":[]`, `"observations":[],"report":{"contentType":"application/pdf","size":3,"sha256":"`+strings.Repeat("0", 64)+`","base64":"JVBE"}`, 1), 422},
		{"good", h(nil), good, 201},
		{"the same again", h(nil), good, 201},
		{"the key with another body", h(nil), strings.Replace(good, `"r1"`, `"r2"`, 1), 422},
	}
	for _, tc := range tests {
		if code, body := post(t, e.ResultsURL(), tc.hdr, tc.body); code != tc.want {
			t.Errorf("%s: %d %s", tc.name, code, body)
		}
	}
	if n := len(e.Received()); n != 1 {
		t.Errorf("%d results stored, want 1", n)
	}
	if code, _ := post(t, e.URL+"/elsewhere", h(nil), good); code != 404 {
		t.Errorf("another path: %d", code)
	}
}
