package gdtfile

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/gdt"
)

// corpusDir is the real-sample corpus, beside the repository.
var corpusDir = filepath.Join("..", "..", "..", "shared", "corpus", "real", "gdt")

// TestRealCorpus reads every GDT file of the real-sample corpus as the
// inbound does and compares the outcome with testdata/corpus_gdt.tsv:
// accepted with which patient and device code, and which warnings; or
// refused, with which reason. A corpus file missing from the table fails,
// so does a table row without its file.
func TestRealCorpus(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("real-sample corpus not found at %s", corpusDir)
	}
	want := readCorpusTable(t)
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.gdt"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, path := range files {
		name := filepath.Base(path)
		seen[name] = true
		row, ok := want[name]
		if !ok {
			t.Errorf("%s: no expected outcome in testdata/corpus_gdt.tsv", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := readOrder(data, TomedoDefaults())
			if row.outcome == "refused" {
				if err == nil {
					t.Fatalf("accepted, want refused with %q", row.what)
				}
				if !strings.Contains(err.Error(), row.what) {
					t.Fatalf("refused with %q, want %q", err, row.what)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			kind := map[string]gdt.Kind{"order": gdt.KindOrder, "show": gdt.KindShow}[row.outcome]
			if msg.Kind != kind {
				t.Errorf("kind %d, want %s", msg.Kind, row.outcome)
			}
			p := msg.Order.Patient
			got := strings.Join([]string{p.Name.Family, p.Name.Given, p.BirthDate, string(p.Sex), p.ID, msg.Order.ServiceCode}, "|")
			if got != row.what {
				t.Errorf("read %s, want %s", got, row.what)
			}
			warnings := strings.Join(msg.Record.Warnings, "\n")
			if row.warnings == "-" {
				if warnings != "" {
					t.Errorf("warnings %q, want none", msg.Record.Warnings)
				}
				return
			}
			for _, w := range strings.Split(row.warnings, ";") {
				if !strings.Contains(warnings, w) {
					t.Errorf("no warning %q in %q", w, msg.Record.Warnings)
				}
			}
			if msg.Order.Meta[gdt.MetaWarnings] == "" {
				t.Error("warnings not on the order")
			}
		})
	}
	var missing []string
	for name := range want {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("table rows without a corpus file: %v", missing)
	}
}

type corpusRow struct{ outcome, what, warnings string }

func readCorpusTable(t *testing.T) map[string]corpusRow {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "corpus_gdt.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string]corpusRow{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		switch {
		case len(cols) == 3 && cols[1] == "refused":
			rows[cols[0]] = corpusRow{outcome: cols[1], what: cols[2]}
		case len(cols) == 4 && (cols[1] == "order" || cols[1] == "show"):
			rows[cols[0]] = corpusRow{outcome: cols[1], what: cols[2], warnings: cols[3]}
		default:
			t.Fatalf("corpus_gdt.tsv:%d: want file, order|show, fields, warnings or file, refused, reason", n)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestLenientFileAcceptedWithWarning: an order file read leniently is
// stored and archived; its warnings are on the order and in health (code
// read-leniently, the warnings behind Details).
func TestLenientFileAcceptedWithWarning(t *testing.T) {
	t.Parallel()
	opts := DoctolibDefaults()
	opts.QuietPeriod = 100 * time.Millisecond
	sink := newSink()
	r := startInbound(t, opts, sink)
	copyTestdata(t, "lenient_8100_smaller.gdt", filepath.Join(r.opts.InboundDir, "order.gdt"))
	waitFor(t, "the order", func() bool { return sink.count() == 1 })
	if w := sink.get(0).Meta[gdt.MetaWarnings]; !strings.Contains(w, "8100 says 413, file has 417") {
		t.Errorf("order warnings %q", w)
	}
	waitFor(t, "archived", func() bool { return exists(filepath.Join(r.opts.InboundDir, "archive", "order.gdt")) })
	waitFor(t, "health", func() bool { return r.health.has("read-leniently") })
	r.health.mu.Lock()
	defer r.health.mu.Unlock()
	for _, h := range r.health.hs {
		if h.Code == "read-leniently" && (h.Severity != domain.SeverityWarning || h.Args["file"] != "order.gdt" || !strings.Contains(h.Detail, "8100 says 413")) {
			t.Errorf("health %+v", h)
		}
	}
}
