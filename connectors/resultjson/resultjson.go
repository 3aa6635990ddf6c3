// Package resultjson is the one predefined JSON structure in which the hub
// delivers a result to every JSON EHR (Best Practice through HALO Connect,
// Join, ZipLaneRx): hub and result IDs, the appointment as the EHR gave
// it, the patient, the measurement with its observations (LOINC codes
// where one exists, MESI-local codes otherwise, UCUM units) and the PDF
// report. docs/result-json.md describes it for vendors and
// docs/result.schema.json is its JSON Schema.
package resultjson

import (
	"encoding/base64"
	"io"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// SchemaVersion is the version of the structure ("schema" field).
const SchemaVersion = "mesi-result/1"

// Code systems of observation codes.
const (
	SystemLOINC = "http://loinc.org"
	SystemMESI  = "urn:mesi:observation" // MESI-local codes where LOINC has none (ABI, TBI)
)

// Result is the document sent to the EHR.
type Result struct {
	Schema      string       `json:"schema"`
	HubID       string       `json:"hubId"`
	ResultID    string       `json:"resultId"`
	Appointment *Appointment `json:"appointment,omitempty"`
	Patient     Patient      `json:"patient"`
	Measurement string       `json:"measurement"`
	PerformedAt time.Time    `json:"performedAt"`
	Operator    string       `json:"operator,omitempty"`
	Device      Device       `json:"device"`
	// Observations are the measured values, in the tablet's order.
	Observations   []Observation `json:"observations"`
	Interpretation string        `json:"interpretation,omitempty"`
	Report         *Report       `json:"report,omitempty"`
}

// Appointment names the order the result answers, with the IDs the EHR
// gave it (external ID, placer/filler numbers, visit number).
type Appointment struct {
	ID           string `json:"id"` // the hub's appointment ID
	ExternalID   string `json:"externalId,omitempty"`
	PlacerNumber string `json:"placerNumber,omitempty"`
	FillerNumber string `json:"fillerNumber,omitempty"`
	VisitNumber  string `json:"visitNumber,omitempty"`
	Source       string `json:"source,omitempty"` // the connection it came from
}

// Patient is who was measured.
type Patient struct {
	ID         string `json:"id"`
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	BirthDate  string `json:"birthDate,omitempty"` // YYYY-MM-DD
	Sex        string `json:"sex,omitempty"`       // male, female, other, unknown
}

// Device is the measuring instrument.
type Device struct {
	TabletID string `json:"tabletId,omitempty"`
	Serial   string `json:"serial,omitempty"`
	Model    string `json:"model,omitempty"`
}

// Observation is one value.
type Observation struct {
	Code    string `json:"code"`
	System  string `json:"system"`
	Display string `json:"display,omitempty"`
	// LocalCode is the tablet's own code when Code is a LOINC code.
	LocalCode string `json:"localCode,omitempty"`
	Value     string `json:"value"`
	Unit      string `json:"unit,omitempty"` // UCUM
	Low       string `json:"low,omitempty"`
	High      string `json:"high,omitempty"`
	// Flag is "" or N normal, L low, H high, A abnormal.
	Flag string `json:"flag,omitempty"`
}

// Report is the PDF report: by reference, and with its bytes in base64
// when asked for.
type Report struct {
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	FileName    string `json:"fileName,omitempty"`
	Base64      string `json:"base64,omitempty"`
}

// loinc maps the tablets' observation codes to LOINC (check digits
// verified); codes not listed keep the MESI-local code.
var loinc = map[string]struct{ code, display string }{
	"HR":       {"8867-4", "Heart rate"},
	"PULSE":    {"8867-4", "Heart rate"},
	"SYS":      {"8480-6", "Systolic blood pressure"},
	"DIA":      {"8462-4", "Diastolic blood pressure"},
	"SPO2":     {"59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"},
	"QTC":      {"8636-3", "QT interval corrected"},
	"PR":       {"8625-6", "P-R Interval"},
	"QRS":      {"8633-0", "QRS duration"},
	"QT":       {"8634-8", "Q-T interval"},
	"FEV1":     {"20150-9", "FEV1"},
	"FVC":      {"19868-9", "FVC"},
	"FEV1/FVC": {"19926-5", "FEV1/FVC"},
	"FEV1FVC":  {"19926-5", "FEV1/FVC"},
	"TEMP":     {"8310-5", "Body temperature"},
}

// ucum maps units as tablets write them to UCUM.
var ucum = map[string]string{
	"bpm": "/min", "/min": "/min", "ms": "ms", "mmhg": "mm[Hg]", "mm[hg]": "mm[Hg]", "%": "%",
	"l": "L", "l/s": "L/s", "°c": "Cel", "c": "Cel", "cel": "Cel", "": "",
}

// Options tune Build.
type Options struct {
	HubID string
	// EmbedPDF puts the report's bytes into Report.Base64.
	EmbedPDF bool
	// ExternalID is the EHR's own ID of the appointment (Integration API,
	// pull connectors), when the order carries one.
	ExternalID string
}

// Build makes the document for an outgoing result. report, when not nil,
// is read for Base64 (EmbedPDF); the caller opens and closes the file.
func Build(out domain.Outgoing, report io.Reader, opt Options) (Result, error) {
	r := out.Result
	doc := Result{
		Schema: SchemaVersion, HubID: opt.HubID, ResultID: r.ID, Measurement: r.Measurement,
		PerformedAt: r.PerformedAt.UTC(), Operator: r.Operator, Interpretation: r.Interpretation,
		Device: Device{TabletID: r.DeviceID, Serial: r.Device.Serial, Model: r.Device.Model},
	}
	var p *domain.Patient
	if out.Order != nil {
		o := out.Order
		p = &o.Patient
		doc.Appointment = &Appointment{ID: o.ID, ExternalID: opt.ExternalID, PlacerNumber: o.PlacerNumber,
			FillerNumber: o.FillerNumber, VisitNumber: o.Visit.Number.Value, Source: o.Connection}
	} else {
		p = r.Patient
	}
	if p != nil {
		doc.Patient = Patient{ID: p.ID, GivenName: p.Name.Given, FamilyName: p.Name.Family, BirthDate: p.BirthDate,
			Sex: sexWord(p.Sex)}
	}
	doc.Observations = make([]Observation, 0, len(r.Observations))
	for _, o := range r.Observations {
		doc.Observations = append(doc.Observations, observation(o))
	}
	if r.Report != nil {
		rep := &Report{ContentType: r.Report.ContentType, Size: r.Report.Size, SHA256: r.Report.SHA256}
		if opt.EmbedPDF && report != nil {
			b, err := io.ReadAll(report)
			if err != nil {
				return doc, err
			}
			rep.Base64 = base64.StdEncoding.EncodeToString(b)
		}
		doc.Report = rep
	}
	return doc, nil
}

func observation(o domain.Observation) Observation {
	out := Observation{Code: o.Code, System: SystemMESI, Display: o.Name, Value: o.Value, Low: o.Low, High: o.High, Flag: o.Flag}
	if l, ok := loinc[strings.ToUpper(o.Code)]; ok {
		out.Code, out.System, out.LocalCode = l.code, SystemLOINC, o.Code
		if out.Display == "" {
			out.Display = l.display
		}
	}
	if u, ok := ucum[strings.ToLower(o.Unit)]; ok {
		out.Unit = u
	} else {
		out.Unit = o.Unit
	}
	return out
}

func sexWord(s domain.Sex) string {
	switch s {
	case domain.SexMale:
		return "male"
	case domain.SexFemale:
		return "female"
	case domain.SexOther:
		return "other"
	case domain.SexUnknown:
		return ""
	}
	return "unknown"
}
