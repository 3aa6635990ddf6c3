package gdt

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// ResultOptions control building a 6310 result record.
type ResultOptions struct {
	// HubID is the hub's GDT ID, written as sender (8316). The order's 8315
	// wins when the order has one.
	HubID string
	// EHRID is the EHR's GDT ID, written as receiver (8315). The order's 8316
	// wins when the order has one.
	EHRID string
	// Version (9218) and Charset used when there is no order (unsolicited
	// result) or the order lacks them. Defaults: 02.10 and CP437.
	Version string
	Charset Charset
	// ForceVersion/ForceCharset make Version/Charset win over the order's.
	ForceVersion bool
	ForceCharset bool
	// PDFReference is the PDF's path as the EHR should open it (6305); empty
	// leaves the attachment group out.
	PDFReference string
	// PDFDescription is written in 6304; default "<measurement> report".
	PDFDescription string
	// PDFContent is embedded Base64-encoded in 6329 lines (GDT 3.x only).
	PDFContent []byte
	// Location formats 6200/6201 and 8432/8439; time.Local when nil.
	Location *time.Location
}

// ResultText is the maximum characters per 6220 line: GDT 2.1 text fields are
// at most 60 characters.
const ResultText = 60

// BuildResult builds the 6310 record answering out.Order (or, for an
// unsolicited result, carrying out.Result.Patient). It returns the record
// and the charset it must be encoded in.
//
// Layout: 8000 6310, 8100, 8315 (the order's 8316), 8316 (the order's 8315),
// 9206 (not for UTF-8), 9218, the order identifiers 8310/8314/2999, the
// patient block (3000, 3100-3107, 3110, 3112-3114 as received), 8402,
// 6200/6201 measurement date and time, one group per observation
// (8410 8411 8418 8420 8421 8432 8439 8460 8461 8462), 6220 findings lines,
// 6227 device/operator comment, then 6302/6303/6304/6305 (+6329) for the PDF.
func BuildResult(out domain.Outgoing, opts ResultOptions) (*Record, Charset, error) {
	res := out.Result
	o := out.Order
	meta := func(k string) string {
		if o == nil || o.Meta == nil {
			return ""
		}
		return o.Meta[k]
	}
	version := opts.Version
	if v := meta(MetaVersion); v != "" && !opts.ForceVersion {
		version = v
	}
	if version == "" {
		version = Version21
	}
	cs := opts.Charset
	if c := Charset(meta(MetaCharset)); c != "" && c != CharsetAuto && !opts.ForceCharset {
		cs = c
	}
	if cs == "" || cs == CharsetAuto {
		cs = CharsetCP437
	}
	receiver := meta(MetaSenderID)
	if receiver == "" {
		receiver = opts.EHRID
	}
	sender := meta(MetaReceiverID)
	if sender == "" {
		sender = opts.HubID
	}
	loc := opts.Location
	if loc == nil {
		loc = time.Local
	}

	r := &Record{Charset: cs}
	r.Add(FieldRecordType, "6310")
	r.Add(FieldReceiverID, receiver)
	r.Add(FieldSenderID, sender)
	code := cs.Code()
	if tag := meta(MetaCharsetTag); tag != "" && charsetOfCode(tag, version) == cs {
		code = tag // GDT 3.x 9206=3 is ISO 8859-15: answer as asked
	}
	r.Add(FieldCharset, code)
	r.Add(FieldVersion, version)

	// Identifiers and patient: echo what the order sent, verbatim.
	var p domain.Patient
	switch {
	case o != nil:
		p = o.Patient
		r.Add(FieldOrderID, meta(MetaOrderID))
		r.Add(FieldOrderUID, meta(MetaOrderUID))
		r.Add(FieldRequestRef, meta(MetaRequestRef))
	case res.Patient != nil:
		p = *res.Patient
	default:
		return nil, "", fmt.Errorf("gdt: result %s has neither an order nor a patient", res.ID)
	}
	if p.ID == "" {
		return nil, "", fmt.Errorf("gdt: result %s: patient number (3000) missing", res.ID)
	}
	echo := func(id, fallback string) {
		if o != nil {
			if v, ok := o.Field(id); ok {
				r.Add(id, v)
				return
			}
		}
		r.Add(id, fallback)
	}
	birth := ""
	if p.BirthDate != "" {
		b, err := FormatDate(p.BirthDate)
		if err != nil {
			return nil, "", fmt.Errorf("gdt: result %s: birth date: %w", res.ID, err)
		}
		birth = b
	}
	family := p.Name.Family
	echo(FieldPatientID, p.ID)
	if o != nil {
		if _, ok := o.Field(FieldNamePrefix); ok {
			echo(FieldNamePrefix, "")
			family = ""
		}
	}
	echo(FieldSurname, family)
	echo(FieldFirstName, p.Name.Given)
	echo(FieldBirthDate, birth)
	echo(FieldTitle, p.Name.Prefix)
	echo(FieldInsuranceNumber, p.InsuranceNumber)
	sexCode := SexCode(p.Sex, version)
	if p.SexCode != "" {
		sexCode = p.SexCode
	}
	echo(FieldSex, sexCode)

	device := meta(MetaDeviceCode)
	if device == "" && o != nil {
		device = o.ServiceCode
	}
	if device == "" {
		device = deviceCodes[strings.ToUpper(res.Measurement)]
	}
	r.Add(FieldDeviceCode, device)

	at := res.PerformedAt
	if at.IsZero() {
		at = res.ReceivedAt
	}
	date, clock := "", ""
	if !at.IsZero() {
		at = at.In(loc)
		date, clock = at.Format("02012006"), at.Format("150405")
	}
	r.Add(FieldDate, date)
	r.Add(FieldTime, clock)

	for _, ob := range res.Observations {
		if ob.Code == "" {
			return nil, "", fmt.Errorf("gdt: result %s: observation without a code", res.ID)
		}
		r.Lines = append(r.Lines, Line{ID: FieldTestID, Value: ob.Code})
		r.Add(FieldTestName, ob.Name)
		r.Add(FieldTestStatus, ob.Flag)
		r.Add(FieldResultValue, ob.Value)
		r.Add(FieldUnit, ob.Unit)
		r.Add(FieldTestDate, date)
		r.Add(FieldTestTime, clock)
		if ob.Low != "" || ob.High != "" {
			r.Add(FieldRangeText, strings.TrimSpace(ob.Low+" - "+ob.High))
		}
		r.Add(FieldRangeLow, ob.Low)
		r.Add(FieldRangeHigh, ob.High)
	}
	for _, line := range SplitText(res.Interpretation, ResultText) {
		r.Add(FieldFindings, line)
	}
	var comment []string
	if dev := strings.TrimSpace(res.Device.Model + " " + res.Device.Serial); dev != "" {
		comment = append(comment, "Device: "+dev)
	}
	if res.Operator != "" {
		comment = append(comment, "Operator: "+res.Operator)
	}
	for _, c := range comment {
		for _, line := range SplitText(c, ResultText) {
			r.Add(FieldComment, line)
		}
	}
	if opts.PDFReference != "" || len(opts.PDFContent) > 0 {
		desc := opts.PDFDescription
		if desc == "" {
			desc = strings.TrimSpace(res.Measurement + " report")
		}
		r.Add(FieldArchiveID, res.ID)
		r.Add(FieldFileFormat, "PDF")
		r.Add(FieldFileDescription, desc)
		r.Add(FieldFileReference, opts.PDFReference)
		if len(opts.PDFContent) > 0 {
			if strings.HasPrefix(version, "01") || strings.HasPrefix(version, "02") {
				return nil, "", fmt.Errorf("gdt: result %s: embedded PDF (6329) needs GDT 3.0, the connection writes %s", res.ID, version)
			}
			b64 := base64.StdEncoding.EncodeToString(opts.PDFContent)
			// Chunks of a multiple of 4 characters, so each line is valid Base64 on its own.
			const chunk = MaxContentBytes / 4 * 4
			for len(b64) > 0 {
				n := min(chunk, len(b64))
				r.Lines = append(r.Lines, Line{ID: FieldFileContent, Value: b64[:n]})
				b64 = b64[n:]
			}
		}
	}
	return r, cs, nil
}

