package halo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/halo"
	"github.com/mesi/mconnect/connectors/halo/halofake"
)

// progress is the outbox's progress record, in memory.
type progress struct {
	mu  sync.Mutex
	p   domain.Progress
	log []domain.Progress
}

func (p *progress) record(_ context.Context, x domain.Progress) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.p = x
	p.log = append(p.log, x)
	return nil
}

func (p *progress) get() domain.Progress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.p
}

func outgoing(t *testing.T, dir string, pr *progress) (domain.Outgoing, []byte) {
	t.Helper()
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0, 0xff, '/', '+'}, 5000)...)
	path := filepath.Join(dir, "res_1.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	o := &domain.Order{ID: "ord_1", Connection: "bestpractice", PlacerNumber: "1001",
		Patient: domain.Patient{ID: "7", Name: domain.PersonName{Given: "Ana", Family: "Novak"}, BirthDate: "1961-07-14", Sex: domain.SexFemale}}
	r := domain.Result{ID: "res_1", OrderID: "ord_1", DeviceID: "dev_1", Measurement: "ECG",
		PerformedAt: time.Date(2026, 3, 2, 9, 41, 12, 0, time.UTC), Operator: "Nurse Ana",
		Observations:   []domain.Observation{{Code: "HR", Name: "Heart rate", Value: "72", Unit: "bpm", Low: "60", High: "100", Flag: "N"}},
		Interpretation: "Sinus rhythm.", Device: domain.DeviceInfo{Serial: "MT-1", Model: "mTABLET ECG"},
		Report: &domain.Attachment{Path: path, ContentType: "application/pdf", Size: int64(len(pdf)), SHA256: "ab"}}
	out := domain.Outgoing{Delivery: domain.Delivery{ID: 1, ResultID: r.ID, Connection: "bestpractice", Attempts: 1}, Result: r, Order: o}
	if pr != nil {
		out.Progress = pr.get()
		out.Record = pr.record
	}
	return out, pdf
}

