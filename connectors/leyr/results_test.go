package leyr_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/leyr/leyrfake"
)

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
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 3000)...)
	path := filepath.Join(dir, "res_9.pdf")
	os.WriteFile(path, pdf, 0o600)
	o := &domain.Order{ID: "ord_9", Connection: "webdoc", PlacerNumber: "apt-1", Patient: domain.Patient{ID: patient},
		Meta: map[string]string{"leyr.resourceId": "hsa_id:SE2321000016-1003"}}
	r := domain.Result{ID: "res_9", OrderID: "ord_9", Measurement: "ECG", PerformedAt: time.Date(2026, 3, 2, 9, 41, 0, 0, time.UTC),
		Operator: "Nurse Ana", Interpretation: "Sinus rhythm.",
		Observations: []domain.Observation{{Code: "HR", Name: "Heart rate", Value: "72", Unit: "bpm", Low: "60", High: "100", Flag: "N"},
			{Code: "QTC", Value: "455", Unit: "ms", Flag: "H"}},
		Device: domain.DeviceInfo{Serial: "MT-1", Model: "mTABLET ECG"},
		Report: &domain.Attachment{Path: path, ContentType: "application/pdf", Size: int64(len(pdf))}}
	return domain.Outgoing{Result: r, Order: o, Progress: pr.get(), Record: pr.record}, pdf
}

// A result becomes a medical note, then its PDF a document of the patient.
func TestResultAsNoteAndDocument(t *testing.T) {
	r := newRig(t, fakeOptions(), nil)
	r.seed(1, time.Now())
	pr := &progress{}
	out, pdf := outgoing(t, r.dir, pr)
	ans, err := r.parts.Outbound.Deliver(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	r.noViolations(t)
	notes, docs := r.fake.Notes(), r.fake.Documents()
	if len(notes) != 1 || len(docs) != 1 {
		t.Fatalf("%d notes, %d documents", len(notes), len(docs))
	}
	n, d := notes[0], docs[0]
	if n.PatientID != patient || n.TemplateID != "leyr_unstructured" || n.CreatedByID != "hsa_id:SE2321000016-1003" ||
		n.Title != "MESI mTABLET ECG 2026-03-02 10:41" {
		t.Fatalf("note %+v", n)
	}
	for _, want := range []string{"ECG measured with MESI mTABLET on 2026-03-02 10:41 CET by Nurse Ana.", "Device: mTABLET ECG MT-1.",
		"Heart rate: 72 /min (reference 60–100), normal [LOINC 8867-4]", "QT interval corrected: 455 ms, high [LOINC 8636-3]",
		"Interpretation: Sinus rhythm.", "Result res_9; the PDF report is attached as a document."} {
		if !strings.Contains(n.Content, want) {
			t.Errorf("note lacks %q:\n%s", want, n.Content)
		}
	}
	if d.PatientID != patient || d.MimeType != "application/pdf" || d.FileName != "res_9.pdf" || d.MedicalNoteID != n.ID || !bytes.Equal(d.Bytes, pdf) {
		t.Fatalf("document %+v (%d bytes, want %d)", d, len(d.Bytes), len(pdf))
	}
	if ans != "medical note "+n.ID+", document "+d.ID {
		t.Fatalf("answer %q", ans)
	}
	if len(pr.log) != 1 || pr.log[0] != (domain.Progress{Step: "leyr-note:" + n.ID}) {
		t.Fatalf("progress %+v", pr.log)
	}
	r.noSecrets(t, err)
}

// The note was created and the document failed: the retry sends only the
// document.
func TestRetrySendsOnlyTheDocument(t *testing.T) {
	r := newRig(t, fakeOptions(), nil)
	r.seed(1, time.Now())
	r.fake.SetFault(leyrfake.OpDocument, leyrfake.Fault{HTTP: 503, Detail: "EMR unavailable", Times: 1})
	pr := &progress{}
	out, _ := outgoing(t, r.dir, pr)
	_, err := r.parts.Outbound.Deliver(context.Background(), out)
	if err == nil || domain.IsPermanent(err) || !strings.Contains(err.Error(), "EMR unavailable") {
		t.Fatalf("first attempt: %v; want a temporary error with Leyr's problem", err)
	}
	out, pdf := outgoing(t, r.dir, pr)
	if _, err := r.parts.Outbound.Deliver(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	if n, d := r.fake.Notes(), r.fake.Documents(); len(n) != 1 || len(d) != 1 || !bytes.Equal(d[0].Bytes, pdf) || d[0].MedicalNoteID != n[0].ID {
		t.Fatalf("%d notes, %d documents after the retry; want one each", len(n), len(d))
	}
	if c := r.fake.Calls(leyrfake.OpNote); c != 1 {
		t.Fatalf("%d note calls", c)
	}
}

func TestResultFaults(t *testing.T) {
	tests := []struct {
		name      string
		opts      func(*leyrfake.Options)
		op        leyrfake.Op
		fault     leyrfake.Fault
		permanent bool
		text      string
	}{
		{"template not mapped", func(o *leyrfake.Options) { o.TemplateID = "mesi_template" }, "", leyrfake.Fault{}, true, "template_not_mapped"},
		{"wrong secret", func(o *leyrfake.Options) { o.Secret = "x" }, "", leyrfake.Fault{}, true, "401"},
		{"note 500", nil, leyrfake.OpNote, leyrfake.Fault{HTTP: 500, Detail: "boom"}, false, "boom"},
		{"note 429", nil, leyrfake.OpNote, leyrfake.Fault{HTTP: 429}, false, "429"},
		{"note answer unreadable", nil, leyrfake.OpNote, leyrfake.Fault{HTTP: 201, Body: `{"ok":`}, true, "cannot be read"},
		{"document refused", nil, leyrfake.OpDocument, leyrfake.Fault{HTTP: 413, Detail: "document too large"}, true, "document too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fo := fakeOptions()
			if tc.opts != nil {
				tc.opts(&fo)
			}
			r := newRig(t, fo, nil)
			r.seed(1, time.Now())
			if tc.op != "" {
				r.fake.SetFault(tc.op, tc.fault)
			}
			out, _ := outgoing(t, r.dir, &progress{})
			_, err := r.parts.Outbound.Deliver(context.Background(), out)
			if err == nil || domain.IsPermanent(err) != tc.permanent || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err %v; want permanent %v naming %q", err, tc.permanent, tc.text)
			}
			r.noSecrets(t, err)
		})
	}
}
