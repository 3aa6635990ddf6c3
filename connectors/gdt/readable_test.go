package gdt

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestFieldText renders each value of testdata/readable_values.tsv.
func TestFieldText(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("testdata", "readable_values.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for line := 0; sc.Scan(); {
		line++
		row := sc.Text()
		if row == "" || strings.HasPrefix(row, "#") {
			continue
		}
		cols := strings.Split(row, "\t")
		if len(cols) != 3 {
			t.Fatalf("readable_values.tsv:%d: %d columns, want 3", line, len(cols))
		}
		if got := FieldText(cols[0], cols[1]); got != cols[2] {
			t.Errorf("readable_values.tsv:%d: %s %q = %q, want %q", line, cols[0], cols[1], got, cols[2])
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Errorf("only %d cases read", n)
	}
}

func TestFieldTextCap(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Befund ", 100)
	got := FieldText(FieldFindings, long)
	if utf8.RuneCountInString(got) != MaxTextRunes || !strings.HasSuffix(got, "…") || strings.HasSuffix(got, " …") {
		t.Errorf("cut to %d runes: ...%q", utf8.RuneCountInString(got), got[len(got)-10:])
	}
	at := strings.Repeat("ä", MaxTextRunes)
	if FieldText(FieldFindings, at) != at {
		t.Error("value at the cap changed")
	}
}

// TestOrderFieldTexts: the mapping fills each field's text beside its value.
func TestOrderFieldTexts(t *testing.T) {
	t.Parallel()
	raw := readTestdata(t, "doctolib_6302_cp437.gdt")
	rec, err := Parse(raw, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := MapOrder(rec, raw, MapOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"8000": {"6302", "Order a new examination (6302)"}, "9206": {"2", "IBM CP437"},
		"8402": {"EKG01", "Resting ECG (EKG01)"}, "3103": {"07031961", "1961-03-07"}, "3110": {"1", "male"},
		"6200": {"11032025", "2025-03-11"}, "6201": {"093000", "09:30"}, "3101": {"Müller", "Müller"},
		"3106": {"80331 München", "80331 München"},
	}
	seen := 0
	for _, f := range msg.Order.Fields {
		if w, ok := want[f.Key]; ok {
			seen++
			if f.Value != w[0] || f.Text != w[1] {
				t.Errorf("field %s: value %q text %q, want %q %q", f.Key, f.Value, f.Text, w[0], w[1])
			}
		}
	}
	if seen != len(want) {
		t.Errorf("%d of %d fields seen", seen, len(want))
	}
}

// TestOrdersHaveReadableText maps every GDT order in the repository's
// testdata and in the real-world corpus (../shared/corpus/real/gdt) and
// checks each field's text: present whenever the field has a value, dates
// written as YYYY-MM-DD, no control characters, within the cap, and no
// separator (^ & ~) the value did not hold itself.
func TestOrdersHaveReadableText(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	sets := []struct {
		name  string
		globs []string
	}{
		{"testdata", []string{filepath.Join(root, "connectors", "gdt", "testdata", "*.gdt"),
			filepath.Join(root, "testdata", "orders", "*.gdt")}},
		{"real corpus", []string{filepath.Join(root, "..", "shared", "corpus", "real", "gdt", "*.gdt")}},
	}
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			t.Parallel()
			var files []string
			for _, g := range set.globs {
				m, err := filepath.Glob(g)
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, m...)
			}
			if set.name == "real corpus" && len(files) == 0 {
				t.Skipf("real corpus not present at %s", filepath.Dir(set.globs[0]))
			}
			mapped, dates := 0, 0
			for _, file := range files {
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				rec, err := Parse(data, ParseOptions{})
				if err != nil {
					continue // not a GDT record the hub reads: nothing is shown
				}
				msg, err := MapOrder(rec, data, MapOptions{Now: fixedNow})
				if err != nil {
					continue // a record type that is not an order
				}
				mapped++
				name := filepath.Base(file)
				for _, f := range msg.Order.Fields {
					switch {
					case strings.TrimFunc(f.Value, blank) != "" && f.Text == "":
						t.Errorf("%s: field %s %q has no text", name, f.Key, f.Value)
					case utf8.RuneCountInString(f.Text) > MaxTextRunes:
						t.Errorf("%s: field %s text over the cap", name, f.Key)
					case strings.ContainsFunc(f.Text, func(r rune) bool { return r < 0x20 || r == 0x7f }):
						t.Errorf("%s: field %s text %q holds a control character", name, f.Key, f.Text)
					}
					for _, sep := range []string{"^", "&", "~"} {
						if strings.Count(f.Text, sep) > strings.Count(f.Value, sep) {
							t.Errorf("%s: field %s text %q adds a %s", name, f.Key, f.Text, sep)
						}
					}
					if dateFields[f.Key] {
						if _, err := ParseDate(strings.TrimSpace(f.Value)); err == nil {
							dates++
							if len(f.Text) != 10 || f.Text[4] != '-' || f.Text[7] != '-' {
								t.Errorf("%s: date field %s %q shown as %q", name, f.Key, f.Value, f.Text)
							}
						}
					}
				}
			}
			t.Logf("%d files, %d mapped, %d dates", len(files), mapped, dates)
			if mapped == 0 || dates == 0 {
				t.Errorf("%s: %d files mapped, %d dates seen", set.name, mapped, dates)
			}
		})
	}
}

// moduleRoot is the repository root: the folder above with go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("go.mod not found above the package")
		}
		dir = up
	}
}
