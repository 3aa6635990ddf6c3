package diag

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/connectors/gdtfile"
	"github.com/mesi/mconnect/connectors/registry"
)

// Patient data and secrets planted in the fixture; none may leave without
// IncludePatientData, the secrets never.
const (
	family   = "Müllerström"
	given    = "Heidelinde"
	birth    = "1961-03-12"
	birthHL7 = "19610312"
	birthGDT = "12031961"
	phone    = "+386-1-555-0199"
	mail     = "heidelinde@example.org"
	street   = "Lindenallee 42"
	secret   = "tok-SECRET-123"
	password = "pw-HUNTER-2"
	patID    = "PAT-4711"
	placer   = "PLACER-0815"
	// rejected is the name of a rejected order file: EHRs name files
	// after the patient.
	rejected = "Kovac_Ana_1977-04-02.gdt"
)

var (
	patientStrings = []string{family, given, birth, birthHL7, birthGDT, phone, mail, street, "Kovac_Ana"}
	secretStrings  = []string{secret, password}
)

// fixture builds a data folder with a store, logs and an exchange folder.
type fixture struct {
	cfg     *config.Config
	dataDir string
	st      *store.Store
	resID   string
}

func newFixture(t *testing.T, withStore, withLogs bool) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{dataDir: filepath.Join(dir, "data")}
	c, err := registry.Example("tomedo", f.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	config.SectionOf[*gdtfile.Config](c, gdtfile.Section).FTP.Password = "env:MCONNECT_FTP_PASSWORD"
	f.cfg = c
	in := config.SectionOf[*gdtfile.Config](c, gdtfile.Section).InboundDir
	for _, d := range []string{in, filepath.Join(in, "archive"), filepath.Join(in, "error")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(in, "pending.gdt"), "01380006302\r\n")
	write(t, filepath.Join(in, "archive", "old.gdt"), "01380006302\r\n")
	write(t, filepath.Join(in, "error", rejected), "0173101"+family+"\r\n")
	write(t, filepath.Join(in, "error", rejected+".error"),
		"file: "+filepath.Join(in, "error", rejected)+"\nerror: gdt: line 4: field 3103: not a date\n0173101"+family+"\r\n0193102"+given+"\r\n0173103"+birthGDT+"\r\n0173000"+patID+"\r\n0233619"+mail+"\r\n")

	if withLogs {
		logs := filepath.Join(f.dataDir, "logs")
		if err := os.MkdirAll(logs, 0o700); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(logs, "mconnect.log"), strings.Join([]string{
			`{"level":"info","msg":"order accepted","patientName":"` + family + `","patientId":"` + patID + `","time":"2025-03-01T10:00:00Z"}`,
			`{"level":"warning","msg":"delivery failed for now; will retry","token":"` + secret + `","error":"AE: PID|1||` + patID + `^^^X||` + family + `^` + given + `||` + birthHL7 + `|F","time":"2025-03-01T10:01:00Z"}`,
			`{"level":"error","msg":"file rejected","birthDate":"` + birth + `","phone":"` + phone + `","file":"` + filepath.Join(in, rejected) + `","time":"2025-03-01T10:02:00Z"}`,
			`not json: Authorization: Bearer ` + secret + ` password=` + password,
		}, "\n")+"\n")
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		io.WriteString(zw, `{"level":"error","msg":"old failure","patient":{"id":"`+patID+`","name":{"family":"`+family+`"},"address":{"street":"`+street+`"}},"time":"2025-02-01T10:00:00Z"}`+"\n")
		zw.Close()
		if err := os.WriteFile(filepath.Join(logs, "mconnect-2025-02-01T10-00-00.000.log.gz"), gz.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour)
		os.Chtimes(filepath.Join(logs, "mconnect-2025-02-01T10-00-00.000.log.gz"), old, old)
	}

	if withStore {
		st, err := store.Open(filepath.Join(f.dataDir, "mconnect.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f.st = st
		ctx := context.Background()
		var orderID string
		for i, n := range []string{family, "Zupančič"} {
			acc, err := st.ApplyOrder(ctx, domain.Order{
				Connection: "tomedo", SourceMessageID: "msg-" + n, PlacerNumber: placer + string(rune('a'+i)), Measurement: "ECG",
				Patient: domain.Patient{ID: patID, Name: domain.PersonName{Family: n, Given: given}, BirthDate: birth,
					Phones: []domain.Phone{{Number: phone}}, Email: mail},
			})
			if err != nil {
				t.Fatal(err)
			}
			if orderID == "" {
				orderID = acc.OrderID
			}
		}
		res, _, err := st.SaveResult(ctx, domain.Result{OrderID: orderID, Measurement: "ECG", PerformedAt: time.Now()}, []string{"tomedo"})
		if err != nil {
			t.Fatal(err)
		}
		f.resID = res.ID
		ds, err := st.Deliveries(ctx, store.DeliveryFilter{ResultID: res.ID})
		if err != nil || len(ds) != 1 {
			t.Fatalf("deliveries: %v %v", ds, err)
		}
		claimed, err := st.ClaimDelivery(ctx, ds[0].ID, []domain.DeliveryState{domain.DeliveryQueued})
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.CompleteDelivery(ctx, claimed, store.Outcome{
			State: domain.DeliveryRetrying, NextAt: time.Now().Add(time.Minute),
			Error:  "EHR refused: PID|1||" + patID + "^^^X||" + family + "^" + given + "||" + birthHL7 + "|F\rOBR|1|" + placer,
			Answer: "MSH|^~\\&|EHR\rMSA|AE|1\rERR|PID-5 " + family + " unknown; contact " + mail,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Audit(ctx, domain.AuditEntry{Actor: "cli", Action: "order.delete", Target: orderID, Reason: "duplicate of 0173101" + family}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// unzip returns every entry of the bundle.
func unzip(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}

func TestExport(t *testing.T) {
	t.Parallel()
	common := []string{"README.txt", "version.json", "config.json", "sections.txt", "folders.json"}
	withStore := []string{"store.json", "deliveries.json", "audit.json"}
	withLogs := []string{"logs/mconnect.log", "logs/mconnect-2025-02-01T10-00-00.000.log", "errors.txt"}
	tests := []struct {
		name      string
		store     bool
		logs      bool
		patient   bool
		want      []string
		absent    []string
		failed    []string // sections that must be FAILED in sections.txt
		contains  map[string][]string
		forbidden []string
	}{
		{
			name: "everything, patient data removed", store: true, logs: true,
			want:      concat(common, withStore, withLogs),
			absent:    []string{"orders.json"},
			forbidden: concat(patientStrings, secretStrings),
			contains: map[string][]string{
				"config.json":       {"env:MCONNECT_FTP_PASSWORD", `"pairingCodeTTL": "10m0s"`, `"user": "tomedo"`},
				"deliveries.json":   {"PID|1||" + patID + "^^^X|" + redactedPatient, placer, "MSA|AE"},
				"store.json":        {`"schemaVersion"`, `"tomedo"`, `"default"`},
				"errors.txt":        {"old failure", "delivery failed for now", "file rejected", patID},
				"logs/mconnect.log": {patID, redactedSecret, redactedPatient, "order accepted"},
				"folders.json":      {"rejected-1.gdt.error", redactedFile + `\nerror: gdt`, "0173101" + redactedPatient, "0173000" + patID, `"pending": 1`, `"archived": 1`, `"rejected": 1`},
				"sections.txt":      {"store:      ok", "logs:       ok", "orders:     ok, not included", "names of 2 orders"},
				"README.txt":        {"patient data: removed"},
			},
		},
		{
			name: "with patient data", store: true, logs: true, patient: true,
			want:      concat(common, withStore, withLogs, []string{"orders.json"}),
			forbidden: secretStrings,
			contains: map[string][]string{
				"orders.json":       {family, given, birth, "Zupančič"},
				"logs/mconnect.log": {family, rejected},
				"folders.json":      {rejected + ".error"},
				"README.txt":        {"patient data: INCLUDED"},
			},
		},
		{
			name:      "no store, no logs folder",
			want:      common,
			absent:    concat(withStore, withLogs),
			failed:    []string{"store", "deliveries", "audit", "logs", "errors"},
			forbidden: concat(patientStrings, secretStrings),
			contains: map[string][]string{
				"sections.txt": {"database not available: the file is locked by a test", "logs folder"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.store, tc.logs)
			o := Options{
				Config: f.cfg, ConfigPath: "/etc/mconnect/config.json", DataDir: f.dataDir,
				Version: "9.9.9-test", IncludePatientData: tc.patient,
			}
			if f.st != nil {
				o.Store = f.st
			} else {
				o.StoreErr = errors.New("the file is locked by a test")
			}
			var buf bytes.Buffer
			rep, err := Export(context.Background(), &buf, o)
			if err != nil {
				t.Fatalf("Export: %v", err)
			}
			files := unzip(t, buf.Bytes())
			for _, w := range tc.want {
				if _, ok := files[w]; !ok {
					t.Errorf("bundle lacks %s; has %v", w, keys(files))
				}
			}
			for _, a := range tc.absent {
				if _, ok := files[a]; ok {
					t.Errorf("bundle has %s, want it absent", a)
				}
			}
			for name, data := range files {
				for _, s := range tc.forbidden {
					if bytes.Contains(data, []byte(s)) {
						t.Errorf("%s contains %q:\n%s", name, s, excerpt(data, s))
					}
				}
			}
			for name, subs := range tc.contains {
				for _, s := range subs {
					if !bytes.Contains(files[name], []byte(s)) {
						t.Errorf("%s does not contain %q:\n%s", name, s, files[name])
					}
				}
			}
			sections := string(files["sections.txt"])
			for _, s := range tc.failed {
				if !strings.Contains(sections, s+":") || !strings.Contains(lineOf(sections, s+":"), "FAILED") {
					t.Errorf("section %s not marked failed:\n%s", s, sections)
				}
			}
			if len(tc.failed) == 0 && strings.Contains(sections, "FAILED") {
				t.Errorf("a section failed:\n%s", sections)
			}
			if got := len(rep.Failed()); got != len(tc.failed) {
				t.Errorf("report has %d failed sections, want %d: %+v", got, len(tc.failed), rep.Failed())
			}
		})
	}
}

// TestExportLogCap keeps the newest lines when the logs exceed the cap.
func TestExportLogCap(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false, true)
	var lines strings.Builder
	for i := range 1000 {
		lines.WriteString(`{"level":"info","msg":"line ` + strings.Repeat("x", 50) + `","n":` + strconv.Itoa(i) + "}\n")
	}
	write(t, filepath.Join(f.dataDir, "logs", "mconnect.log"), lines.String())
	var buf bytes.Buffer
	if _, err := Export(context.Background(), &buf, Options{Config: f.cfg, DataDir: f.dataDir, MaxLogBytes: 4096}); err != nil {
		t.Fatal(err)
	}
	files := unzip(t, buf.Bytes())
	log := files["logs/mconnect.log"]
	if len(log) == 0 || len(log) > 4096 {
		t.Fatalf("capped log is %d bytes, want 1..4096", len(log))
	}
	if !bytes.Contains(log, []byte(`"n":999}`)) || bytes.Contains(log, []byte(`"n":0}`)) {
		t.Errorf("cap did not keep the newest lines:\n%s", log)
	}
	if _, ok := files["logs/mconnect-2025-02-01T10-00-00.000.log"]; ok {
		t.Error("an older log file was copied beyond the cap")
	}
	if !bytes.Contains(files["sections.txt"], []byte("left out (size cap")) {
		t.Errorf("sections.txt does not say logs were left out:\n%s", files["sections.txt"])
	}
}

func TestExportFile(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true, true)
	out := filepath.Join(t.TempDir(), "bundle.zip")
	_, size, err := ExportFile(context.Background(), out, Options{Config: f.cfg, DataDir: f.dataDir, Store: f.st})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Size() != size || size == 0 {
		t.Fatalf("bundle file %v size %d, reported %d", err, fi.Size(), size)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".mconnect-diag-*"))
	if len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
	if _, _, err := ExportFile(context.Background(), filepath.Join(t.TempDir(), "missing", "b.zip"), Options{}); err == nil {
		t.Error("ExportFile into a missing folder: no error")
	}
}

func TestRedactText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in    string
		keepPatient bool
		want        []string
		gone        []string
	}{
		{"hl7 pid keeps ids", "PID|1||P1^^^A||Doe^Jane||19800101|F\rPV1|1", false, []string{"PID|1||P1^^^A|" + redactedPatient, "\rPV1|1"}, []string{"Doe", "19800101"}},
		{"hl7 escaped segment end", `PID|1||P1||Doe^Jane\rOBR|1|X`, false, []string{`\rOBR|1|X`}, []string{"Doe"}},
		{"hl7 next of kin", "NK1|1|Doe^John|SPO", false, []string{"NK1|1|" + redactedPatient}, []string{"John"}},
		{"gdt lines", "0173101Doe\r\n0143102Jane\r\n0123000P1\r\n", false, []string{"0173101" + redactedPatient, "0123000P1"}, []string{"Doe", "Jane"}},
		{"gdt in quotes", `line 3 "0173101Doe": bad`, false, []string{`": bad`}, []string{"Doe"}},
		{"email", "mail jane@doe.example now", false, []string{"now"}, []string{"jane@doe.example"}},
		{"kept with patient data", "PID|1||P1||Doe^Jane", true, []string{"Doe^Jane"}, nil},
		{"bearer always", "Authorization: Bearer abcdef123", true, []string{"Bearer " + redactedSecret}, []string{"abcdef123"}},
		{"key=value always", "url?token=abc123&x=1 password: hunter2", true, []string{"&x=1"}, []string{"abc123", "hunter2"}},
		{"url credentials always", "ftp://user:hunter2@host/x", true, []string{"ftp://user:"}, []string{"hunter2"}},
		{"ids survive", "order ord-1 result res-2 patient P1", false, []string{"order ord-1 result res-2 patient P1"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := redactor{keepPatient: tc.keepPatient}.text(tc.in)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q -> %q, lacks %q", tc.in, got, w)
				}
			}
			for _, g := range tc.gone {
				if strings.Contains(got, g) {
					t.Errorf("%q -> %q, still has %q", tc.in, got, g)
				}
			}
		})
	}
}

