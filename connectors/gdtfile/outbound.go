package gdtfile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/folder"
	"github.com/mesi/mconnect/connectors/gdt"
)

// maxEmbeddedPDF bounds PDFs embedded as Base64 (6329).
const maxEmbeddedPDF = 50 << 20

// Outbound writes results as a PDF plus a 6310 GDT file. It implements domain.Outbound.
type Outbound struct {
	opts Options
	log  logrus.FieldLogger
	rep  *domain.Reporter
}

var _ domain.Outbound = (*Outbound)(nil)

// NewOutbound checks the options and creates the result and PDF folders;
// a folder that cannot be created is a configuration error.
func NewOutbound(opts Options, log logrus.FieldLogger, health domain.HealthReporter) (*Outbound, error) {
	if opts.ResultDir == "" {
		return nil, errors.New("gdtfile: result folder not set")
	}
	if opts.PDFDir == "" {
		opts.PDFDir = opts.ResultDir
	}
	if opts.ResultNaming == "" {
		opts.ResultNaming = NamingFixed
	}
	if opts.ResultNaming != NamingFixed && opts.ResultNaming != NamingCounting {
		return nil, fmt.Errorf("gdtfile: result naming %q: want %q or %q", opts.ResultNaming, NamingFixed, NamingCounting)
	}
	if opts.ResultFileName == "" {
		opts.ResultFileName = short(opts.EHRID) + short(opts.HubID)
		if opts.ResultFileName == "" {
			opts.ResultFileName = "MESI"
		}
		if opts.ResultNaming == NamingFixed {
			opts.ResultFileName += ".GDT"
		}
	}
	if opts.PDFFileName == "" {
		opts.PDFFileName = "{patient}_{measurement}_{result}.pdf"
	}
	if opts.ResultCharset == gdt.CharsetAuto {
		opts.ResultCharset = ""
	}
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = l
	}
	if health == nil {
		health = domain.HealthFunc(func(domain.Health) {})
	}
	o := &Outbound{opts: opts, rep: domain.NewReporter(health, "conn:"+opts.Name+"/gdt-out"),
		log: log.WithField("connection", opts.Name).WithField("component", "gdt-out"),
	}
	for _, d := range []string{opts.ResultDir, opts.PDFDir} {
		if _, err := folder.NewWriter(d, opts.TempDir); err != nil {
			return nil, fmt.Errorf("gdtfile: %w", err)
		}
	}
	return o, nil
}

func short(id string) string {
	id = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, id)
	if len(id) > 4 {
		id = id[:4]
	}
	return strings.ToUpper(id)
}

// Steps of a delivery recorded with Outgoing.Record, both resumable: a
// send cut off by a crash is taken up again and tells by itself what had
// happened (see Deliver).
const (
	// stepStaging: staging files are being written; nothing of the result
	// GDT file is published yet (the PDF may be).
	stepStaging = "gdt-staging"
	// stepStaged + PDF name: the result GDT file is staged and about to be
	// published by a rename.
	stepStaged = "gdt-staged:"
)

