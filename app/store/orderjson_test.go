package store

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// sameAsEncodingJSON fails t unless appendOrderRow writes what json.Marshal
// writes for r (or both fail).
func sameAsEncodingJSON(t *testing.T, r *orderRow) {
	t.Helper()
	want, werr := json.Marshal(r)
	got, gerr := appendOrderRow(nil, r)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("json.Marshal: %v; appendOrderRow: %v", werr, gerr)
	}
	if werr == nil && !bytes.Equal(got, want) {
		t.Fatalf("appendOrderRow differs from json.Marshal:\n got %s\nwant %s", got, want)
	}
}

func TestOrderJSONMatchesEncodingJSON(t *testing.T) {
	zone := time.FixedZone("CET", 3600)
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456789, zone)
	full := domain.Order{
		ID: "ord-1", Connection: "birpis", SourceMessageID: "m1@abc", SourceControlID: "m1", Action: domain.ActionNew,
		State: domain.OrderScheduled, PlacerNumber: "A1", FillerNumber: "F1", GroupNumber: "G1", OrderStatus: "SC",
		ResponseFlag: "N", ControlCode: "NW", Measurement: "ECG", ServiceCode: "93000", ServiceText: "Resting ECG",
		Priority: "R", MessageAt: at, RequestedAt: at.Add(time.Hour), ScheduledAt: at.UTC(), ObservationAt: at,
		TransactionAt: at, EffectiveAt: at,
		OrderingProvider: domain.Provider{ID: "D1", Name: domain.PersonName{Family: "Kos", Given: "Ana", Degree: "MD"}},
		Technician:       "T", EnteredBy: "E", CallbackPhone: "+386 1 234",
		Patient: domain.Patient{ID: "P1", IDs: []domain.Identifier{{Value: "1", Authority: "ZZZS", Type: "MR"}, {Value: "2"}},
			InsuranceNumber: "123", Name: domain.PersonName{Family: "Novak", Given: "Janez", Middle: "M", Suffix: "Jr", Prefix: "Dr"},
			BirthDate: "1970-01-02", Sex: "M", SexCode: "M", Race: "r", RaceCode: "rc", Language: "sl",
			Address: domain.Address{Street: "Glavna 1", City: "Ljubljana", PostalCode: "1000", Country: "SI", Type: "H"},
			Phones:  []domain.Phone{{Number: "01", Use: "PRN", Equipment: "PH"}, {Use: "WPN"}},
			Email:   "a@b.si", HeightCM: "180", WeightKG: "80"},
		Visit: domain.Visit{Class: "O", Location: "ECG room", AdmissionType: "R",
			Attending: domain.Provider{Name: domain.PersonName{Family: "Zupan"}}, Service: "CAR",
			Number: domain.Identifier{Value: "V1"}, AdmitAt: at, DischargeAt: at,
			AssignedLocation: domain.Location{PointOfCare: "CARD", Room: "2", Bed: "B", Facility: "UKC", Building: "A", Floor: "1", Description: "d"}},
		Group:     "default",
		Fields:    []domain.Field{{Key: "OBR-4", Label: "Universal service", Value: "93000^ECG", Text: "Resting ECG"}, {Key: "ZXX-1", Value: ""}},
		Meta:      map[string]string{"z": "1", "a": "2", "hl7.version": "2.5", "<&>": "x", "\u2028": "y"},
		StartedBy: "dev-1", ReceivedAt: at, UpdatedAt: at.Add(time.Second),
	}
	odd := "quote\" backslash\\ <b>&amp; \x00\x01\x1f \b\f\n\r\t \u2028\u2029 \xff\xfe invalid, ünïcödé 😀 \x7f"
	tests := []struct {
		name string
		row  orderRow
	}{
		{"empty", orderRow{}},
		{"from an empty order", orderRowOf(&domain.Order{})},
		{"every field", orderRowOf(&full)},
		{"odd strings", func() orderRow {
			o := full
			o.ID, o.PlacerNumber, o.ServiceText, o.Patient.Name.Family = odd, odd, odd, odd
			o.Fields = []domain.Field{{Key: odd, Label: odd, Value: odd, Text: odd}}
			o.Meta = map[string]string{odd: odd, "b" + odd: ""}
			return orderRowOf(&o)
		}()},
		{"empty meta map, empty location", func() orderRow {
			r := orderRowOf(&domain.Order{ID: "x"})
			r.Meta = map[string]string{}
			r.Visit.AssignedLocation = &locationRow{}
			r.Fields = []fieldRow{}
			return r
		}()},
		{"zero-offset and UTC times, no nanoseconds", func() orderRow {
			o := full
			o.MessageAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			o.ReceivedAt = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
			o.UpdatedAt = time.Time{}
			return orderRowOf(&o)
		}()},
		{"a year JSON cannot hold", func() orderRow {
			o := full
			o.ScheduledAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
			return orderRowOf(&o)
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { sameAsEncodingJSON(t, &tt.row) })
	}
}

func FuzzOrderJSON(f *testing.F) {
	f.Add("Novak", "<a&b>", int64(1767225600), int64(5), 3600, true)
	f.Add("\xff\u2028\"\\", "", int64(0), int64(0), 0, false)
	f.Add("\x00\b\f", "ü", int64(-62135596800), int64(999999999), -45000, true)
	f.Fuzz(func(t *testing.T, a, b string, sec, nsec int64, offset int, extra bool) {
		at := time.Unix(sec, nsec%1e9).In(time.FixedZone("z", offset%(48*3600)))
		o := domain.Order{ID: a, Connection: b, PlacerNumber: a + b, ServiceText: b, MessageAt: at, ReceivedAt: at,
			Patient: domain.Patient{ID: b, Name: domain.PersonName{Family: a}}, Group: a}
		if extra {
			o.Fields = []domain.Field{{Key: a, Value: b}, {Key: b, Label: a, Text: a}}
			o.Meta = map[string]string{a: b, b: a}
			o.Visit.AssignedLocation = domain.Location{Room: a}
			o.Patient.Phones = []domain.Phone{{Number: b}}
			o.OrderingProvider.Name.Given = b
		}
		r := orderRowOf(&o)
		sameAsEncodingJSON(t, &r)
	})
}

// BenchmarkEncodeOrder encodes a Birpis-sized order (40 source fields)
// with encoding/json and with appendOrderRow.
func BenchmarkEncodeOrder(b *testing.B) {
	o := domain.Order{ID: NewID("ord"), Connection: "birpis", SourceMessageID: "MSG1@0123456789abcdef", State: domain.OrderScheduled,
		PlacerNumber: "ORD2001", Measurement: "ECG", ServiceCode: "93000", ServiceText: "Resting ECG",
		MessageAt: time.Now(), ScheduledAt: time.Now(), Group: "default", ReceivedAt: time.Now(), UpdatedAt: time.Now(),
		Patient: domain.Patient{ID: "100201", Name: domain.PersonName{Family: "Novak", Given: "Janez"}, BirthDate: "1970-01-02", Sex: "M"},
		Meta:    map[string]string{"hl7.version": "2.3", "hl7.sender": "BIRPIS", "hl7.charset": "8859/2"}}
	for i := range 40 {
		o.Fields = append(o.Fields, domain.Field{Key: "OBR-" + string(rune('A'+i%26)), Label: "Universal service identifier", Value: "93000^ECG^C4"})
	}
	r := orderRowOf(&o)
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(&r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := appendOrderRow(make([]byte, 0, 4096), &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
