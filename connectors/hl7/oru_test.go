package hl7

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	mrand "math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// makePDF returns size bytes of a PDF-like report.
func makePDF(t testing.TB, size int) []byte {
	t.Helper()
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	copy(data, "%PDF-1.7\n")
	return data
}

// streamedPDF is a report of size pseudo-random bytes made while it is
// read, so that it is never held in memory whole.
func streamedPDF(size int64) io.Reader {
	return io.MultiReader(strings.NewReader("%PDF-1.7\n"), io.LimitReader(mrand.NewChaCha8([32]byte{7}), size-9))
}

// sampleOutgoing is a result for the first order of an ORM in testdata;
// withReport names a PDF report on it.
func sampleOutgoing(t testing.TB, file string, withReport bool) domain.Outgoing {
	t.Helper()
	_, orders, err := testMapper(false).Decode(readTestdata(t, file))
	if err != nil {
		t.Fatal(err)
	}
	ord := orders[0]
	res := domain.Result{
		ID: "R-1", OrderID: "O-1", Measurement: "ECG",
		PerformedAt: time.Date(2024, 3, 15, 9, 5, 0, 0, time.UTC),
		Operator:    "Luka Zupan",
		Observations: []domain.Observation{
			{Code: "HR", Name: "Heart rate", Value: "72", Unit: "bpm", Low: "60", High: "100", Flag: "N"},
			{Code: "RHYTHM", Name: "Rhythm", Value: "Sinus | regular"},
		},
		Interpretation: "Normalen EKG.\nBrez posebnosti: čšž.",
		Device:         domain.DeviceInfo{Serial: "MT-0042", Model: "mTABLET ECG"},
	}
	if withReport {
		res.Report = &domain.Attachment{Path: "reports/R-1.pdf", ContentType: "application/pdf"}
	}
	return domain.Outgoing{Delivery: domain.Delivery{ID: 7}, Result: res, Order: &ord}
}

// TestORURoundTrip builds an ORU from a mapped Birpis order and parses it
// back: every field the EHR needs, and the PDF bytes.
func TestORURoundTrip(t *testing.T) {
	t.Parallel()
	pdf := makePDF(t, 100_003)
	out := sampleOutgoing(t, "birpis_orm.hl7", true)
	var buf bytes.Buffer
	now := time.Date(2024, 3, 15, 9, 10, 0, 0, time.UTC)
	if err := WriteORU(&buf, out, bytes.NewReader(pdf), ORUOptions{ControlID: "ORU123", Now: now}); err != nil {
		t.Fatal(err)
	}
	// Birpis sent 8859/2: the answer is in 8859/2 too.
	if bytes.Contains(buf.Bytes(), []byte("Č")) || !bytes.Contains(buf.Bytes(), []byte{0xc8}) {
		t.Error("ORU not encoded in 8859/2")
	}
	m, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"MSH-3": "MCONNECT", "MSH-4": "MESI", "MSH-5": "BIRPIS", "MSH-6": "ZD LJUBLJANA", "MSH-7": "20240315091000+0000",
		"MSH-9.1": "ORU", "MSH-9.2": "R01", "MSH-10": "ORU123", "MSH-11": "P", "MSH-12": "2.3", "MSH-18": "8859/2",
		"PID-3[1].1": "123456", "PID-3[1].4": "ZZZS", "PID-3[1].5": "MR", "PID-3[2].1": "SI880101",
		"PID-5.1": "Čebašek", "PID-5.2": "Žiga", "PID-5.3": "Matjaž", "PID-5.5": "dr.", "PID-7": "19800101", "PID-8": "M",
		"PID-10": "2106-3", "PID-11.1": "Šmartinska cesta 12", "PID-11.3": "Ljubljana", "PID-11.5": "1000", "PID-11.7": "H",
		"PID-13[1].1": "01 234 5678", "PID-13[1].4": "ziga.cebasek@example.si", "PID-13[2].3": "CP", "PID-15": "sl",
		"PV1-2": "O", "PV1-3.1": "KARD", "PV1-3.4": "ZDL", "PV1-7.2": "Novak", "PV1-10": "KAR", "PV1-19.1": "V2024-77",
		"PV1-19.4": "ZDL", "PV1-19.5": "VN", "PV1-44": "20240315080000+0000",
		"ORC-1": "RE", "ORC-2.1": "ORD1001", "ORC-2.2": "BIRPIS", "ORC-3.1": "FIL1001", "ORC-4": "GRP55", "ORC-5": "CM",
		"ORC-12.1": "1234",
		"OBR-2.1":  "ORD1001", "OBR-3.1": "FIL1001", "OBR-4.1": "ECG", "OBR-4.2": "Mirovni EKG", "OBR-7": "20240315090500+0000",
		"OBR-16.2": "Novak", "OBR-24": "CARD", "OBR-25": "F", "OBR-34": "Luka Zupan", "OBR-44.1": "EKG12",
		"OBX(1)-1": "1", "OBX(1)-2": "NM", "OBX(1)-3.1": "HR", "OBX(1)-3.2": "Heart rate", "OBX(1)-5": "72",
		"OBX(1)-6": "bpm", "OBX(1)-7": "60-100", "OBX(1)-8": "N", "OBX(1)-11": "F", "OBX(1)-18.1": "MT-0042",
		"OBX(2)-2": "ST", "OBX(2)-5": "Sinus | regular",
		"OBX(3)-2": "TX", "OBX(3)-5": "Normalen EKG.\nBrez posebnosti: čšž.",
		"OBX(4)-1": "4", "OBX(4)-2": "ED", "OBX(4)-3.1": "PDF", "OBX(4)-5.2": "Application", "OBX(4)-5.3": "PDF",
		"OBX(4)-5.4": "Base64", "OBX(4)-11": "F",
	}
	for p, w := range want {
		if got := m.Get(p); got != w {
			t.Errorf("%s = %q, want %q", p, got, w)
		}
	}
	got, err := base64.StdEncoding.DecodeString(m.Get("OBX(4)-5.5"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, pdf) {
		t.Errorf("PDF differs after round trip (%d vs %d bytes)", len(got), len(pdf))
	}
	if n := len(m.All("OBX")); n != 4 {
		t.Errorf("%d OBX segments", n)
	}
}

