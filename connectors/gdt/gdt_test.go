package gdt

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var fixedNow = func() time.Time { return time.Date(2025, 3, 11, 9, 30, 0, 0, time.UTC) }

func TestParseAndMapOrders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		charset Charset
		kind    Kind
		check   func(t *testing.T, o domain.Order)
		fields  map[string]string // field -> value that must appear in Order.Fields
	}{
		{
			file: "doctolib_6302_cp437.gdt", charset: CharsetCP437, kind: KindOrder,
			check: func(t *testing.T, o domain.Order) {
				want := domain.Patient{
					ID:              "100234",
					IDs:             []domain.Identifier{{Value: "100234", Type: "PI"}, {Value: "A123456789", Type: "NI"}},
					InsuranceNumber: "A123456789",
					Name:            domain.PersonName{Family: "Müller", Given: "Jürgen"},
					BirthDate:       "1961-03-07",
					Sex:             domain.SexMale, SexCode: "1",
					Address: domain.Address{Street: "Schößlstraße 12", Other: "80331 München", PostalCode: "80331", City: "München"},
					Phones:  []domain.Phone{{Number: "+49 89 1234567", Use: "PRN", Equipment: "PH"}},
					Email:   "juergen.mueller@example.de",
				}
				if !reflect.DeepEqual(o.Patient, want) {
					t.Errorf("patient\n got %+v\nwant %+v", o.Patient, want)
				}
				eq(t, "action", string(o.Action), string(domain.ActionNew))
				eq(t, "placer", o.PlacerNumber, "DL-20250311-0042")
				eq(t, "placerFrom", o.Meta[MetaPlacerFrom], "2999")
				eq(t, "measurement", o.Measurement, "ECG")
				eq(t, "service code", o.ServiceCode, "EKG01")
				eq(t, "service text", o.ServiceText, "Ruhe-EKG")
				eq(t, "group", o.Group, "cardio")
				eq(t, "sender", o.Meta[MetaSenderID], "DOCTOLIB")
				eq(t, "receiver", o.Meta[MetaReceiverID], "MESI")
				eq(t, "version", o.Meta[MetaVersion], "02.10")
				eq(t, "charset", o.Meta[MetaCharset], "cp437")
				eq(t, "requestedAt", o.RequestedAt.Format("2006-01-02 15:04"), "2025-03-11 09:30")
			},
			fields: map[string]string{"8000": "6302", "8100": "00417", "9206": "2", "8609": "K", "3629": "4711", "3633": "juergen.mueller@example.de", "3106": "80331 München", "2998": "Ruhe-EKG"},
		},
		{
			file: "tomedo_6302_utf8.gdt", charset: CharsetUTF8, kind: KindOrder,
			check: func(t *testing.T, o domain.Order) {
				eq(t, "surname", o.Patient.Name.Family, "Öztürk")
				eq(t, "given", o.Patient.Name.Given, "Ayşe")
				eq(t, "title", o.Patient.Name.Prefix, "Dr.")
				eq(t, "birth", o.Patient.BirthDate, "1984-02-29")
				eq(t, "sex", string(o.Patient.Sex), "F")
				eq(t, "placer", o.PlacerNumber, "T-98765")
				eq(t, "order uid", o.GroupNumber, "5f0c2d3e-8a41-4b7e-9d2c-1a2b3c4d5e6f")
				eq(t, "measurement", o.Measurement, "ABI")
				eq(t, "group", o.Group, "")
				eq(t, "email", o.Patient.Email, "ayse@example.org")
				eq(t, "height", o.Patient.HeightCM, "168")
				eq(t, "weight", o.Patient.WeightKG, "61.5")
				eq(t, "language", o.Patient.Language, "tr")
				eq(t, "country", o.Patient.Address.Country, "D")
				eq(t, "mobile", o.Patient.Phones[0].Equipment, "CP")
				eq(t, "version", o.Meta[MetaVersion], "03.00")
			},
			fields: map[string]string{"3108": "1", "4109": "01012025", "8314": "5f0c2d3e-8a41-4b7e-9d2c-1a2b3c4d5e6f", "2998": "Knöchel-Arm-Index"},
		},
		{
			file: "tomedo_6302_8859-15.gdt", charset: CharsetISO885915, kind: KindOrder,
			check: func(t *testing.T, o domain.Order) {
				eq(t, "surname", o.Patient.Name.Family, "Groß")
				eq(t, "given", o.Patient.Name.Given, "Bärbel")
				eq(t, "sex", string(o.Patient.Sex), "O")
				eq(t, "measurement", o.Measurement, "SPO2")
				eq(t, "other", o.Patient.Address.Other, "Wiener Str. 3, Graz")
			},
			fields: map[string]string{"6227": "Zuzahlung 10 €"},
		},
		{
			file: "din66003_6301.gdt", charset: CharsetDIN66003, kind: KindOrder,
			check: func(t *testing.T, o domain.Order) {
				eq(t, "surname", o.Patient.Name.Family, "Weiß")
				eq(t, "given", o.Patient.Name.Given, "Ülkü")
				eq(t, "street", o.Patient.Address.Street, "Hauptstraße 1 § 5")
				eq(t, "sex", string(o.Patient.Sex), "F")
				eq(t, "placer", o.PlacerNumber, "GDT-77-")
				eq(t, "placerFrom", o.Meta[MetaPlacerFrom], "derived")
			},
		},
		{
			file: "win1252_6302.gdt", charset: CharsetWindows1252, kind: KindOrder,
			check: func(t *testing.T, o domain.Order) {
				eq(t, "surname", o.Patient.Name.Family, "Lefèvre")
				eq(t, "given", o.Patient.Name.Given, "Zoë")
				eq(t, "sex", string(o.Patient.Sex), "O")
				eq(t, "measurement", o.Measurement, "TBI")
				eq(t, "placer", o.PlacerNumber, "GDT-5150-TBI01")
			},
		},
		{
			file: "tomedo_6303_cancel.gdt", charset: CharsetAuto, kind: KindOrder,
			check: func(t *testing.T, o domain.Order) {
				eq(t, "action", string(o.Action), string(domain.ActionCancel))
				eq(t, "placer", o.PlacerNumber, "T-98765")
			},
		},
		{
			file: "doctolib_6311_show.gdt", charset: CharsetCP437, kind: KindShow,
			check: func(t *testing.T, o domain.Order) {
				eq(t, "patient", o.Patient.ID, "100234")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			raw := readTestdata(t, tt.file)
			rec, err := Parse(raw, ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.charset != CharsetAuto && rec.Charset != tt.charset {
				t.Errorf("charset %s, want %s", rec.Charset, tt.charset)
			}
			msg, err := MapOrder(rec, raw, MapOptions{Connection: "c1", Groups: map[string]string{"ekg01": "cardio"}, Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			if msg.Kind != tt.kind {
				t.Fatalf("kind %v, want %v", msg.Kind, tt.kind)
			}
			o := msg.Order
			eq(t, "connection", o.Connection, "c1")
			eq(t, "source id", o.SourceMessageID, SourceMessageID(raw))
			if len(o.Fields) != len(rec.Lines) {
				t.Errorf("%d fields, want every one of %d lines", len(o.Fields), len(rec.Lines))
			}
			for i, l := range rec.Lines {
				if o.Fields[i].Key != l.ID || o.Fields[i].Value != l.Value {
					t.Errorf("field %d = %+v, want %s=%q", i, o.Fields[i], l.ID, l.Value)
				}
			}
			for k, v := range tt.fields {
				got, ok := o.Field(k)
				if !ok || got != v {
					t.Errorf("field %s = %q (present %v), want %q", k, got, ok, v)
				}
			}
			if f := o.Fields[0]; f.Label != "Record type" {
				t.Errorf("label of 8000 = %q", f.Label)
			}
			tt.check(t, o)
		})
	}
}

func eq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func TestSameContentSameSourceID(t *testing.T) {
	t.Parallel()
	a := readTestdata(t, "doctolib_6302_cp437.gdt")
	b := append([]byte(nil), a...)
	if SourceMessageID(a) != SourceMessageID(b) {
		t.Fatal("same content, different IDs")
	}
	b[len(b)-3] ^= 1
	if SourceMessageID(a) == SourceMessageID(b) {
		t.Fatal("different content, same ID")
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		opts    ParseOptions
		want    string // substring of the error
		line    int
		mapping bool // the error comes from MapOrder
	}{
		{file: "bad_empty.gdt", want: "gdt: empty file"},
		{file: "bad_binary.gdt", want: "length prefix", line: 1},
		{file: "bad_truncated.gdt", want: "truncated", line: 24},
		{file: "bad_line_length.gdt", want: "wrong line length: prefix says 11 bytes, line has 10", line: 5},
		{file: "bad_missing_8000.gdt", want: "must start with field 8000", line: 1},
		{file: "bad_8100_mismatch.gdt", want: "record length mismatch: 8100 says 424 bytes, record has 417", line: 2},
		{file: "bad_charset_7bit.gdt", want: "byte 0xE1 at offset 3 is not 7-bit", line: 8},
		{file: "bad_two_records.gdt", want: "a second record starts here", line: 26},
		{file: "bad_free_text.gdt", want: "length prefix \"fre\" is not 3 digits", line: 8},
		{file: "bad_no_8000_lf_chars.gdt", want: "no record type (8000)", line: 1},
		{file: "doctolib_6302_cp437.gdt", opts: ParseOptions{Charset: CharsetUTF8}, want: "invalid UTF-8 byte 0x81", line: 12},
		{file: "bad_type_6300.gdt", want: `line 1 (field 8000): record type 6300 (request master data) is not an order`, mapping: true},
		{file: "bad_result_6310.gdt", want: `line 1 (field 8000): record type 6310 is a result, not an order`, mapping: true},
		{file: "bad_birthdate.gdt", want: "line 14 (field 3103): birth date is not a valid DDMMYYYY date", mapping: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			raw := readTestdata(t, tt.file)
			rec, err := Parse(raw, tt.opts)
			if tt.mapping {
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				_, err = MapOrder(rec, raw, MapOptions{})
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
			var pe *Error
			if tt.line > 0 {
				if !errors.As(err, &pe) || pe.Line != tt.line {
					t.Fatalf("error %q: want line %d", err, tt.line)
				}
			}
			// Patient data never appears in errors.
			for _, s := range []string{"Müller", "Jürgen", "07031961", "31022001"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q leaks %q", err, s)
				}
			}
		})
	}
}

func TestCharsetAutoPrefersValidUTF8(t *testing.T) {
	t.Parallel()
	// A tomedo file written in UTF-8 that claims 9206=2 is read as UTF-8.
	rec := &Record{}
	for _, kv := range [][2]string{{"8000", "6302"}, {"9206", "2"}, {"3000", "1"}, {"3101", "Größe"}} {
		rec.Lines = append(rec.Lines, Line{ID: kv[0], Value: kv[1]})
	}
	raw, err := Encode(rec, EncodeOptions{Charset: CharsetUTF8})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(raw, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := got.Get("3101"); v != "Größe" || got.Charset != CharsetUTF8 || len(got.Warnings) == 0 {
		t.Fatalf("got %q in %s, warnings %v", v, got.Charset, got.Warnings)
	}
	// Forced CP437 reads the same bytes as CP437.
	got, err = Parse(raw, ParseOptions{Charset: CharsetCP437})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := got.Get("3101"); v == "Größe" {
		t.Fatal("forced charset ignored")
	}
}

func TestRoundTripRecords(t *testing.T) {
	t.Parallel()
	value := "Müller-Lüdenscheidt Ärztehaus ÖÜß"
	for _, cs := range []Charset{CharsetDIN66003, CharsetCP437, CharsetWindows1252, CharsetISO885915, CharsetUTF8} {
		t.Run(string(cs), func(t *testing.T) {
			t.Parallel()
			rec := &Record{}
			rec.Add("8000", "6302")
			rec.Add("9206", cs.Code())
			rec.Add("3000", "42")
			rec.Add("3101", value)
			rec.Add("9999", strings.Repeat("x", MaxContentBytes))
			raw, err := Encode(rec, EncodeOptions{Charset: cs})
			if err != nil {
				t.Fatal(err)
			}
			if !Complete(raw) {
				t.Error("Complete() = false for a whole record")
			}
			if Complete(raw[:len(raw)-1]) {
				t.Error("Complete() = true for a cut record")
			}
			got, err := Parse(raw, ParseOptions{Charset: cs})
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := got.Get("3101"); v != value {
				t.Errorf("3101 = %q", v)
			}
			if v, _ := got.Get("9999"); len(v) != MaxContentBytes {
				t.Errorf("long line %d bytes", len(v))
			}
			if got.Lines[1].ID != "8100" {
				t.Errorf("8100 not second: %+v", got.Lines[1])
			}
			// Encoding the parsed record again gives the same bytes.
			again, err := Encode(got, EncodeOptions{Charset: cs})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw, again) {
				t.Error("encode(parse(x)) != x")
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lines []Line
		want  string
	}{
		{[]Line{{ID: "3000", Value: "1"}}, "must start with field 8000"},
		{[]Line{{ID: "8000", Value: "6310"}, {ID: "6220", Value: "a\nb"}}, "line break"},
		{[]Line{{ID: "8000", Value: "6310"}, {ID: "6220", Value: strings.Repeat("ä", 500)}}, "more than the 990"},
		{[]Line{{ID: "8000", Value: "6310"}, {ID: "62x0", Value: "a"}}, "4 digits"},
	}
	for _, tt := range tests {
		_, err := Encode(&Record{Lines: tt.lines}, EncodeOptions{Charset: CharsetUTF8})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Encode(%v) error %v, want %q", tt.lines, err, tt.want)
		}
	}
}

func TestSplitText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		want []string
	}{
		{"", 60, nil},
		{"Sinusrhythmus.", 60, []string{"Sinusrhythmus."}},
		{"one two three", 7, []string{"one two", "three"}},
		{"line1\r\n\r\nline3", 60, []string{"line1", " ", "line3"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
	}
	for _, tt := range tests {
		if got := SplitText(tt.in, tt.max); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitText(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestMapSex(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]domain.Sex{"1": "M", "2": "F", "3": "O", "M": "M", "W": "F", "U": "U", "D": "O", "X": "O", "": "", "?": ""} {
		if got := MapSex(code); got != want {
			t.Errorf("MapSex(%q) = %q, want %q", code, got, want)
		}
	}
	if SexCode(domain.SexFemale, "02.10") != "2" || SexCode(domain.SexFemale, "03.00") != "W" {
		t.Error("SexCode by version")
	}
}
