package hl7

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// DefaultApplication names the hub in MSH-3 when nothing else is known.
const DefaultApplication = "MESI mCONNECT"

// ORUOptions configure one ORU^R01.
type ORUOptions struct {
	// ControlID is MSH-10 (required; unique per send so that an answer can
	// be matched to exactly this message).
	ControlID string
	// SendingApp/SendingFacility (MSH-3/4). Default: the order's receiving
	// application/facility, else DefaultApplication.
	SendingApp, SendingFacility string
	// ReceivingApp/ReceivingFacility (MSH-5/6). Default: the order's sending
	// application/facility.
	ReceivingApp, ReceivingFacility string
	// Version (MSH-12). Default: the order's version, else 2.5.
	Version string
	// Charset (MSH-18). Default: the order's charset, else UNICODE UTF-8.
	Charset string
	// ProcessingID (MSH-11). Default: the order's, else P.
	ProcessingID string
	// Now is MSH-7 and the report time (time.Now when zero).
	Now time.Time
}

// ErrNoPatient: an unsolicited result without patient data cannot be sent.
var ErrNoPatient = errors.New("hl7: result has neither an order nor a patient")

// WriteORU writes the ORU^R01 for out to w: MSH, PID, PV1, ORC, OBR, one OBX
// per observation, an OBX TX for the interpretation and, when report is not
// nil, an OBX ED with the PDF report, Base64-encoded while it is read from
// report (so a large PDF is never held whole). The caller opens and closes
// the report; a result that names a report (Result.Report) but comes without
// a reader is refused, so that no ORU goes out without its PDF.
func WriteORU(w io.Writer, out domain.Outgoing, report io.Reader, opt ORUOptions) error {
	if opt.ControlID == "" {
		return errors.New("hl7: ORU needs a control ID")
	}
	res := out.Result
	if report == nil && res.Report != nil && res.Report.Path != "" {
		return fmt.Errorf("hl7: result %s names a report but none was given to the ORU", res.ID)
	}
	ord := out.Order
	var patient domain.Patient
	switch {
	case ord != nil:
		patient = ord.Patient
	case res.Patient != nil:
		patient = *res.Patient
	default:
		return ErrNoPatient
	}
	meta := map[string]string{}
	if ord != nil && ord.Meta != nil {
		meta = ord.Meta
	}
	pick := func(vals ...string) string {
		for _, v := range vals {
			if v != "" {
				return v
			}
		}
		return ""
	}
	charset, ok := CanonicalCharset(pick(opt.Charset, meta[MetaCharset], CharsetUTF8))
	if !ok {
		return fmt.Errorf("hl7: unsupported charset %q for ORU", opt.Charset)
	}
	if charset == CharsetASCII {
		charset = CharsetUTF8
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}

	ew, closeEnc := encodingWriter(w, charset)
	bw := bufio.NewWriterSize(ew, 64<<10)
	s := &segWriter{w: bw, d: StandardDelimiters()}

	msh := fields(18)
	msh[3] = s.text(pick(opt.SendingApp, meta[MetaReceivingApp], DefaultApplication))
	msh[4] = s.text(pick(opt.SendingFacility, meta[MetaReceivingFacility]))
	msh[5] = s.text(pick(opt.ReceivingApp, meta[MetaSendingApp]))
	msh[6] = s.text(pick(opt.ReceivingFacility, meta[MetaSendingFacility]))
	msh[7] = FormatTime(now)
	msh[9] = s.comps("ORU", "R01", "ORU_R01")
	msh[10] = s.esc(opt.ControlID)
	msh[11] = s.esc(pick(opt.ProcessingID, meta[MetaProcessingID], "P"))
	msh[12] = s.esc(pick(opt.Version, meta[MetaVersion], "2.5"))
	msh[15], msh[16] = "", ""
	msh[18] = s.esc(charset)
	s.msh(msh[3:]...)

	writePID(s, patient)
	if ord != nil {
		writePV1(s, ord.Visit)
	} else {
		s.seg("PV1", "1", "U")
	}

	placer, filler := "", ""
	if ord != nil {
		placer = s.comps(ord.PlacerNumber, meta[MetaPlacerNamespace])
		filler = s.comps(pick(ord.FillerNumber, res.ID), meta[MetaFillerNamespace])
	} else {
		filler = s.comps(res.ID)
	}
	orc := fields(12)
	orc[1], orc[2], orc[3], orc[5], orc[9] = "RE", placer, filler, "CM", FormatTime(now)
	if ord != nil {
		orc[4] = s.esc(ord.GroupNumber)
		orc[12] = xcnText(s, ord.OrderingProvider)
	}
	s.seg("ORC", orc[1:]...)

	obr := fields(44)
	obr[1], obr[2], obr[3] = "1", placer, filler
	if ord != nil && (ord.ServiceCode != "" || ord.ServiceText != "") {
		obr[4] = s.comps(ord.ServiceCode, ord.ServiceText)
	} else {
		obr[4] = s.comps(res.Measurement, res.Measurement, "MESI")
	}
	obr[7] = FormatTime(res.PerformedAt)
	obr[22] = FormatTime(now)
	obr[25] = "F"
	technician := res.Operator
	if ord != nil {
		obr[16] = xcnText(s, ord.OrderingProvider)
		obr[24] = s.esc(meta[MetaDiagnosticSection])
		if technician == "" {
			technician = ord.Technician
		}
		if v, ok := ord.Field("OBR-44"); ok {
			obr[44] = s.text(v)
		}
	}
	obr[34] = s.esc(technician)
	s.seg("OBR", obr[1:]...)

	set := 0
	for _, o := range res.Observations {
		set++
		f := fields(18)
		f[1] = strconv.Itoa(set)
		value := strings.TrimSpace(o.Value)
		if _, err := strconv.ParseFloat(value, 64); err == nil {
			f[2] = "NM"
		} else {
			f[2] = "ST"
		}
		f[3] = s.comps(o.Code, o.Name, "MESI")
		f[5] = s.esc(value)
		f[6] = s.esc(o.Unit)
		if o.Low != "" || o.High != "" {
			f[7] = s.esc(o.Low + "-" + o.High)
		}
		f[8] = s.esc(o.Flag)
		f[11] = "F"
		f[14] = FormatTime(res.PerformedAt)
		f[18] = s.comps(res.Device.Serial, res.Device.Model)
		s.seg("OBX", f[1:]...)
	}
	if res.Interpretation != "" {
		set++
		f := fields(14)
		f[1], f[2] = strconv.Itoa(set), "TX"
		f[3] = s.comps("INTERP", "Interpretation", "MESI")
		f[5] = s.esc(res.Interpretation)
		f[11] = "F"
		f[14] = FormatTime(res.PerformedAt)
		s.seg("OBX", f[1:]...)
	}
	if report != nil && s.err == nil {
		set++
		if err := writePDF(s, set, res, report); err != nil {
			return err
		}
	}
	if s.err == nil {
		s.err = bw.Flush()
	}
	if s.err == nil {
		s.err = closeEnc()
	}
	if s.err != nil {
		return fmt.Errorf("hl7: writing ORU: %w", s.err)
	}
	return nil
}