func TestORUUnsolicitedAndOptions(t *testing.T) {
	t.Parallel()
	res := domain.Result{ID: "R-9", Measurement: "BP", PerformedAt: time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC),
		Observations: []domain.Observation{{Code: "SYS", Value: "120", Unit: "mmHg"}},
		Patient:      &domain.Patient{ID: "P77", Name: domain.PersonName{Family: "Müller", Given: "Jörg"}, BirthDate: "1960-02-03", Sex: domain.SexMale}}
	var buf bytes.Buffer
	err := WriteORU(&buf, domain.Outgoing{Result: res}, nil, ORUOptions{ControlID: "C9", SendingApp: "HUB", ReceivingApp: "WEDA",
		ReceivingFacility: "CAB", Version: "2.5"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for p, w := range map[string]string{"MSH-3": "HUB", "MSH-5": "WEDA", "MSH-6": "CAB", "MSH-18": "UNICODE UTF-8",
		"PID-3": "P77", "PID-5.1": "Müller", "PID-7": "19600203", "PID-8": "M", "OBR-3": "R-9", "OBR-4.1": "BP",
		"OBX-5": "120", "OBX-2": "NM", "ORC-2": ""} {
		if got := m.Get(p); got != w {
			t.Errorf("%s = %q, want %q", p, got, w)
		}
	}
	if err := WriteORU(&buf, domain.Outgoing{Result: domain.Result{ID: "x"}}, nil, ORUOptions{ControlID: "C"}); err != ErrNoPatient {
		t.Errorf("no patient: %v", err)
	}
	if err := WriteORU(&buf, domain.Outgoing{Result: res}, nil, ORUOptions{}); err == nil {
		t.Error("no control ID accepted")
	}
}

// TestORUReport: the report comes as a reader; a result that names one
// but comes without it, and a reader that fails, give errors naming the
// result; the OBX ED is written only with a report.
func TestORUReport(t *testing.T) {
	t.Parallel()
	out := sampleOutgoing(t, "nextgen_orm.hl7", true)
	var buf bytes.Buffer
	if err := WriteORU(&buf, out, nil, ORUOptions{ControlID: "C"}); err == nil || !strings.Contains(err.Error(), "result R-1 names a report") {
		t.Errorf("report named but not given: %v", err)
	}
	broken := io.MultiReader(strings.NewReader("%PDF-1.7"), iotest.ErrReader(errors.New("disk gone")))
	if err := WriteORU(&buf, out, broken, ORUOptions{ControlID: "C"}); err == nil ||
		!strings.Contains(err.Error(), "report of result R-1") || !strings.Contains(err.Error(), "disk gone") {
		t.Errorf("failing report: %v", err)
	}
	out.Result.Report = nil
	for _, tt := range []struct {
		report io.Reader
		obx    int
	}{{nil, 3}, {strings.NewReader("%PDF-1.4 tiny"), 4}} {
		buf.Reset()
		if err := WriteORU(&buf, out, tt.report, ORUOptions{ControlID: "C"}); err != nil {
			t.Fatal(err)
		}
		m, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if n := len(m.All("OBX")); n != tt.obx {
			t.Errorf("report %v: %d OBX, want %d", tt.report != nil, n, tt.obx)
		}
		if tt.report != nil && m.Get("OBX(4)-5.5") != base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 tiny")) {
			t.Errorf("OBX ED = %q", m.Get("OBX(4)-5.5"))
		}
	}
}

// TestORUStreamsPDF checks that building an ORU with a 20 MB PDF grows the
// heap by less than three times the PDF size (the budget: the PDF is never
// held whole, let alone as raw + Base64 + message copies).
func TestORUStreamsPDF(t *testing.T) {
	out := sampleOutgoing(t, "hipokrat_orm.hl7", true)
	growth := measureORU(t, out, streamedPDF(20<<20))
	if growth >= 3*20<<20 {
		t.Errorf("heap grew %d bytes for a 20 MB PDF", growth)
	}
	t.Logf("peak heap growth %d KB for a 20 MB PDF", growth>>10)
}

// measureORU writes the ORU to a discarding writer while sampling the heap.
func measureORU(t testing.TB, out domain.Outgoing, report io.Reader) uint64 {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	w := &peakWriter{base: before.HeapAlloc}
	if err := WriteORU(w, out, report, ORUOptions{ControlID: "BIG"}); err != nil {
		t.Fatal(err)
	}
	return w.peak
}

// peakWriter discards data and samples heap use every 1 MB written.
type peakWriter struct {
	base, peak uint64
	n, next    int
}

func (w *peakWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	if w.n >= w.next {
		w.next = w.n + 1<<20
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > w.base && ms.HeapAlloc-w.base > w.peak {
			w.peak = ms.HeapAlloc - w.base
		}
	}
	return len(p), nil
}
