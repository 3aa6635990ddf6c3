package device

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/mesi/mconnect/app/domain"
)

// reportFiles lists the files in the reports folder (finished and temporary).
func (e *env) reportFiles() []string {
	ents, err := os.ReadDir(e.srv.reportsDir)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, en := range ents {
		out = append(out, en.Name())
	}
	return out
}

func (e *env) resultCount() int {
	rs, err := e.st.Results(context.Background(), 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(rs)
}

func TestResultUpload(t *testing.T) {
	e := newEnv(t, nil)
	tab := e.pair(domain.DefaultGroupID, "S1")
	id := e.addOrder(domain.DefaultGroupID, "A1")
	pdf := testPDF(t)
	r, rc := e.upload(tab.Token, "key-1", part{"result", "application/json", resultJSON(id)}, part{"report", "application/pdf", pdf})
	if r.StatusCode != http.StatusCreated || rc.ResultID == "" {
		t.Fatalf("upload: %d %+v", r.StatusCode, problemOf(t, r))
	}
	res, err := e.st.Result(context.Background(), rc.ResultID)
	if err != nil {
		t.Fatal(err)
	}
	if res.OrderID != id || res.DeviceID != tab.DeviceID || res.IdempotencyKey != "key-1" || res.Measurement != "ECG" ||
		len(res.Observations) != 2 || res.Observations[0].Value != "72" || res.Observations[0].Low != "60" || res.Observations[1].Value != "412" ||
		res.PerformedAt.UTC().Hour() != 9 || res.Device.Serial != "MT-1" {
		t.Errorf("stored result %+v", res)
	}
	if res.Report == nil || res.Report.Size != int64(len(pdf)) || res.Report.ContentType != "application/pdf" {
		t.Fatalf("report %+v", res.Report)
	}
	got, err := os.ReadFile(res.Report.Path)
	if err != nil || !bytes.Equal(got, pdf) {
		t.Fatalf("stored report differs (%v)", err)
	}
	if files := e.reportFiles(); len(files) != 1 {
		t.Errorf("reports folder holds %v", files)
	}
	// Part order does not matter; unsolicited results carry the patient.
	r, rc = e.upload(tab.Token, "key-2", part{"report", "application/pdf", pdf}, part{"result", "application/json", resultJSON("")})
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("unsolicited: %d %+v", r.StatusCode, problemOf(t, r))
	}
	res, _ = e.st.Result(context.Background(), rc.ResultID)
	if res.OrderID != "" || res.Patient == nil || res.Patient.ID != "P-77" {
		t.Errorf("unsolicited stored as %+v", res)
	}
}

func TestResultIdempotency(t *testing.T) {
	e := newEnv(t, nil)
	tab := e.pair(domain.DefaultGroupID, "S1")
	other := e.pair(domain.DefaultGroupID, "S2")
	id := e.addOrder(domain.DefaultGroupID, "A1")
	parts := []part{{"result", "application/json", resultJSON(id)}, {"report", "application/pdf", testPDF(t)}}
	r1, rc1 := e.upload(tab.Token, "same-key", parts...)
	r2, rc2 := e.upload(tab.Token, "same-key", parts...)
	if r1.StatusCode != http.StatusCreated || r2.StatusCode != http.StatusCreated || rc1.ResultID != rc2.ResultID {
		t.Fatalf("answers %d %s / %d %s, want the same 201", r1.StatusCode, rc1.ResultID, r2.StatusCode, rc2.ResultID)
	}
	if r2.Header.Get("Idempotent-Replayed") != "true" {
		t.Error("repeat not marked Idempotent-Replayed")
	}
	if n := e.resultCount(); n != 1 {
		t.Fatalf("%d results stored, want 1", n)
	}
	if files := e.reportFiles(); len(files) != 1 {
		t.Errorf("the repeat left its report behind: %v", files)
	}
	// The same key from another tablet is another result.
	r3, rc3 := e.upload(other.Token, "same-key", parts...)
	if r3.StatusCode != http.StatusCreated || rc3.ResultID == rc1.ResultID || e.resultCount() != 2 {
		t.Errorf("other tablet, same key: %d %s", r3.StatusCode, rc3.ResultID)
	}
}

func TestResultStoreFailureLeavesNothing(t *testing.T) {
	e := newEnv(t, nil)
	tab := e.pair(domain.DefaultGroupID, "S1")
	id := e.addOrder(domain.DefaultGroupID, "A1")
	e.hub.failAccept.Store(true)
	r, _ := e.upload(tab.Token, "k", part{"result", "application/json", resultJSON(id)}, part{"report", "application/pdf", testPDF(t)})
	if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, want 503 with Retry-After", r.StatusCode)
	}
	if files := e.reportFiles(); len(files) != 0 {
		t.Errorf("report left behind: %v", files)
	}
	// The retry with the same key succeeds once the store is back.
	e.hub.failAccept.Store(false)
	r, _ = e.upload(tab.Token, "k", part{"result", "application/json", resultJSON(id)}, part{"report", "application/pdf", testPDF(t)})
	if r.StatusCode != http.StatusCreated || e.resultCount() != 1 {
		t.Fatalf("retry: %d", r.StatusCode)
	}
}

