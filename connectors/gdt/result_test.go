package gdt

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

func orderFrom(t testing.TB, file string) *domain.Order {
	t.Helper()
	raw := readTestdata(t, file)
	rec, err := Parse(raw, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := MapOrder(rec, raw, MapOptions{Connection: "c"})
	if err != nil {
		t.Fatal(err)
	}
	return &msg.Order
}

func sampleResult() domain.Result {
	return domain.Result{
		ID:          "res-1",
		Measurement: "ECG",
		PerformedAt: time.Date(2025, 3, 11, 10, 15, 30, 0, time.UTC),
		Operator:    "MFA Schulz",
		Observations: []domain.Observation{
			{Code: "HR", Name: "Herzfrequenz", Value: "72", Unit: "/min", Low: "60", High: "100", Flag: "N"},
			{Code: "QTC", Name: "QTc", Value: "452", Unit: "ms", High: "450", Flag: "H"},
			{Code: "RHY", Name: "Rhythmus", Value: "Sinusrhythmus"},
		},
		Interpretation: "Sinusrhythmus, normale Herzachse.\nQTc grenzwertig verlängert.",
		Device:         domain.DeviceInfo{Model: "mTABLET ECG", Serial: "MT-0042"},
		Report:         &domain.Attachment{Path: "/x/res-1.pdf", ContentType: "application/pdf"},
	}
}

func TestResultRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		order     string // testdata order, "" for unsolicited
		opts      ResultOptions
		charset   Charset
		version   string
		receiver  string
		sender    string
		sexCode   string
		pdfInline bool
	}{
		{name: "doctolib 2.1 cp437", order: "doctolib_6302_cp437.gdt", opts: ResultOptions{PDFReference: `C:\GDT\PDF\res-1.pdf`},
			charset: CharsetCP437, version: "02.10", receiver: "DOCTOLIB", sender: "MESI", sexCode: "1"},
		{name: "tomedo 3.0 utf-8 with base64", order: "tomedo_6302_utf8.gdt", opts: ResultOptions{PDFReference: "/srv/pdf/res-1.pdf", PDFContent: bytes.Repeat([]byte("%PDF-1.7 äöü\x00\xff"), 500)},
			charset: CharsetUTF8, version: "03.00", receiver: "TOMEDO", sender: "MESI", sexCode: "W", pdfInline: true},
		{name: "tomedo 8859-15", order: "tomedo_6302_8859-15.gdt", charset: CharsetISO885915, version: "03.00", receiver: "TOMEDO", sender: "MESI", sexCode: "D"},
		{name: "din 66003", order: "din66003_6301.gdt", charset: CharsetDIN66003, version: "02.10", receiver: "PRAXIS", sender: "MESI", sexCode: "2"},
		{name: "unsolicited", opts: ResultOptions{HubID: "MESI", EHRID: "PVS1", Version: "02.10", Charset: CharsetWindows1252},
			charset: CharsetWindows1252, version: "02.10", receiver: "PVS1", sender: "MESI", sexCode: "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := sampleResult()
			out := domain.Outgoing{Result: res}
			var want domain.Patient
			if tt.order != "" {
				out.Order = orderFrom(t, tt.order)
				want = out.Order.Patient
			} else {
				want = domain.Patient{ID: "9", Name: domain.PersonName{Family: "Kühn", Given: "Lea"}, BirthDate: "2001-12-24", Sex: domain.SexFemale}
				out.Result.Patient = &want
			}
			tt.opts.Location = time.UTC
			rec, cs, err := BuildResult(out, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if cs != tt.charset {
				t.Fatalf("charset %s, want %s", cs, tt.charset)
			}
			raw, err := Encode(rec, EncodeOptions{Charset: cs})
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(raw, ParseOptions{Charset: cs})
			if err != nil {
				t.Fatal(err)
			}
			if back.Type() != "6310" || back.Lines[1].ID != "8100" {
				t.Fatalf("head %+v", back.Lines[:2])
			}
			if code, ok := back.Get("9206"); ok != (cs != CharsetUTF8) || code != cs.Code() {
				t.Errorf("9206 = %q (present %v) for %s", code, ok, cs)
			}
			v, err := ReadResult(back, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "receiver", v.ReceiverID, tt.receiver)
			eq(t, "sender", v.SenderID, tt.sender)
			eq(t, "version", v.Version, tt.version)
			eq(t, "patient", v.Patient.ID, want.ID)
			eq(t, "surname", v.Patient.Name.Family, want.Name.Family)
			eq(t, "given", v.Patient.Name.Given, want.Name.Given)
			eq(t, "birth", v.Patient.BirthDate, want.BirthDate)
			eq(t, "sex", v.Patient.SexCode, tt.sexCode)
			wantCode := "EKG01" // derived from the measurement
			if out.Order != nil && out.Order.ServiceCode != "" {
				wantCode = out.Order.ServiceCode
			}
			eq(t, "device code", v.DeviceCode, wantCode)
			if !v.PerformedAt.Equal(res.PerformedAt) {
				t.Errorf("performed %v", v.PerformedAt)
			}
			if !reflect.DeepEqual(v.Observations, res.Observations) {
				t.Errorf("observations\n got %+v\nwant %+v", v.Observations, res.Observations)
			}
			eq(t, "findings", v.Interpretation, res.Interpretation)
			if len(v.Comments) != 2 || v.Comments[1] != "Operator: MFA Schulz" {
				t.Errorf("comments %q", v.Comments)
			}
			eq(t, "pdf ref", v.PDFReference, tt.opts.PDFReference)
			if tt.pdfInline && !bytes.Equal(v.PDFContent, tt.opts.PDFContent) {
				t.Error("embedded PDF differs")
			}
			if out.Order != nil {
				eq(t, "order id", v.OrderID, out.Order.Meta[MetaOrderID])
				eq(t, "request ref", v.RequestRef, out.Order.Meta[MetaRequestRef])
			}
		})
	}
}