func TestRedactConfigValues(t *testing.T) {
	t.Parallel()
	in := map[string]any{
		"token":       "keyring:weda-token",
		"tokenHeader": "Authorization",
		"ftp":         map[string]any{"password": "plain-text-oops", "user": "tomedo"},
		"resultURL":   "https://u:p4ss@ehr.example/api?apikey=k3y",
		"apiSecret":   "env:SECRET_VAR",
	}
	out := redactor{}.configValue("", in).(map[string]any)
	if out["token"] != "keyring:weda-token" || out["apiSecret"] != "env:SECRET_VAR" {
		t.Errorf("references not kept: %v", out)
	}
	if out["tokenHeader"] != "Authorization" {
		t.Errorf("tokenHeader redacted: %v", out["tokenHeader"])
	}
	if ftp := out["ftp"].(map[string]any); ftp["password"] != redactedSecret || ftp["user"] != "tomedo" {
		t.Errorf("ftp: %v", ftp)
	}
	if u := out["resultURL"].(string); strings.Contains(u, "p4ss") || strings.Contains(u, "k3y") {
		t.Errorf("resultURL keeps credentials: %s", u)
	}
}

func concat(ls ...[]string) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l...)
	}
	return out
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func lineOf(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func excerpt(data []byte, s string) string {
	i := bytes.Index(data, []byte(s))
	lo, hi := max(0, i-120), min(len(data), i+len(s)+120)
	return string(data[lo:hi])
}

// failWriter fails after n bytes, like a full disk.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

// TestExportOutputFails: a section may fail, the output may not.
func TestExportOutputFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true, true)
	_, err := Export(context.Background(), &failWriter{n: 100}, Options{Config: f.cfg, DataDir: f.dataDir, Store: f.st})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Export to a failing writer: %v, want the write error", err)
	}
}
