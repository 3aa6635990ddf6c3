package gdtfile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/gdt"
)

// TestResultNameTransliterated: a name the EHR's charset lacks letters of
// is written with the nearest letters, and the delivery's answer and
// health say so.
func TestResultNameTransliterated(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := DoctolibDefaults() // results in CP437
	opts.ResultDir = filepath.Join(dir, "out")
	h := &healthLog{}
	ob, err := NewOutbound(opts, nil, h)
	if err != nil {
		t.Fatal(err)
	}
	res := domain.Result{ID: "r1", Measurement: "ECG", PerformedAt: time.Now(),
		Patient: &domain.Patient{ID: "7", Name: domain.PersonName{Family: "Šuštar", Given: "Žarko"}}}
	ans, err := ob.Deliver(context.Background(), domain.Outgoing{Result: res})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ans, "Š as S") {
		t.Errorf("answer %q does not name the replaced letters", ans)
	}
	data, err := os.ReadFile(filepath.Join(opts.ResultDir, ob.opts.ResultFileName))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := gdt.Parse(data, gdt.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := rec.Get(gdt.FieldSurname); v != "Sustar" {
		t.Errorf("surname written as %q", v)
	}
	if v, _ := rec.Get(gdt.FieldFirstName); v != "Zarko" {
		t.Errorf("first name written as %q", v)
	}
	if !h.has("transliterated") {
		t.Error("no health warning")
	}
}
