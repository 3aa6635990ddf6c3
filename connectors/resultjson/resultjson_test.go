package resultjson

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/mesi/mconnect/app/domain"
)

func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "docs", "result.schema.json")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("result.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("result.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func outgoing() domain.Outgoing {
	o := &domain.Order{ID: "ord_1", Connection: "join", PlacerNumber: "PL-1",
		Patient: domain.Patient{ID: "12345", Name: domain.PersonName{Given: "Ana", Family: "Novak"}, BirthDate: "1960-03-15", Sex: domain.SexFemale},
		Visit:   domain.Visit{Number: domain.Identifier{Value: "V-9"}}}
	return domain.Outgoing{Order: o, Result: domain.Result{
		ID: "res_1", OrderID: "ord_1", DeviceID: "dev_7", Measurement: "ECG", PerformedAt: time.Date(2026, 3, 2, 9, 41, 12, 0, time.UTC),
		Observations: []domain.Observation{
			{Code: "HR", Name: "Heart rate", Value: "72", Unit: "bpm", Low: "60", High: "100", Flag: "N"},
			{Code: "QTc", Value: "430", Unit: "ms"},
			{Code: "ABI_L", Name: "Ankle-brachial index, left", Value: "1.02"},
		},
		Interpretation: "Sinus rhythm.",
		Device:         domain.DeviceInfo{Serial: "MT-1", Model: "mTABLET ECG"},
		Report:         &domain.Attachment{ContentType: "application/pdf", Size: 4, SHA256: strings.Repeat("a", 64)},
	}}
}

func TestBuild(t *testing.T) {
	s := schema(t)
	tests := []struct {
		name  string
		out   domain.Outgoing
		embed bool
		check func(t *testing.T, r Result)
	}{
		{"with order and PDF", outgoing(), true, func(t *testing.T, r Result) {
			if r.Appointment == nil || r.Appointment.ExternalID != "APT-1" || r.Appointment.VisitNumber != "V-9" {
				t.Errorf("appointment %+v", r.Appointment)
			}
			if r.Patient.Sex != "female" || r.Patient.BirthDate != "1960-03-15" {
				t.Errorf("patient %+v", r.Patient)
			}
			hr, qtc, abi := r.Observations[0], r.Observations[1], r.Observations[2]
			if hr.Code != "8867-4" || hr.System != SystemLOINC || hr.LocalCode != "HR" || hr.Unit != "/min" {
				t.Errorf("HR %+v", hr)
			}
			if qtc.Code != "8636-3" || qtc.Display == "" {
				t.Errorf("QTc %+v", qtc)
			}
			if abi.Code != "ABI_L" || abi.System != SystemMESI || abi.LocalCode != "" {
				t.Errorf("ABI %+v", abi)
			}
			if r.Report == nil || r.Report.Base64 != "JVBERg==" {
				t.Errorf("report %+v", r.Report)
			}
		}},
		{"unsolicited, no embedding", func() domain.Outgoing {
			o := outgoing()
			o.Order = nil
			o.Result.Patient = &domain.Patient{ID: "P9", Sex: domain.SexUndiff}
			return o
		}(), false, func(t *testing.T, r Result) {
			if r.Appointment != nil || r.Patient.ID != "P9" || r.Patient.Sex != "unknown" || r.Report.Base64 != "" {
				t.Errorf("%+v", r)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Build(tc.out, strings.NewReader("%PDF"), Options{HubID: "hub-1", EmbedPDF: tc.embed, ExternalID: "APT-1"})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
			b, _ := json.Marshal(r)
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(v); err != nil {
				t.Fatalf("does not match docs/result.schema.json: %v\n%s", err, b)
			}
		})
	}
}