// A result goes to HALO as one async nonQuery command with the result
// JSON and the PDF; the hub reads the query's status until it succeeds.
func TestResultWritten(t *testing.T) {
	r := newRig(t, nil)
	pr := &progress{}
	out, pdf := outgoing(t, r.dir, pr)
	ans, err := r.parts.Outbound.Deliver(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	r.noViolations(t)
	w := r.fake.Written()
	if len(w) != 1 {
		t.Fatalf("%d results written", len(w))
	}
	if !strings.Contains(ans, w[0].QueryID) || !strings.Contains(ans, "successful") {
		t.Fatalf("answer %q does not name query %s", ans, w[0].QueryID)
	}
	if w[0].ResultID != "res_1" || w[0].AppointmentID != "1001" || w[0].PatientID != "7" || w[0].PDFType != "VarBinary" || !bytes.Equal(w[0].PDF, pdf) {
		t.Fatalf("written %+v (PDF %d bytes, want %d)", w[0], len(w[0].PDF), len(pdf))
	}
	var doc struct {
		Schema, HubID, ResultID, Measurement, Operator, Interpretation string
		Appointment                                                    struct{ ID, ExternalID string }
		Patient                                                        struct{ ID, GivenName, FamilyName, BirthDate, Sex string }
		Observations                                                   []struct{ Code, System, LocalCode, Value, Unit, Flag string }
		Report                                                         struct {
			ContentType string
			Size        int
			Base64      string
		}
	}
	if err := json.Unmarshal(w[0].ResultJSON, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "mesi-result/1" || doc.HubID != "hub-0123456789abcdef" || doc.ResultID != "res_1" || doc.Appointment.ID != "ord_1" ||
		doc.Appointment.ExternalID != "1001" || doc.Patient.ID != "7" || doc.Patient.Sex != "female" || doc.Measurement != "ECG" ||
		len(doc.Observations) != 1 || doc.Observations[0].Code != "8867-4" || doc.Observations[0].Unit != "/min" ||
		doc.Report.Size != len(pdf) || doc.Report.Base64 != "" {
		t.Fatalf("result JSON %+v", doc)
	}
	// The query was recorded before its status was read.
	if len(pr.log) != 1 || pr.log[0] != (domain.Progress{Step: "halo-query:" + w[0].QueryID, Resumable: true}) {
		t.Fatalf("progress %+v", pr.log)
	}
	reqs := r.fake.Requests()
	if reqs[0].Method != "POST" || !strings.HasSuffix(reqs[0].Path, "/queries/async") {
		t.Fatalf("first request %s %s", reqs[0].Method, reqs[0].Path)
	}
	for _, q := range reqs[1:] {
		if q.Method != "GET" || q.Path != "/integrator/sites/"+siteID+"/queries/"+w[0].QueryID {
			t.Fatalf("status read %s %s", q.Method, q.Path)
		}
	}
	var body struct {
		MaxTimeInQueue int
		Command        struct{ ExecutionMode, Type string }
	}
	json.Unmarshal(reqs[0].Body, &body)
	if body.MaxTimeInQueue != 3600000 || body.Command.ExecutionMode != "nonQuery" || body.Command.Type != "text" {
		t.Fatalf("async body %+v", body)
	}
}

// The attempt that submitted the query is cut off (the hub stopped, the
// status read timed out); the next attempt reads the recorded query and
// never submits the result again.
func TestResumeReadsTheRecordedQuery(t *testing.T) {
	r := newRig(t, nil)
	r.fake.Hold(true)
	pr := &progress{}
	out, _ := outgoing(t, r.dir, pr)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	_, err := r.parts.Outbound.Deliver(ctx, out)
	cancel()
	if err == nil || len(r.fake.Submitted()) != 1 || pr.get().Step == "" {
		t.Fatalf("first attempt: %v, %d submitted, progress %+v", err, len(r.fake.Submitted()), pr.get())
	}
	r.fake.Hold(false)
	out, _ = outgoing(t, r.dir, pr)
	if _, err := r.parts.Outbound.Deliver(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	if n := len(r.fake.Submitted()); n != 1 {
		t.Fatalf("%d queries submitted, want the one", n)
	}
	if w := r.fake.Written(); len(w) != 1 {
		t.Fatalf("%d written", len(w))
	}
}

func TestResultFaults(t *testing.T) {
	tests := []struct {
		name      string
		op        halofake.Op
		fault     halofake.Fault
		permanent bool
		forgotten bool // the recorded query is dropped (a retry submits anew)
		text      string
	}{
		{"SQL fails", halofake.OpAsync, halofake.Fault{QueryStatus: "executionFailed", ErrorType: "mssql", ErrorMessage: "Could not find stored procedure 'dbo.MESI_SaveResult'."},
			true, true, "Could not find stored procedure"},
		{"queue expired", halofake.OpAsync, halofake.Fault{QueryStatus: "expiredInQueue"}, false, true, "expiredInQueue"},
		{"site offline", halofake.OpAsync, halofake.Fault{QueryStatus: "initialisationFailedSiteOffline"}, false, true, "initialisationFailedSiteOffline"},
		{"submit refused key", halofake.OpAsync, halofake.Fault{HTTP: 401, Message: "Access denied due to invalid subscription key."}, true, false, "401"},
		{"submit 500", halofake.OpAsync, halofake.Fault{HTTP: 500}, false, false, "500"},
		{"status 503", halofake.OpStatus, halofake.Fault{HTTP: 503, Message: "Site could not be contacted"}, false, false, "503"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			r.fake.SetFault(tc.op, tc.fault)
			pr := &progress{}
			out, _ := outgoing(t, r.dir, pr)
			_, err := r.parts.Outbound.Deliver(context.Background(), out)
			if err == nil || domain.IsPermanent(err) != tc.permanent || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err %v; want permanent %v naming %q", err, tc.permanent, tc.text)
			}
			if tc.forgotten && pr.get().Step != "" {
				t.Fatalf("progress %+v kept for a query that is over", pr.get())
			}
			if !tc.forgotten && tc.op == halofake.OpStatus && pr.get().Step == "" {
				t.Fatal("progress dropped while the query's outcome is unknown")
			}
			if len(r.fake.Written()) != 0 {
				t.Fatal("written despite the fault")
			}
			r.noSecrets(t, err)
		})
	}
}

// A query HALO no longer knows: whether it ran is unknown; the delivery
// waits for a person, and the step is forgotten so a resend submits anew.
func TestUnknownQueryNeedsAPerson(t *testing.T) {
	r := newRig(t, nil)
	pr := &progress{p: domain.Progress{Step: "halo-query:0badc0de-0000-0000-0000-000000000000", Resumable: true}}
	out, _ := outgoing(t, r.dir, pr)
	_, err := r.parts.Outbound.Deliver(context.Background(), out)
	if !domain.IsPermanent(err) || !strings.Contains(err.Error(), "no longer knows") || pr.get().Step != "" {
		t.Fatalf("err %v, progress %+v", err, pr.get())
	}
	if n := len(r.fake.Submitted()); n != 0 {
		t.Fatalf("%d submitted", n)
	}
}

// A query still executing when the attempt's reading time is up stays
// recorded and the error is temporary.
func TestStillExecutingIsLeftForTheNextAttempt(t *testing.T) {
	r := newRig(t, func(c *halo.Config) { c.Results.PollFor = config.Duration(300 * time.Millisecond) })
	r.fake.Hold(true)
	pr := &progress{}
	out, _ := outgoing(t, r.dir, pr)
	_, err := r.parts.Outbound.Deliver(context.Background(), out)
	var de *domain.DeliveryError
	if !errors.As(err, &de) || de.Permanent || !strings.Contains(err.Error(), "still executing") || pr.get().Step == "" {
		t.Fatalf("err %v, progress %+v", err, pr.get())
	}
}