// writePDF streams the report into OBX-5 as ^Application^PDF^Base64^<data>.
func writePDF(s *segWriter, set int, res domain.Result, report io.Reader) error {
	d := string(s.d.Field)
	s.w.WriteString("OBX" + d + strconv.Itoa(set) + d + "ED" + d + s.comps("PDF", "Report", "MESI") + d + d)
	s.w.WriteString(s.comps("", "Application", "PDF", "Base64") + string(s.d.Component))
	enc := base64.NewEncoder(base64.StdEncoding, s.w)
	if _, err := io.Copy(enc, report); err != nil {
		return fmt.Errorf("hl7: streaming the report of result %s: %w", res.ID, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("hl7: streaming the report of result %s: %w", res.ID, err)
	}
	s.w.WriteString(strings.Repeat(d, 6) + "F" + d + d + d + FormatTime(res.PerformedAt))
	_, s.err = s.w.WriteString("\r")
	return nil
}

func writePID(s *segWriter, p domain.Patient) {
	f := fields(15)
	f[1] = "1"
	var ids []string
	for _, id := range p.IDs {
		ids = append(ids, s.comps(id.Value, "", "", id.Authority, id.Type))
	}
	if len(ids) == 0 {
		ids = append(ids, s.esc(p.ID))
	}
	f[3] = strings.Join(ids, string(s.d.Repetition))
	n := p.Name
	f[5] = s.comps(n.Family, n.Given, n.Middle, n.Suffix, n.Prefix, n.Degree)
	f[7] = formatDate(p.BirthDate)
	f[8] = s.esc(orDefault(p.SexCode, string(p.Sex)))
	f[10] = s.esc(p.Race)
	a := p.Address
	f[11] = s.comps(a.Street, a.Other, a.City, a.State, a.PostalCode, a.Country, a.Type)
	var tel []string
	for i, ph := range p.Phones {
		mail := ""
		if i == 0 {
			mail = p.Email
		}
		tel = append(tel, s.comps(ph.Number, ph.Use, ph.Equipment, mail))
	}
	if len(p.Phones) == 0 && p.Email != "" {
		tel = append(tel, s.comps("", "NET", "Internet", p.Email))
	}
	f[13] = strings.Join(tel, string(s.d.Repetition))
	f[15] = s.esc(p.Language)
	s.seg("PID", f[1:]...)
}

func writePV1(s *segWriter, v domain.Visit) {
	f := fields(45)
	f[1] = "1"
	f[2] = s.esc(orDefault(v.Class, "U"))
	f[3] = s.text(v.Location)
	f[4] = s.esc(v.AdmissionType)
	f[7] = xcnText(s, v.Attending)
	f[10] = s.esc(v.Service)
	if v.Number.Value != "" {
		f[19] = s.comps(v.Number.Value, "", "", v.Number.Authority, v.Number.Type)
	}
	f[44] = FormatTime(v.AdmitAt)
	f[45] = FormatTime(v.DischargeAt)
	s.seg("PV1", f[1:]...)
}

func xcnText(s *segWriter, p domain.Provider) string {
	n := p.Name
	return s.comps(p.ID, n.Family, n.Given, n.Middle, n.Suffix, n.Prefix, n.Degree)
}