func TestResultBadInput(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxReportBytes = 256 << 10; o.MaxJSONBytes = 8 << 10 })
	tab := e.pair(domain.DefaultGroupID, "S1")
	id := e.addOrder(domain.DefaultGroupID, "A1")
	pdf := testPDF(t)
	good := resultJSON(id)
	edit := func(old, new string) []byte { return []byte(strings.Replace(string(good), old, new, 1)) }
	tests := []struct {
		name   string
		key    string
		parts  []part
		ctype  string // overrides the multipart content type
		status int
		field  string
	}{
		{"no idempotency key", "", []part{{"result", "", good}, {"report", "application/pdf", pdf}}, "", 400, "Idempotency-Key"},
		{"key with spaces", "a b", []part{{"result", "", good}, {"report", "application/pdf", pdf}}, "", 400, "Idempotency-Key"},
		{"not multipart", "k", []part{{"result", "", good}}, "application/json", 415, "Content-Type"},
		{"malformed JSON", "k", []part{{"result", "", []byte(`{"measurement":`)}, {"report", "application/pdf", pdf}}, "", 400, "result"},
		{"missing measurement", "k", []part{{"result", "", edit(`"measurement":"ECG",`, "")}, {"report", "application/pdf", pdf}}, "", 422, "result"},
		{"wrong type", "k", []part{{"result", "", edit(`"value":72`, `"value":{"x":1}`)}, {"report", "application/pdf", pdf}}, "", 422, "result.observations.0.value"},
		{"bad date", "k", []part{{"result", "", edit(`2025-03-01T10:15:00+01:00`, `yesterday`)}, {"report", "application/pdf", pdf}}, "", 422, "result.performedAt"},
		{"bad flag", "k", []part{{"result", "", edit(`"flag":"N"`, `"flag":"weird"`)}, {"report", "application/pdf", pdf}}, "", 422, "result.observations.0.flag"},
		{"line break in a code", "k", []part{{"result", "", edit(`"code":"HR"`, `"code":"HR\r\nOBX|9|ST|X"`)}, {"report", "application/pdf", pdf}}, "", 422, "result.observations.0.code"},
		{"line break in a unit", "k", []part{{"result", "", edit(`"unit":"ms"`, `"unit":"ms\n"`)}, {"report", "application/pdf", pdf}}, "", 422, "result.observations.1.unit"},
		{"line break in a value", "k", []part{{"result", "", edit(`"value":"412"`, `"value":"412\r"`)}, {"report", "application/pdf", pdf}}, "", 422, "result.observations.1.value"},
		{"unknown appointment", "k", []part{{"result", "", edit(id, "ord_nope")}, {"report", "application/pdf", pdf}}, "", 422, "result.appointmentId"},
		{"unsolicited without patient", "k", []part{{"result", "", edit(`"appointmentId":"`+id+`",`, "")}, {"report", "application/pdf", pdf}}, "", 422, "result"},
		{"result part too large", "k", []part{{"result", "", edit(`"Sinus rhythm"`, `"`+strings.Repeat("x", 9000)+`"`)}, {"report", "application/pdf", pdf}}, "", 413, "result"},
		{"result part not JSON", "k", []part{{"result", "text/plain", good}, {"report", "application/pdf", pdf}}, "", 415, "result"},
		{"no result part", "k", []part{{"report", "application/pdf", pdf}}, "", 422, "result"},
		{"no report part", "k", []part{{"result", "", good}}, "", 422, "report"},
		{"report not a PDF", "k", []part{{"result", "", good}, {"report", "application/pdf", []byte("GIF89a....")}}, "", 415, "report"},
		{"report empty", "k", []part{{"result", "", good}, {"report", "application/pdf", nil}}, "", 415, "report"},
		{"report declared as image", "k", []part{{"result", "", good}, {"report", "image/png", pdf}}, "", 415, "report"},
		{"report too large", "k", []part{{"result", "", good}, {"report", "application/pdf", append([]byte("%PDF-1.7\n"), make([]byte, 300<<10)...)}}, "", 413, "report"},
		{"report before bad result", "k", []part{{"report", "application/pdf", pdf}, {"result", "", []byte(`[]`)}}, "", 422, "result"},
		{"two reports", "k", []part{{"result", "", good}, {"report", "application/pdf", pdf}, {"report", "application/pdf", pdf}}, "", 400, "report"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := multipartBody(t, tc.parts...)
			if tc.ctype != "" {
				ct = tc.ctype
			}
			hdr := map[string]string{}
			if tc.key != "" {
				hdr["Idempotency-Key"] = tc.key
			}
			r := e.do(http.MethodPost, "/results", tab.Token, body, ct, hdr, nil)
			if r.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %+v", r.StatusCode, tc.status, problemOf(t, r))
			}
			p := problemOf(t, r)
			if p.Field != tc.field || p.Title == "" || p.Detail == "" {
				t.Errorf("problem %+v, want field %q with title and detail", p, tc.field)
			}
			if files := e.reportFiles(); len(files) != 0 {
				t.Errorf("files left in reports folder: %v", files)
			}
			if n := e.resultCount(); n != 0 {
				t.Errorf("%d results stored", n)
			}
		})
	}
}

func TestResultBodyTooLargeByContentLength(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxReportBytes = 1 << 10; o.MaxJSONBytes = 1 << 10 })
	tab := e.pair(domain.DefaultGroupID, "S1")
	body, ct := multipartBody(t, part{"result", "", resultJSON("")}, part{"report", "application/pdf", append([]byte("%PDF-"), make([]byte, 3<<20)...)})
	r := e.do(http.MethodPost, "/results", tab.Token, body, ct, map[string]string{"Idempotency-Key": "k"}, nil)
	if r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", r.StatusCode)
	}
	if files := e.reportFiles(); len(files) != 0 {
		t.Errorf("files left: %v", files)
	}
}
