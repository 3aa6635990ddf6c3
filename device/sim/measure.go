package sim

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/mesi/mconnect/device"
)

// Observation is one value as the tablet sends it.
type Observation struct {
	Code  string  `json:"code"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
	Flag  string  `json:"flag,omitempty"`
}

// Result is the JSON part of an upload (device/schema/result.schema.json).
type Result struct {
	AppointmentID  string         `json:"appointmentId,omitempty"`
	Measurement    string         `json:"measurement"`
	PerformedAt    time.Time      `json:"performedAt"`
	Operator       string         `json:"operator,omitempty"`
	Observations   []Observation  `json:"observations"`
	Interpretation string         `json:"interpretation,omitempty"`
	Device         map[string]any `json:"device"`
	Patient        map[string]any `json:"patient,omitempty"`
}

func flagOf(v, lo, hi float64) string {
	switch {
	case v < lo:
		return "L"
	case v > hi:
		return "H"
	}
	return "N"
}

func obs(code, name string, v float64, unit string, lo, hi float64) Observation {
	return Observation{Code: code, Name: name, Value: v, Unit: unit, Low: lo, High: hi, Flag: flagOf(v, lo, hi)}
}

// Measure makes a plausible result of kind "ECG" or "ABI" with rng.
func Measure(kind string, rng *rand.Rand, at time.Time) (Result, error) {
	r := Result{Measurement: kind, PerformedAt: at.UTC().Truncate(time.Second)}
	switch kind {
	case "ECG":
		hr := float64(55 + rng.IntN(50))
		pr := float64(120 + rng.IntN(90))
		qrs := float64(76 + rng.IntN(40))
		qt := float64(340 + rng.IntN(90))
		qtc := math.Round(qt / math.Sqrt(60/hr)) // Bazett
		r.Observations = []Observation{
			obs("HR", "Heart rate", hr, "bpm", 60, 100),
			obs("PR", "PR interval", pr, "ms", 120, 200),
			obs("QRS", "QRS duration", qrs, "ms", 70, 110),
			obs("QT", "QT interval", qt, "ms", 350, 450),
			obs("QTc", "QTc interval (Bazett)", qtc, "ms", 350, 450),
		}
		parts := []string{}
		switch {
		case hr < 60:
			parts = append(parts, "Sinus bradycardia")
		case hr > 100:
			parts = append(parts, "Sinus tachycardia")
		default:
			parts = append(parts, "Sinus rhythm")
		}
		if pr > 200 {
			parts = append(parts, "first-degree AV block")
		}
		if qtc > 450 {
			parts = append(parts, "prolonged QTc")
		}
		r.Interpretation = strings.Join(parts, ", ") + "."
	case "ABI":
		left := math.Round((0.75+rng.Float64()*0.6)*100) / 100
		right := math.Round((0.75+rng.Float64()*0.6)*100) / 100
		r.Observations = []Observation{
			obs("ABI_L", "Ankle-brachial index, left", left, "", 0.9, 1.3),
			obs("ABI_R", "Ankle-brachial index, right", right, "", 0.9, 1.3),
		}
		if left < 0.9 || right < 0.9 {
			r.Interpretation = "ABI below 0.9: suggests peripheral arterial disease."
		} else if left > 1.3 || right > 1.3 {
			r.Interpretation = "ABI above 1.3: non-compressible arteries possible."
		} else {
			r.Interpretation = "ABI within normal range."
		}
	default:
		return r, fmt.Errorf("sim: measurement %q: choose ECG or ABI", kind)
	}
	return r, nil
}

// ReportPDF renders the result as a one-page PDF report with a drawn trace.
func ReportPDF(r Result, a *device.Appointment, serial string) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetTitle("MESI mTABLET "+r.Measurement+" report", false)
	pdf.SetCreator("mCONNECT tablet simulator", false)
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 16)
	pdf.Cell(0, 10, "MESI mTABLET - "+r.Measurement+" report")
	pdf.Ln(12)
	pdf.SetFont("Helvetica", "", 10)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	if a != nil {
		pdf.Cell(0, 6, tr(fmt.Sprintf("Patient: %s (ID %s), born %s", a.Patient.Name.Full(), a.Patient.ID, a.Patient.BirthDate)))
		pdf.Ln(6)
		pdf.Cell(0, 6, tr(fmt.Sprintf("Order: %s  Appointment: %s", a.PlacerNumber, a.ID)))
		pdf.Ln(6)
	}
	pdf.Cell(0, 6, fmt.Sprintf("Performed: %s   Device: %s", r.PerformedAt.Format(time.RFC3339), serial))
	pdf.Ln(10)
	pdf.SetFont("Helvetica", "B", 10)
	for _, h := range []struct {
		s string
		w float64
	}{{"Code", 25}, {"Name", 70}, {"Value", 25}, {"Unit", 20}, {"Range", 30}, {"Flag", 15}} {
		pdf.CellFormat(h.w, 7, h.s, "1", 0, "L", false, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("Helvetica", "", 10)
	for _, o := range r.Observations {
		pdf.CellFormat(25, 7, o.Code, "1", 0, "L", false, 0, "")
		pdf.CellFormat(70, 7, o.Name, "1", 0, "L", false, 0, "")
		pdf.CellFormat(25, 7, fmt.Sprint(o.Value), "1", 0, "R", false, 0, "")
		pdf.CellFormat(20, 7, o.Unit, "1", 0, "L", false, 0, "")
		pdf.CellFormat(30, 7, fmt.Sprintf("%g-%g", o.Low, o.High), "1", 0, "L", false, 0, "")
		pdf.CellFormat(15, 7, o.Flag, "1", 0, "C", false, 0, "")
		pdf.Ln(-1)
	}
	pdf.Ln(6)
	pdf.MultiCell(0, 6, "Interpretation: "+r.Interpretation, "", "L", false)
	// A trace: an ECG-like waveform, or two pressure curves for ABI.
	x0, y0, w := 15.0, 170.0, 180.0
	pdf.SetDrawColor(230, 150, 150)
	for x := x0; x <= x0+w; x += 5 {
		pdf.Line(x, y0-25, x, y0+25)
	}
	pdf.SetDrawColor(0, 0, 0)
	px, py := x0, y0
	for i := 1; i <= 720; i++ {
		t := float64(i) / 720 * 6 // six beats
		ph := t - math.Floor(t)
		var y float64
		if r.Measurement == "ECG" {
			switch {
			case ph > 0.30 && ph < 0.33:
				y = -20 * math.Sin((ph-0.30)/0.03*math.Pi)
			case ph > 0.33 && ph < 0.36:
				y = 6 * math.Sin((ph-0.33)/0.03*math.Pi)
			case ph > 0.55 && ph < 0.7:
				y = -5 * math.Sin((ph-0.55)/0.15*math.Pi)
			default:
				y = 0
			}
		} else {
			y = -15 * math.Exp(-8*ph) * math.Sin(6*ph)
		}
		nx, ny := x0+w*float64(i)/720, y0+y
		pdf.Line(px, py, nx, ny)
		px, py = nx, ny
	}
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		return nil, fmt.Errorf("sim: render report: %w", err)
	}
	return b.Bytes(), nil
}