// ResultView is what a 6310 record says, read back: used by tests and by
// support tools checking what the hub wrote.
type ResultView struct {
	ReceiverID, SenderID, Version string
	OrderID, OrderUID, RequestRef string
	DeviceCode                    string
	Patient                       domain.Patient
	PerformedAt                   time.Time
	Observations                  []domain.Observation
	Interpretation                string
	Comments                      []string
	PDFReference                  string
	PDFDescription                string
	PDFContent                    []byte
}

// ReadResult reads a 6310 record back into its parts.
func ReadResult(r *Record, loc *time.Location) (*ResultView, error) {
	if r.Type() != "6310" {
		return nil, &Error{Line: 1, Field: FieldRecordType, Msg: fmt.Sprintf("record type %q is not 6310", r.Type())}
	}
	if loc == nil {
		loc = time.Local
	}
	v := &ResultView{}
	var findings []string
	var b64 strings.Builder
	var date, clock string
	var cur *domain.Observation
	for _, l := range r.Lines {
		switch l.ID {
		case FieldReceiverID:
			v.ReceiverID = l.Value
		case FieldSenderID:
			v.SenderID = l.Value
		case FieldVersion:
			v.Version = l.Value
		case FieldOrderID:
			v.OrderID = l.Value
		case FieldOrderUID:
			v.OrderUID = l.Value
		case FieldRequestRef:
			v.RequestRef = l.Value
		case FieldDeviceCode:
			v.DeviceCode = l.Value
		case FieldPatientID:
			v.Patient.ID = l.Value
		case FieldSurname:
			v.Patient.Name.Family = l.Value
		case FieldFirstName:
			v.Patient.Name.Given = l.Value
		case FieldTitle:
			v.Patient.Name.Prefix = l.Value
		case FieldInsuranceNumber:
			v.Patient.InsuranceNumber = l.Value
		case FieldBirthDate:
			d, err := ParseDate(l.Value)
			if err != nil {
				return nil, &Error{Line: l.Num, Field: l.ID, Msg: err.Error()}
			}
			v.Patient.BirthDate = d
		case FieldSex:
			v.Patient.SexCode = l.Value
			v.Patient.Sex = MapSex(l.Value)
		case FieldDate:
			date = l.Value
		case FieldTime:
			clock = l.Value
		case FieldTestID:
			v.Observations = append(v.Observations, domain.Observation{Code: l.Value})
			cur = &v.Observations[len(v.Observations)-1]
		case FieldTestName, FieldTestStatus, FieldResultValue, FieldUnit, FieldRangeLow, FieldRangeHigh:
			if cur == nil {
				return nil, &Error{Line: l.Num, Field: l.ID, Msg: "test field outside a test group (no 8410 before it)"}
			}
			switch l.ID {
			case FieldTestName:
				cur.Name = l.Value
			case FieldTestStatus:
				cur.Flag = l.Value
			case FieldResultValue:
				cur.Value = l.Value
			case FieldUnit:
				cur.Unit = l.Value
			case FieldRangeLow:
				cur.Low = l.Value
			case FieldRangeHigh:
				cur.High = l.Value
			}
		case FieldFindings:
			findings = append(findings, l.Value)
		case FieldComment:
			v.Comments = append(v.Comments, l.Value)
		case FieldFileReference:
			v.PDFReference = l.Value
		case FieldFileDescription:
			v.PDFDescription = l.Value
		case FieldFileContent:
			b64.WriteString(l.Value)
		}
	}
	if date != "" {
		t, err := ParseDateTime(date, clock)
		if err != nil {
			return nil, &Error{Field: FieldDate, Msg: "date/time is not DDMMYYYY/HHMMSS"}
		}
		v.PerformedAt = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc)
	}
	v.Interpretation = strings.Join(findings, "\n")
	if b64.Len() > 0 {
		b, err := base64.StdEncoding.DecodeString(b64.String())
		if err != nil {
			return nil, &Error{Field: FieldFileContent, Msg: "embedded file is not valid Base64"}
		}
		v.PDFContent = b
	}
	return v, nil
}
