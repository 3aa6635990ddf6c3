package gdtfile

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	jftp "github.com/jlaffaye/ftp"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/gdt"
	"github.com/mesi/mconnect/internal/testfs"
)

// TestResultNameTransliterated: a name the EHR's charset lacks letters of
// is written with the nearest letters, and the delivery's answer and
// health say so.
func TestResultNameTransliterated(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
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

// TestFTPPickupAfterInterruptedSends: results fetched over the embedded
// FTP endpoint (ServeResults). A send cut off after staging shows the EHR
// nothing; the next attempt publishes the file once; an attempt after a
// send cut off once published writes nothing again.
func TestFTPPickupAfterInterruptedSends(t *testing.T) {
	t.Parallel()
	opts := TomedoDefaults()
	base := testfs.TempDir(t)
	opts.ResultDir, opts.PDFDir = filepath.Join(base, "out"), filepath.Join(base, "out")
	opts.TempDir = filepath.Join(base, "out", ".mconnect-tmp") // staging inside the served folder, hidden
	opts.FTP = FTPOptions{Enabled: true, Addr: "127.0.0.1:0", User: "tomedo", Password: "pw", ServeResults: true}
	r := startInbound(t, opts, newSink())
	ob, err := NewOutbound(r.opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := jftp.Dial(r.in.FTPAddr(), jftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("tomedo", "pw"); err != nil {
		t.Fatal(err)
	}
	list := func() []string {
		t.Helper()
		names, err := c.NameList("/results")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, n := range names {
			out = append(out, path.Base(n))
		}
		sort.Strings(out)
		return out
	}
	pdf := filepath.Join(base, "r.pdf")
	os.WriteFile(pdf, []byte("%PDF-1.4 tiny"), 0o644)
	res := domain.Result{ID: "r9", Measurement: "ECG", PerformedAt: time.Now(), Report: &domain.Attachment{Path: pdf},
		Patient: &domain.Patient{ID: "9", Name: domain.PersonName{Family: "Weiß", Given: "Anna"}}}
	var progress domain.Progress
	cut := ""
	out := domain.Outgoing{Delivery: domain.Delivery{ID: 42}, Result: res}
	out.Record = func(_ context.Context, p domain.Progress) error {
		if cut != "" && strings.HasPrefix(p.Step, cut) {
			return errors.New("the hub stopped")
		}
		progress = p
		return nil
	}
	// 1. Cut off once the GDT file is staged: the EHR sees the PDF only.
	cut = stepStaged
	if _, err := ob.Deliver(context.Background(), out); err == nil {
		t.Fatal("send cut off reported delivered")
	}
	if got := list(); len(got) != 1 || !strings.HasSuffix(got[0], ".pdf") {
		t.Fatalf("after a send cut off before publishing, /results lists %v", got)
	}
	// 2. The next attempt publishes the GDT file.
	cut = ""
	out.Progress = progress
	ans, err := ob.Deliver(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if got := list(); len(got) != 2 || got[1] != "TOMEMESI.GDT" {
		t.Fatalf("/results lists %v (%s)", got, ans)
	}
	// 3. The EHR fetches and deletes it; an attempt that finds the step
	// "staged" and no staging file (the hub stopped after the rename) does
	// not write it again.
	if err := c.Delete("/results/TOMEMESI.GDT"); err != nil {
		t.Fatal(err)
	}
	out.Progress = progress
	ans, err = ob.Deliver(context.Background(), out)
	if err != nil || !strings.Contains(ans, "published before the hub stopped") {
		t.Fatalf("answer %q, %v", ans, err)
	}
	if got := list(); len(got) != 1 {
		t.Fatalf("/results lists %v: the result was written again", got)
	}
}