func TestBuildResultEchoesAndWraps(t *testing.T) {
	t.Parallel()
	o := orderFrom(t, "doctolib_6302_cp437.gdt")
	res := sampleResult()
	res.Interpretation = strings.Repeat("Befund ", 30)
	rec, cs, err := BuildResult(domain.Outgoing{Order: o, Result: res}, ResultOptions{PDFReference: "x.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	if cs != CharsetCP437 {
		t.Fatal(cs)
	}
	for _, id := range []string{"3000", "3101", "3102", "3103", "3105", "3110", "2999", "8402"} {
		want, _ := o.Field(id)
		if got, _ := rec.Get(id); got != want {
			t.Errorf("%s = %q, want echo %q", id, got, want)
		}
	}
	lines := rec.All("6220")
	if len(lines) < 4 {
		t.Fatalf("findings not split: %q", lines)
	}
	for _, l := range lines {
		if len([]rune(l)) > ResultText {
			t.Errorf("line of %d chars", len([]rune(l)))
		}
	}
	for _, id := range []string{"6302", "6303", "6304", "6305"} {
		if _, ok := rec.Get(id); !ok {
			t.Errorf("attachment field %s missing", id)
		}
	}
	// An embedded PDF is refused in GDT 2.1.
	if _, _, err := BuildResult(domain.Outgoing{Order: o, Result: res}, ResultOptions{PDFContent: []byte("%PDF")}); err == nil || !strings.Contains(err.Error(), "needs GDT 3.0") {
		t.Errorf("6329 in 2.1: %v", err)
	}
	// No order and no patient is an error.
	if _, _, err := BuildResult(domain.Outgoing{Result: res}, ResultOptions{}); err == nil {
		t.Error("no error without patient")
	}
}

// TestResultCharsets: a 3.x order with 9206=3 is answered in ISO 8859-15
// with 9206=3 (Š kept); a name the target charset lacks is transliterated
// and named in a warning, never silently '?'.
func TestResultCharsets(t *testing.T) {
	t.Parallel()
	res := sampleResult()
	res.Report = nil
	o := orderFrom(t, "gdt30_9206-3_iso8859-15.gdt")
	if o.Meta[MetaCharset] != string(CharsetISO885915) {
		t.Fatalf("order read as %s", o.Meta[MetaCharset])
	}
	rec, cs, err := BuildResult(domain.Outgoing{Result: res, Order: o}, ResultOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := Encode(rec, EncodeOptions{Charset: cs})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("01092063\r\n")) || !bytes.Contains(raw, []byte("3101\xa6u\xa8tar")) || len(rec.Warnings) > 0 {
		t.Errorf("ISO 8859-15 answer: warnings %q\n%q", rec.Warnings, raw)
	}

	tests := []struct {
		cs      Charset
		family  string
		want    string // 3101 as read back
		warning string
	}{
		{CharsetCP437, "Šuštar", "Sustar", "field 3101: charset cp437 lacks Š as S, š as s"},
		{CharsetWindows1252, "Dvořák", "Dvorák", "ř as r"},
		{CharsetCP437, "Łukasz Œuvre", "Lukasz OEuvre", "Ł as L, Œ as OE"},
		{CharsetDIN66003, "Ørsted", "Orsted", "Ø as O"},
		{CharsetCP437, "李", "?", "李 as ?"},
		{CharsetISO885915, "Šuštar", "Šuštar", ""},
	}
	for _, tt := range tests {
		res := sampleResult()
		res.Report = nil
		res.Patient = &domain.Patient{ID: "1", Name: domain.PersonName{Family: tt.family, Given: "Ana"}}
		rec, cs, err := BuildResult(domain.Outgoing{Result: res}, ResultOptions{Charset: tt.cs})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := Encode(rec, EncodeOptions{Charset: cs})
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(raw, ParseOptions{Charset: cs})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := back.Get(FieldSurname); got != tt.want {
			t.Errorf("%s %s: written as %q, want %q", tt.cs, tt.family, got, tt.want)
		}
		warnings := strings.Join(rec.Warnings, "\n")
		if tt.warning == "" && warnings != "" || !strings.Contains(warnings, tt.warning) {
			t.Errorf("%s %s: warnings %q, want %q", tt.cs, tt.family, rec.Warnings, tt.warning)
		}
	}
}