// Deliver writes the PDF (when the result has one) and then the result GDT
// file, so the EHR never sees a GDT file whose PDF is missing. A result file
// of the fixed name that the EHR has not picked up yet makes it return a
// temporary error; the outbox retries.
//
// Both files are written to staging files of this delivery first and
// published by one rename each, the GDT file last. Before a staging file is
// written the step is recorded as resumable, so a send cut off by a crash
// is never left ambiguous: at the next attempt, a recorded "staged" step
// with the GDT staging file gone means the rename happened (delivered, not
// written again); a staging file still there, or an earlier step, means
// the EHR has not seen the GDT file (written again; a PDF published
// before is found by its content and reused).
func (o *Outbound) Deliver(ctx context.Context, out domain.Outgoing) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", domain.Temporary(err, "")
	}
	res := out.Result
	log := o.log.WithField("result", res.ID)
	gdtW, err := o.writer(o.opts.ResultDir)
	if err != nil {
		return "", o.failed(err)
	}
	pdfW, err := o.writer(o.opts.PDFDir)
	if err != nil {
		return "", o.failed(err)
	}
	gdtStage, pdfStage := o.stagingNames(out)
	if pdfName, ok := strings.CutPrefix(out.Progress.Step, stepStaged); ok && !gdtW.Staged(gdtStage) {
		// Published before the hub stopped: the EHR has it.
		answer := "wrote " + o.opts.ResultFileName
		if pdfName != "" {
			answer += " and " + pdfName
		}
		answer += " (published before the hub stopped)"
		log.WithField("pdf", pdfName).Info("GDT result found published after a restart; not written again")
		o.rep.Moved("delivering", map[string]string{"folder": o.opts.ResultDir, "file": answer})
		return answer, nil
	}
	if err := o.record(ctx, out, stepStaging); err != nil {
		return "", o.failed(err)
	}
	ropts := gdt.ResultOptions{
		HubID: o.opts.HubID, EHRID: o.opts.EHRID,
		Version: o.opts.Version, Charset: o.opts.ResultCharset,
		ForceVersion: o.opts.ForceResultFormat, ForceCharset: o.opts.ForceResultFormat,
	}
	var pdfPath string
	if res.Report != nil && res.Report.Path != "" {
		name := o.pdfName(out)
		pdfPath, err = o.writePDF(pdfW, pdfStage, name, res.Report)
		if err != nil {
			return "", o.failed(err)
		}
		ropts.PDFReference = o.reference(filepath.Base(pdfPath))
		ropts.PDFDescription = strings.TrimSpace(res.Measurement + " report")
		if o.opts.EmbedPDF {
			b, err := readLimited(res.Report.Path, maxEmbeddedPDF)
			if err != nil {
				return "", o.failed(domain.Permanent(fmt.Errorf("gdtfile: result %s: %w", res.ID, err), ""))
			}
			ropts.PDFContent = b
		}
	}
	rec, cs, err := gdt.BuildResult(out, ropts)
	if err != nil {
		return "", o.failed(domain.Permanent(err, ""))
	}
	data, err := gdt.Encode(rec, gdt.EncodeOptions{Charset: cs})
	if err != nil {
		return "", o.failed(domain.Permanent(fmt.Errorf("gdtfile: result %s: %w", res.ID, err), ""))
	}
	if _, err := gdtW.Stage(gdtStage, bytes.NewReader(data)); err != nil {
		return "", o.failed(domain.Temporary(fmt.Errorf("gdtfile: writing result file: %w", err), ""))
	}
	if err := o.record(ctx, out, stepStaged+filepath.Base(pdfPath)); err != nil {
		return "", o.failed(err)
	}
	var gdtPath string
	if o.opts.ResultNaming == NamingCounting {
		gdtPath, err = gdtW.PublishNumbered(gdtStage, o.opts.ResultFileName)
	} else {
		gdtPath, err = gdtW.Publish(gdtStage, o.opts.ResultFileName)
	}
	if err != nil {
		if errors.Is(err, folder.ErrExists) || errors.Is(err, folder.ErrNoFreeNumber) {
			err = fmt.Errorf("gdtfile: the EHR has not picked up the previous result file yet: %w", err)
			o.rep.Failed(domain.SeverityWarning, "ehr-not-reading", map[string]string{"folder": o.opts.ResultDir}, err)
			return "", domain.Temporary(err, "")
		}
		return "", o.failed(domain.Temporary(fmt.Errorf("gdtfile: writing result file: %w", err), ""))
	}
	answer := "wrote " + filepath.Base(gdtPath)
	if pdfPath != "" {
		answer += " and " + filepath.Base(pdfPath)
	}
	patientID := ""
	if out.Order != nil {
		patientID = out.Order.Patient.ID
	} else if res.Patient != nil {
		patientID = res.Patient.ID
	}
	log.WithField("file", filepath.Base(gdtPath)).WithField("pdf", filepath.Base(pdfPath)).WithField("patientId", patientID).Info("GDT result written")
	if len(rec.Warnings) > 0 {
		w := strings.Join(rec.Warnings, "; ")
		log.WithField("warning", w).Warn("GDT result written with characters the EHR's charset lacks replaced")
		o.rep.Seed(time.Now())
		o.rep.Failed(domain.SeverityWarning, "transliterated", map[string]string{"folder": o.opts.ResultDir, "file": filepath.Base(gdtPath)},
			fmt.Errorf("result %s: %s", res.ID, w))
		return answer + " (" + w + ")", nil
	}
	o.rep.Moved("delivering", map[string]string{"folder": o.opts.ResultDir, "file": answer})
	return answer, nil
}

// stagingNames are the delivery's own staging file names (the GDT file,
// the PDF): one delivery, one pair of names.
func (o *Outbound) stagingNames(out domain.Outgoing) (gdtName, pdfName string) {
	id := fmt.Sprintf("d%d-%s", out.Delivery.ID, safeName(out.Result.ID))
	return "gdt-result-" + id + ".gdt", "gdt-report-" + id + ".pdf"
}

// record saves the step as resumable; without an outbox that keeps
// progress (Record nil) there is nothing to save.
func (o *Outbound) record(ctx context.Context, out domain.Outgoing, step string) error {
	if out.Record == nil {
		return nil
	}
	if err := out.Record(ctx, domain.Progress{Step: step, Resumable: true}); err != nil {
		return domain.Temporary(fmt.Errorf("gdtfile: recording how far the delivery got: %w", err), "")
	}
	return nil
}

