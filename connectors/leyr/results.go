package leyr

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/pull"
	"github.com/mesi/mconnect/connectors/resultjson"
)

// Outbound writes a result into the EHR through Leyr: a medical note with
// a readable rendering of the measurement, then the PDF report as a
// document of the patient. The note's ID is recorded (domain.Progress)
// once Leyr created it, so that when the document fails the retry sends
// only the document.
type Outbound struct {
	c     *client
	cfg   ResultsConfig
	hubID string
	loc   *time.Location
	log   logrus.FieldLogger
}

const progressPrefix = "leyr-note:"

// Deliver implements domain.Outbound.
func (o *Outbound) Deliver(ctx context.Context, out domain.Outgoing) (string, error) {
	pid, author := "", o.cfg.CreatedByID
	if out.Order != nil {
		pid = out.Order.Patient.ID
		if author == "" {
			author = out.Order.Meta["leyr.resourceId"]
		}
	} else if out.Result.Patient != nil {
		pid = out.Result.Patient.ID
	}
	if pid == "" {
		return "", domain.Permanent(errors.New("the result names no patient, so Leyr has nowhere to file it"), "")
	}
	if author == "" {
		return "", domain.Permanent(errors.New("no author for the medical note: the appointment names no practitioner; set leyr.results.createdById"), "")
	}
	doc, err := resultjson.Build(out, nil, resultjson.Options{HubID: o.hubID, ExternalID: placer(out)})
	if err != nil {
		return "", domain.Permanent(fmt.Errorf("build the result: %w", err), "")
	}
	title := fmt.Sprintf("%s %s %s", o.cfg.Title, doc.Measurement, doc.PerformedAt.In(o.loc).Format("2006-01-02 15:04"))
	noteID, resumed := strings.CutPrefix(out.Progress.Step, progressPrefix)
	if !resumed || noteID == "" {
		note := MedicalNote{TemplateID: o.cfg.TemplateID, Title: title, CreatedByID: author,
			Content: NoteContent{Unstructured: render(doc, o.loc)}}
		cctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout.D())
		noteID, err = o.c.create(cctx, patientPath(pid)+"/medical-notes", note)
		cancel()
		if isBadAnswer(err) {
			// Leyr said yes but not to what: the note most likely exists.
			// Creating it again would file it twice; a person checks.
			return "", domain.Permanent(fmt.Errorf("leyr: the medical note was accepted but its answer cannot be read, so whether and as what it was filed is unknown; check the EHR, then resend or cancel: %w", err), "")
		}
		if err != nil {
			return "", deliveryError(err, "creating the medical note")
		}
		if out.Record != nil {
			// Not resumable by itself: if the hub stops during the document
			// upload, whether Leyr has the document is unknown.
			if err := out.Record(ctx, domain.Progress{Step: progressPrefix + noteID}); err != nil {
				o.log.WithError(err).WithField("note", noteID).Warn("Leyr medical note created but its ID could not be recorded")
			}
		}
	}
	if out.Result.Report == nil || out.Result.Report.Path == "" {
		return "medical note " + noteID + " (no report)", nil
	}
	pdf, err := os.ReadFile(out.Result.Report.Path)
	if err != nil {
		return "", domain.Temporary(fmt.Errorf("read the report of result %s: %w", out.Result.ID, err), "medical note "+noteID)
	}
	ct := out.Result.Report.ContentType
	if ct == "" {
		ct = "application/pdf"
	}
	d := Document{Title: title, FileName: out.Result.ID + ".pdf", MimeType: ct,
		Content: base64.StdEncoding.EncodeToString(pdf), MedicalNoteID: noteID}
	cctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout.D())
	docID, err := o.c.create(cctx, patientPath(pid)+"/"+strings.Trim(o.cfg.DocumentPath, "/"), d)
	cancel()
	if isBadAnswer(err) {
		o.log.WithError(err).WithField("note", noteID).Warn("Leyr accepted the report but its answer cannot be read")
		return "medical note " + noteID + ", document (Leyr's answer unreadable)", nil
	}
	if err != nil {
		return "", deliveryError(err, "uploading the report (medical note "+noteID+" is filed)")
	}
	return "medical note " + noteID + ", document " + docID, nil
}

// isBadAnswer reports a 2xx answer that could not be read.
func isBadAnswer(err error) bool {
	var pe *pull.Error
	return errors.As(err, &pe) && pe.Kind == pull.KindBadAnswer
}

func placer(out domain.Outgoing) string {
	if out.Order != nil {
		return out.Order.PlacerNumber
	}
	return ""
}

// render writes the result for people: the note's unstructured content.
func render(r resultjson.Result, loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s measured with MESI mTABLET on %s", r.Measurement, r.PerformedAt.In(loc).Format("2006-01-02 15:04 MST"))
	if r.Operator != "" {
		fmt.Fprintf(&b, " by %s", r.Operator)
	}
	b.WriteString(".\n")
	if r.Device.Model != "" || r.Device.Serial != "" {
		fmt.Fprintf(&b, "Device: %s", strings.TrimSpace(r.Device.Model+" "+r.Device.Serial))
		b.WriteString(".\n")
	}
	b.WriteString("\n")
	for _, ob := range r.Observations {
		name := ob.Display
		if name == "" {
			name = ob.Code
		}
		fmt.Fprintf(&b, "%s: %s", name, ob.Value)
		if ob.Unit != "" {
			fmt.Fprintf(&b, " %s", ob.Unit)
		}
		if ob.Low != "" || ob.High != "" {
			fmt.Fprintf(&b, " (reference %s–%s)", ob.Low, ob.High)
		}
		if w := flagWord(ob.Flag); w != "" {
			fmt.Fprintf(&b, ", %s", w)
		}
		code := ob.Code
		if ob.System == resultjson.SystemLOINC {
			code = "LOINC " + ob.Code
		}
		fmt.Fprintf(&b, " [%s]\n", code)
	}
	if r.Interpretation != "" {
		fmt.Fprintf(&b, "\nInterpretation: %s\n", r.Interpretation)
	}
	fmt.Fprintf(&b, "\nResult %s", r.ResultID)
	if r.Report != nil {
		b.WriteString("; the PDF report is attached as a document")
	}
	b.WriteString(".\n")
	return b.String()
}

func flagWord(f string) string {
	switch strings.ToUpper(f) {
	case "N":
		return "normal"
	case "L":
		return "low"
	case "H":
		return "high"
	case "A":
		return "abnormal"
	}
	return ""
}

// deliveryError classifies a failed call for the outbox: 4xx (but 408
// and 429) are permanent, the rest retried.
func deliveryError(err error, doing string) error {
	e := pull.Classify(err)
	wrapped := fmt.Errorf("%s: %w", doing, e)
	answer := ""
	if e.Args["status"] != "" {
		answer = e.Error()
	}
	switch e.Kind {
	case pull.KindAuth, pull.KindRefused:
		return domain.Permanent(wrapped, answer)
	}
	return domain.Temporary(wrapped, answer)
}
