package cli

import (
	"archive/zip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/store"
)

func TestDiagExport(t *testing.T) {
	dir := t.TempDir()
	path, c := exampleConfig(t, "tomedo", dir)
	withDB, cdb := exampleConfig(t, "birpis", filepath.Join(dir, "db"))
	st, err := store.Open(filepath.Join(cdb.Hub.DataDir, "mconnect.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyOrder(context.Background(), domain.Order{Connection: "birpis", PlacerNumber: "P1",
		Patient: domain.Patient{ID: "PAT-1", Name: domain.PersonName{Family: "Kovačevič"}}}); err != nil {
		t.Fatal(err)
	}
	// The store stays open, as a running hub's would.
	defer st.Close()

	tests := []struct {
		name       string
		args       []string
		code       int
		entries    []string
		stdout     []string
		stderr     []string
		noEntries  []string
		forbidden  []string
		inSections []string
	}{
		{
			name: "no database yet", code: 0,
			args:       []string{"diag", "export", "--config", path, "--out", filepath.Join(dir, "a.zip")},
			entries:    []string{"README.txt", "version.json", "config.json", "sections.txt"},
			noEntries:  []string{"store.json"},
			stdout:     []string{"a.zip", "left out: store, deliveries, audit"},
			inSections: []string{"store:      FAILED: database not available: no database at"},
		},
		{
			name: "beside an open store", code: 0,
			args:      []string{"diag", "export", "--config", withDB, "--out", filepath.Join(dir, "b.zip")},
			entries:   []string{"README.txt", "store.json", "deliveries.json", "audit.json"},
			noEntries: []string{"orders.json"},
			forbidden: []string{"Kovačevič"},
			stdout:    []string{"b.zip", "patient data removed"},
		},
		{
			name: "with patient data", code: 0,
			args:    []string{"diag", "export", "--config", withDB, "--out", filepath.Join(dir, "c.zip"), "--include-patient-data"},
			entries: []string{"orders.json"},
			stdout:  []string{"INCLUDES patient data"},
		},
		{name: "without --out", code: 2, args: []string{"diag", "export", "--config", path}, stderr: []string{"--out"}},
		{name: "without export", code: 2, args: []string{"diag"}, stderr: []string{"diag: say export"}},
		{name: "bad flag", code: 2, args: []string{"diag", "export", "--outt", "x.zip"}, stderr: []string{"outt"}},
		{name: "missing config", code: 2, args: []string{"diag", "export", "--config", filepath.Join(dir, "nope.json"), "--out", filepath.Join(dir, "d.zip")}, stderr: []string{"does not exist"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mconnect(t, nil, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %s stderr %s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout %q lacks %q", r.stdout, s)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr %q lacks %q", r.stderr, s)
				}
			}
			if tc.code != 0 {
				return
			}
			out := tc.args[len(tc.args)-1]
			if out == "--include-patient-data" {
				out = tc.args[len(tc.args)-2]
			}
			entries := readZip(t, out)
			for _, e := range tc.entries {
				if _, ok := entries[e]; !ok {
					t.Errorf("%s lacks %s", out, e)
				}
			}
			for _, e := range tc.noEntries {
				if _, ok := entries[e]; ok {
					t.Errorf("%s has %s", out, e)
				}
			}
			for name, data := range entries {
				for _, s := range tc.forbidden {
					if strings.Contains(data, s) {
						t.Errorf("%s: %s contains %q", out, name, s)
					}
				}
			}
			for _, s := range tc.inSections {
				if !strings.Contains(entries["sections.txt"], s) {
					t.Errorf("sections.txt lacks %q:\n%s", s, entries["sections.txt"])
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(c.Hub.DataDir, "mconnect.db")); err == nil {
		t.Error("diag export created a database in a data folder that had none")
	}
}

func readZip(t *testing.T, path string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("bundle %s: %v", path, err)
	}
	defer zr.Close()
	out := map[string]string{}
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
		out[f.Name] = string(b)
	}
	return out
}
