package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesi/mconnect/connectors/gdt"
)

// catalogueGDTFields are the GDT fields the services catalogue lists for
// Doctolib and tomedo orders.
var catalogueGDTFields = []string{"8000", "8100", "8315", "8316", "9206", "9218", "8402", "8609",
	"3000", "3101", "3102", "3103", "3105", "3106", "3107", "3110", "3112", "3113", "3633",
	"2998", "2999", "3626", "3629"}

// TestGDT runs the GDT flow of Doctolib and tomedo: the order file arrives
// in the inbound folder (dropped there atomically, or uploaded with curl
// over the hub's FTP endpoint) and is archived; the tablet sees every field
// of it; after the upload the 6310 result file and the PDF appear in the
// result folders and answer the order; a file with a wrong line length goes
// to error/ with a note naming the line and the problem.
func TestGDT(t *testing.T) {
	tests := []struct {
		name, ehr, file string
		ftp             bool
		// carries lists fields the sample must hold, so that together the
		// samples cover the catalogue.
		carries []string
	}{
		{"doctolib", "doctolib", "doctolib_6302_cp437.gdt", false, catalogueGDTFields},
		{"tomedo", "tomedo", "tomedo_6302_utf8.gdt", false, []string{"8310", "8314", "8402", "3000", "3101", "3102", "3103", "3619"}},
		{"tomedo_ftp", "tomedo", "tomedo_6302_8859-15.gdt", true, []string{"9206", "8310", "3000", "3101", "3102", "3106"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := readTestdata(t, "connectors", "gdt", "testdata", tt.file)
			order, err := gdt.Parse(raw, gdt.ParseOptions{})
			if err != nil {
				t.Fatalf("sample %s: %v", tt.file, err)
			}
			for _, id := range tt.carries {
				if _, ok := order.Get(id); !ok {
					t.Fatalf("sample %s lacks field %s", tt.file, id)
				}
			}
			curl := ""
			if tt.ftp {
				if curl, err = exec.LookPath("curl"); err != nil {
					t.Skip("curl is not on PATH")
				}
			}

			c := exampleConfig(t, tt.ehr, t.TempDir())
			c.set(t, "gdt.quietPeriod", "300ms")
			env := []string(nil)
			ftpAddr, ftpUser, ftpPassword := "", c.get(t, "gdt.ftp.user"), "ftp-Test-pw-4711"
			if tt.ftp {
				ftpAddr = loopback(freePort(t))
				lo, hi := freePortRange(t, 3)
				c.set(t, "gdt.ftp.enabled", true)
				c.set(t, "gdt.ftp.listen", ftpAddr)
				c.set(t, "gdt.ftp.password", "env:FTP_TEST_PASSWORD")
				c.set(t, "gdt.ftp.passivePorts", fmt.Sprintf("%d-%d", lo, hi))
				env = append(env, "FTP_TEST_PASSWORD="+ftpPassword)
			}
			c.save(t)
			inbound, resultDir, pdfDir := c.get(t, "gdt.inboundDir"), c.get(t, "gdt.resultDir"), c.get(t, "gdt.pdfDir")
			h := startHub(t, c, env...)
			h.pair()

			name := strings.ToUpper(strings.TrimSuffix(tt.file, ".gdt")) + ".GDT"
			if tt.ftp {
				waitListening(t, "FTP endpoint", ftpAddr)
				src := filepath.Join(t.TempDir(), name)
				if err := os.WriteFile(src, raw, 0o600); err != nil {
					t.Fatal(err)
				}
				ftpPut(t, curl, ftpAddr, ftpUser, ftpPassword, src)
			} else {
				dropFile(t, inbound, name, raw)
			}
			archived := waitFile(t, filepath.Join(inbound, "archive", name))
			if string(archived) != string(raw) {
				t.Error("the archived order differs from the file sent")
			}
			waitGone(t, filepath.Join(inbound, name))

			a := h.onlyAppointment()
			checkGDTAppointment(t, a, order)
			resultID, ok := h.upload()[a.ID]
			if !ok {
				t.Fatalf("no result uploaded for %s", a.ID)
			}
			resultFile := waitOne(t, resultDir, ".gdt")
			pdfFile := waitOne(t, pdfDir, ".pdf")
			b, err := os.ReadFile(resultFile)
			if err != nil {
				t.Fatal(err)
			}
			result, err := gdt.Parse(b, gdt.ParseOptions{})
			if err != nil {
				t.Fatalf("result %s does not parse: %v", resultFile, err)
			}
			pdf, err := os.ReadFile(pdfFile)
			if err != nil {
				t.Fatal(err)
			}
			checkGDTResult(t, result, order, filepath.Base(pdfFile), simMeasurement(a.Measurement))
			checkPDF(t, pdf, h.report(resultID))
			h.waitWorklistEmpty()

			// A wrong line length: rejected with a note naming line and problem.
			bad := readTestdata(t, "connectors", "gdt", "testdata", "bad_line_length.gdt")
			dropFile(t, inbound, "BAD.GDT", bad)
			note := string(waitFile(t, filepath.Join(inbound, "error", "BAD.GDT.error")))
			for _, want := range []string{"BAD.GDT", "line 5", "line length"} {
				if !strings.Contains(note, want) {
					t.Errorf("error note does not mention %q:\n%s", want, note)
				}
			}
			if _, err := os.Stat(filepath.Join(inbound, "error", "BAD.GDT")); err != nil {
				t.Errorf("the rejected file is not kept in error/: %v", err)
			}
		})
	}
}