// writer returns a writer for dir. A folder that vanished is created again;
// one that cannot be (permission, a file in the way) is a permanent error.
func (o *Outbound) writer(dir string) (*folder.Writer, error) {
	w, err := folder.NewWriter(dir, o.opts.TempDir)
	if err == nil {
		return w, nil
	}
	if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, os.ErrExist) {
		return nil, domain.Permanent(fmt.Errorf("gdtfile: output folder is misconfigured: %w", err), "")
	}
	return nil, domain.Temporary(fmt.Errorf("gdtfile: output folder unavailable: %w", err), "")
}

// writePDF copies the stored report into the PDF folder through the
// delivery's staging file. If a file of that name is there with the same
// content (an earlier attempt), it is reused; a different file of that
// name gets a numbered sibling.
func (o *Outbound) writePDF(w *folder.Writer, staging, name string, att *domain.Attachment) (string, error) {
	src, err := os.Open(att.Path)
	if err != nil {
		return "", domain.Permanent(fmt.Errorf("gdtfile: PDF report %s cannot be read: %w", att.Path, err), "")
	}
	defer src.Close()
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	staged := false
	for i := 0; i < 100; i++ {
		cand := name
		if i > 0 {
			cand = fmt.Sprintf("%s-%d%s", stem, i, ext)
		}
		existing := filepath.Join(w.Dir(), cand)
		if _, err := os.Lstat(existing); err == nil {
			if same, _ := sameContent(existing, att); same {
				_ = w.Unstage(staging)
				return existing, nil
			}
			continue
		}
		if !staged {
			if _, err := w.Stage(staging, src); err != nil {
				return "", domain.Temporary(fmt.Errorf("gdtfile: writing PDF: %w", err), "")
			}
			staged = true
		}
		p, err := w.Publish(staging, cand)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, folder.ErrExists) {
			return "", domain.Temporary(fmt.Errorf("gdtfile: writing PDF: %w", err), "")
		}
	}
	return "", domain.Temporary(fmt.Errorf("gdtfile: no free PDF name for %s", name), "")
}

func sameContent(path string, att *domain.Attachment) (bool, error) {
	want := att.SHA256
	if want == "" {
		h, err := fileSHA(att.Path)
		if err != nil {
			return false, err
		}
		want = h
	}
	got, err := fileSHA(path)
	if err != nil {
		return false, err
	}
	return strings.EqualFold(got, want), nil
}

func fileSHA(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("PDF is larger than %d bytes and cannot be embedded", limit)
	}
	return b, nil
}

// pdfName expands the PDF name template into a safe file name.
func (o *Outbound) pdfName(out domain.Outgoing) string {
	res := out.Result
	patient, order := "", res.OrderID
	if out.Order != nil {
		patient = out.Order.Patient.ID
		if out.Order.PlacerNumber != "" {
			order = out.Order.PlacerNumber
		}
	} else if res.Patient != nil {
		patient = res.Patient.ID
	}
	at := res.PerformedAt
	if at.IsZero() {
		at = time.Now()
	}
	r := strings.NewReplacer("{patient}", patient, "{result}", res.ID, "{order}", order,
		"{measurement}", res.Measurement, "{date}", at.Format("20060102-150405"))
	name := safeName(r.Replace(o.opts.PDFFileName))
	if !strings.EqualFold(filepath.Ext(name), ".pdf") {
		name += ".pdf"
	}
	return name
}

func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r < 0x20, strings.ContainsRune(`/\:*?"<>|`, r):
			return '_'
		}
		return r
	}, s)
	s = strings.TrimLeft(s, ". ")
	if s == "" {
		s = "report"
	}
	return s
}

// reference is the PDF path as the EHR should open it (6305).
func (o *Outbound) reference(name string) string {
	base := o.opts.PDFReference
	if base == "" {
		abs, err := filepath.Abs(o.opts.PDFDir)
		if err != nil {
			abs = o.opts.PDFDir
		}
		return filepath.Join(abs, name)
	}
	sep := "/"
	if strings.Contains(base, `\`) {
		sep = `\`
	}
	return strings.TrimRight(base, `/\`) + sep + name
}

func (o *Outbound) failed(err error) error {
	sev := domain.SeverityWarning
	if domain.IsPermanent(err) {
		sev = domain.SeverityError
	}
	o.rep.Failed(sev, "write-failed", map[string]string{"folder": o.opts.ResultDir}, err)
	o.log.WithError(err).Warn("GDT result not written")
	return err
}