// ftpPut uploads src into the FTP root with curl, as an EHR's FTP client would.
func ftpPut(t *testing.T, curl, addr, user, password, src string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	out, err := exec.CommandContext(ctx, curl, "-sS", "--max-time", "30", "-T", src,
		"ftp://"+addr+"/", "--user", user+":"+password).CombinedOutput()
	if err != nil {
		t.Fatalf("curl upload: %v\n%s", err, out)
	}
}

// waitOne waits until dir holds exactly one file with the extension
// (case-insensitive, not hidden) and returns its path.
func waitOne(t *testing.T, dir, ext string) string {
	t.Helper()
	var path string
	poll(t, ext+" file in "+dir, func() error {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		var found []string
		for _, e := range ents {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") && strings.EqualFold(filepath.Ext(e.Name()), ext) {
				found = append(found, filepath.Join(dir, e.Name()))
			}
		}
		if len(found) != 1 {
			return fmt.Errorf("%d files: %v", len(found), found)
		}
		path = found[0]
		return nil
	})
	return path
}

// gdtDate turns DDMMYYYY into YYYY-MM-DD.
func gdtDate(s string) string {
	if len(s) != 8 {
		return ""
	}
	return s[4:] + "-" + s[2:4] + "-" + s[:2]
}

// checkGDTAppointment checks the tablet's view of a GDT order: the patient
// parts and every line of the file as a field with its value.
func checkGDTAppointment(t *testing.T, a appointment, order *gdt.Record) {
	t.Helper()
	get := func(id string) string { v, _ := order.Get(id); return v }
	p := a.Patient
	checks := []check{
		{"patient id (3000)", p.ID, get("3000")},
		{"surname (3101)", p.Name.Family, get("3101")},
		{"first name (3102)", p.Name.Given, get("3102")},
		{"birth date (3103)", p.BirthDate, gdtDate(get("3103"))},
		{"sex code (3110)", p.SexCode, get("3110")},
	}
	opt := func(what, got, id string) {
		if v := get(id); v != "" {
			checks = append(checks, check{what + " (" + id + ")", got, v})
		}
	}
	opt("insurance number", p.InsuranceNumber, "3105")
	opt("street", p.Address.Street, "3107")
	opt("postal code", p.Address.PostalCode, "3112")
	opt("city", p.Address.City, "3113")
	opt("email", p.Email, "3633")
	opt("email", p.Email, "3619")
	if v := get("8310"); v != "" {
		checks = append(checks, check{"placer number (8310)", a.PlacerNumber, v})
	} else if v := get("2999"); v != "" {
		checks = append(checks, check{"placer number (2999)", a.PlacerNumber, v})
	}
	checkAll(t, checks)
	for _, id := range []string{"3626", "3618"} {
		if v := get(id); v != "" && !hasPhone(p.Phones, v) {
			t.Errorf("phone %q (%s) not among %v", v, id, p.Phones)
		}
	}
	for _, l := range order.Lines {
		if !a.hasField(l.ID, l.Value) {
			t.Errorf("field %s = %q not on the tablet (has %q)", l.ID, l.Value, a.field(l.ID))
		}
	}
}

// checkGDTResult checks a 6310 result against its order.
func checkGDTResult(t *testing.T, result, order *gdt.Record, pdfName, measurement string) {
	t.Helper()
	get := func(r *gdt.Record, id string) string { v, _ := r.Get(id); return v }
	checkAll(t, []check{
		{"8000", get(result, "8000"), "6310"},
		{"8315 (the order's sender)", get(result, "8315"), get(order, "8316")},
		{"8316 (the order's receiver)", get(result, "8316"), get(order, "8315")},
		{"3000", get(result, "3000"), get(order, "3000")},
		{"3101", get(result, "3101"), get(order, "3101")},
		{"3102", get(result, "3102"), get(order, "3102")},
	})
	// The answer is in the order's version and encoding (GDT-SETUP.md).
	if v := get(order, "9218"); v != "" && get(result, "9218") != v {
		t.Errorf("result version 9218 = %q, want the order's %q", get(result, "9218"), v)
	}
	if result.Charset != order.Charset {
		t.Errorf("result encoded as %s, the order as %s", result.Charset, order.Charset)
	}
	if n, want := len(result.All("8410")), simObservations[measurement]; n != want {
		t.Errorf("%d 8410 lines, want one per value of the %s result (%d)", n, measurement, want)
	}
	ref := get(result, "6305")
	if base := ref[strings.LastIndexAny(ref, `/\`)+1:]; base != pdfName {
		t.Errorf("6305 = %q does not name the PDF %q", ref, pdfName)
	}
}
