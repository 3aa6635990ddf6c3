package hl7

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

var fixedNow = time.Date(2024, 8, 12, 16, 5, 0, 0, time.UTC)

func testMapper(weda bool) *Mapper {
	return NewMapper(MapOptions{
		Connection: "test",
		GroupMap:   map[string]string{"ecg": "cardio", "ABI": "vascular"},
		WEDA:       weda,
		Now:        func() time.Time { return fixedNow },
		Location:   time.UTC,
	})
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestORMPerEHR maps the sample order of each HL7 EHR and checks the values
// a tablet shows, including Slovenian, German and French letters decoded
// from each file's character set.
func TestORMPerEHR(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		weda bool
		want map[string]string // check name -> expected
	}{
		{"birpis_orm.hl7", false, map[string]string{
			"charset": "8859/2", "patient": "123456", "family": "Čebašek", "given": "Žiga", "street": "Šmartinska cesta 12",
			"sex": "M", "birth": "1980-01-01", "race": "caucasian", "action": "new", "placer": "ORD1001", "measurement": "ECG",
			"group": "cardio", "email": "ziga.cebasek@example.si", "language": "sl", "version": "2.3",
		}},
		{"hipokrat_orm.hl7", false, map[string]string{
			"charset": "UNICODE UTF-8", "patient": "998877", "family": "Žužek", "given": "Špela", "sex": "F",
			"birth": "1975-12-24", "measurement": "ABI", "group": "vascular", "placer": "H-5001", "language": "sl",
			"serviceText": "Gleženjsko-brahialni indeks", "version": "2.5",
		}},
		{"iris_orm.hl7", false, map[string]string{
			"charset": "CP1250", "patient": "55555", "family": "Kočevar", "given": "Ivan", "measurement": "SPO2", "group": "",
			"placer": "IR-42", "class": "I", "admissionType": "E", "version": "2.4",
		}},
		{"isoz_orm.hl7", false, map[string]string{
			"charset": "8859/2", "patient": "777000", "family": "Škofič", "given": "Čarli&Co", "street": "Ulica | pot 3",
			"sex": "U", "action": "update", "measurement": "BP", "email": "carli@example.si", "placer": "IS-9",
		}},
		{"nextgen_orm.hl7", false, map[string]string{
			"charset": "UNICODE UTF-8", "patient": "MRN1001", "family": "Doe", "given": "John", "race": "black",
			"measurement": "TBI", "placer": "NG-ORD-1", "email": "john.doe@example.com", "phone": "1 217 5550101",
			"language": "en", "version": "2.5.1",
		}},
		{"weda_orm.hl7", true, map[string]string{
			"charset": "8859/1", "patient": "FR-4242", "family": "Dupré", "given": "Hélène", "street": "12 rue de l'Église",
			"city": "Besançon", "measurement": "ECG", "placer": "ECG-98765", "task_type": "ECG", "activity_id": "98765",
			"requestedDate": "2024-08-12T16:05:00Z",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			_, orders, err := testMapper(tt.weda).Decode(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(orders) != 1 {
				t.Fatalf("%d orders", len(orders))
			}
			o := orders[0]
			phone := ""
			if len(o.Patient.Phones) > 0 {
				phone = o.Patient.Phones[0].Number
			}
			got := map[string]string{
				"charset": o.Meta[MetaCharset], "patient": o.Patient.ID, "family": o.Patient.Name.Family,
				"given": o.Patient.Name.Given, "street": o.Patient.Address.Street, "city": o.Patient.Address.City,
				"sex": string(o.Patient.Sex), "birth": o.Patient.BirthDate, "race": o.Patient.RaceCode,
				"action": string(o.Action), "placer": o.PlacerNumber, "measurement": o.Measurement, "group": o.Group,
				"email": o.Patient.Email, "language": o.Patient.Language, "serviceText": o.ServiceText,
				"class": o.Visit.Class, "admissionType": o.Visit.AdmissionType, "phone": phone,
				"version": o.Meta[MetaVersion], "task_type": o.Meta[MetaTaskType], "activity_id": o.Meta[MetaActivityID],
				"requestedDate": o.Meta[MetaRequestedDate],
			}
			for k, want := range tt.want {
				if got[k] != want {
					t.Errorf("%s = %q, want %q", k, got[k], want)
				}
			}
			if o.Connection != "test" || o.SourceMessageID == "" || o.MessageAt.IsZero() {
				t.Errorf("connection %q, source %q, messageAt %v", o.Connection, o.SourceMessageID, o.MessageAt)
			}
			if !tt.weda {
				if _, ok := o.Meta[MetaRequestedDate]; ok {
					t.Error("requestedDate stamped without the WEDA option")
				}
			} else {
				// WEDA's values must reach the tablet, which sees Order.Fields.
				for _, k := range []string{MetaRequestedDate, MetaTaskType, MetaActivityID} {
					if v, ok := o.Field(k); !ok || v != tt.want[k] {
						t.Errorf("field %s = %q (present %v), want %q", k, v, ok, tt.want[k])
					}
				}
			}
		})
	}
}

// TestORMEveryCatalogueField checks each field the catalogue lists, on the
// Birpis sample, in the order and in Order.Fields.
func TestORMEveryCatalogueField(t *testing.T) {
	t.Parallel()
	_, orders, err := testMapper(false).Decode(readTestdata(t, "birpis_orm.hl7"))
	if err != nil {
		t.Fatal(err)
	}
	o := orders[0]
	at := func(s string) time.Time {
		tm, err := ParseTime(s, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	eq := func(name string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	p := o.Patient
	eq("MSH-7 MessageAt", o.MessageAt, at("20240315083000"))
	eq("MSH-7 RequestedAt", o.RequestedAt, at("20240315083000"))
	eq("MSH-10", o.SourceControlID, "BIR0001")
	eq("source key", o.SourceMessageID, SourceKey("BIR0001", o.SourceMessageID[len("BIR0001@"):], 0))
	eq("PID-3 ids", len(p.IDs), 2)
	eq("PID-3[1]", p.IDs[0], domain.Identifier{Value: "123456", Authority: "ZZZS", Type: "MR"})
	eq("PID-3[2]", p.IDs[1], domain.Identifier{Value: "SI880101", Authority: "ZZZS", Type: "SS"})
	eq("PID-5", p.Name, domain.PersonName{Family: "Čebašek", Given: "Žiga", Middle: "Matjaž", Prefix: "dr."})
	eq("PID-8 raw", p.SexCode, "M")
	eq("PID-10", p.Race, "2106-3")
	eq("PID-11", p.Address, domain.Address{Street: "Šmartinska cesta 12", Other: "Stanovanje 3", City: "Ljubljana",
		PostalCode: "1000", Country: "SI", Type: "H"})
	eq("PID-13 count", len(p.Phones), 2)
	eq("PID-13[1]", p.Phones[0], domain.Phone{Number: "01 234 5678", Use: "PRN", Equipment: "PH"})
	eq("PID-13[2]", p.Phones[1], domain.Phone{Number: "041 123 456", Use: "ORN", Equipment: "CP"})
	eq("PID-15", p.Language, "sl")
	v := o.Visit
	eq("PV1-2", v.Class, "O")
	eq("PV1-3", v.Location, "KARD^101^1^ZDL")
	eq("PV1-3 parts", v.AssignedLocation, domain.Location{PointOfCare: "KARD", Room: "101", Bed: "1", Facility: "ZDL"})
	eq("PV1-7", v.Attending, domain.Provider{ID: "1234", Name: domain.PersonName{Family: "Novak", Given: "Ana", Prefix: "dr."}})
	eq("PV1-10", v.Service, "KAR")
	eq("PV1-19", v.Number, domain.Identifier{Value: "V2024-77", Authority: "ZDL", Type: "VN"})
	eq("PV1-44", v.AdmitAt, at("20240315080000"))
	eq("PV1-45", v.DischargeAt, at("20240315120000"))
	eq("ORC-1", o.ControlCode, "NW")
	eq("ORC-2", o.PlacerNumber, "ORD1001")
	eq("ORC-2.2", o.Meta[MetaPlacerNamespace], "BIRPIS")
	eq("ORC-3", o.FillerNumber, "FIL1001")
	eq("ORC-4", o.GroupNumber, "GRP55")
	eq("ORC-5", o.OrderStatus, "SC")
	eq("ORC-6", o.ResponseFlag, "Y")
	eq("ORC-9", o.TransactionAt, at("20240315083000"))
	eq("ORC-10", o.EnteredBy, "Maja Kranjc (5678)")
	eq("ORC-12", o.OrderingProvider.Name.Family, "Novak")
	eq("ORC-14", o.CallbackPhone, "01 555 1234")
	eq("ORC-15", o.EffectiveAt, at("20240315083500"))
	eq("OBR-4", o.ServiceCode+"|"+o.ServiceText, "ECG|Mirovni EKG")
	eq("OBR-5", o.Priority, "R")
	eq("OBR-7", o.ObservationAt, at("20240315090000"))
	eq("OBR-24", o.Meta[MetaDiagnosticSection], "CARD")
	eq("OBR-34", o.Technician, "Luka Zupan (TECH1)")
	eq("OBR-36", o.ScheduledAt, at("20240315093000"))
	eq("MSH-3", o.Meta[MetaSendingApp], "BIRPIS")
	eq("MSH-6", o.Meta[MetaReceivingFacility], "MESI")
	fields := map[string]string{
		"MSH-7": "20240315083000", "MSH-10": "BIR0001", "PID-3": "123456^^^ZZZS^MR~SI880101^^^ZZZS^SS",
		"PID-5": "Čebašek^Žiga^Matjaž^^dr.", "PID-7": "19800101", "PID-8": "M", "PID-10": "2106-3^White^HL70005",
		"PID-11": "Šmartinska cesta 12^Stanovanje 3^Ljubljana^^1000^SI^H", "PID-15": "sl",
		"PV1-2": "O", "PV1-3": "KARD^101^1^ZDL", "PV1-4": "", "OBR-17": "01 555 1234", "PV1-7": "1234^Novak^Ana^^^dr.", "PV1-10": "KAR",
		"PV1-19": "V2024-77^^^ZDL^VN", "PV1-44": "20240315080000", "PV1-45": "20240315120000",
		"ORC-1": "NW", "ORC-7": "1^^^20240315090000^^R", "ORC-7.4": "20240315090000", "ORC-11": "9999^Verifier^Vera",
		"OBR-6": "20240315083000", "OBR-13": "Sum na aritmijo", "OBR-16": "1234^Novak^Ana^^^dr.", "OBR-24": "CARD",
		"OBR-27": "1^^^20240315091500^^R", "OBR-27.4": "20240315091500", "OBR-34": "TECH1&Zupan&Luka",
		"OBR-36": "20240315093000", "OBR-44": "EKG12^12-kanalni EKG",
	}
	for k, want := range fields {
		got, ok := o.Field(k)
		if want == "" {
			if ok {
				t.Errorf("empty field %s listed as %q", k, got)
			}
			continue
		}
		if got != want {
			t.Errorf("Fields[%s] = %q (present %v), want %q", k, got, ok, want)
		}
	}
	for _, f := range o.Fields {
		if f.Label == "" {
			t.Errorf("field %s has no label", f.Key)
		}
	}
	texts := map[string]string{
		"MSH-7": "2024-03-15 08:30", "PID-3": "123456 (ZZZS, medical record number); SI880101 (ZZZS, social security number)",
		"PID-5": "dr. Žiga Matjaž Čebašek", "PID-7": "1980-01-01", "PID-8": "male", "PID-10": "White (2106-3)",
		"PID-11": "Šmartinska cesta 12, Stanovanje 3, 1000 Ljubljana, SI (home)",
		"PID-13": "01 234 5678, ziga.cebasek@example.si (home); 041 123 456 (other home, mobile)",
		"PV1-3":  "KARD, room 101, bed 1, ZDL", "PV1-7": "dr. Ana Novak (1234)", "PV1-19": "V2024-77 (ZDL, visit number)",
		"ORC-2": "ORD1001 (BIRPIS)", "ORC-7": "routine, start 2024-03-15 09:00", "ORC-7.4": "2024-03-15 09:00",
		"ORC-7.6": "routine", "OBR-4": "Mirovni EKG (ECG)", "OBR-34": "Luka Zupan (TECH1)", "OBR-36": "2024-03-15 09:30",
		"OBR-44": "12-kanalni EKG (EKG12)", "OBR-13": "Sum na aritmijo",
	}
	for k, want := range texts {
		if got := fieldTextOf(o, k); got != want {
			t.Errorf("Fields[%s].Text = %q, want %q", k, got, want)
		}
	}
	if o.Fields[0].Key != "MSH-7" || o.Fields[len(o.Fields)-1].Key != "OBR-44" {
		t.Errorf("fields not in arrival order: first %s last %s", o.Fields[0].Key, o.Fields[len(o.Fields)-1].Key)
	}
}

func TestORMValidation(t *testing.T) {
	t.Parallel()
	const msh = "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120000||ORM^O01|C1|P|2.5\r"
	const pid = "PID|1||P1||Doe^Jane||19700101|F\r"
	tests := []struct {
		name, msg string
		code      int
		reject    bool
		loc, text string
	}{
		{"wrong message type", "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101||ADT^A01|C1|P|2.5\r" + pid, CodeUnsupportedMessage, true, "MSH^1^9^1", `unsupported message type "ADT"`},
		{"wrong event", "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101||ORM^O02|C1|P|2.5\r" + pid, CodeUnsupportedEvent, true, "MSH^1^9^2", `trigger event "O02"`},
		{"no control id", "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101||ORM^O01||P|2.5\r" + pid, CodeRequiredMissing, true, "MSH^1^10", "MSH-10"},
		{"version 3", "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101||ORM^O01|C1|P|3.0\r" + pid, CodeUnsupportedVersion, true, "MSH^1^12", "version"},
		{"bad MSH-7", "MSH|^~\\&|EHR|FAC|HUB|MESI|2024-01-01||ORM^O01|C1|P|2.5\r" + pid, CodeDataType, false, "MSH^1^7^1", "not an HL7 date"},
		{"no PID", msh + "ORC|NW|O1\rOBR|1|O1||ECG\r", CodeSegmentSequence, false, "PID^1", "PID segment missing"},
		{"no patient id", msh + "PID|1||^^^X||Doe\rORC|NW|O1\rOBR|1|O1||ECG\r", CodeRequiredMissing, false, "PID^1^3^1", "patient ID"},
		{"bad birth date", msh + "PID|1||P1||Doe||1970-01-01\rORC|NW|O1\rOBR|1|O1||ECG\r", CodeDataType, false, "PID^1^7^1", "date of birth"},
		{"no ORC", msh + pid, CodeSegmentSequence, false, "ORC^1", "ORC segment missing"},
		{"OBR first", msh + pid + "OBR|1|O1||ECG\r", CodeSegmentSequence, false, "OBR^1", "OBR without a preceding ORC"},
		{"bad order control", msh + pid + "ORC|SC|O1\rOBR|1|O1||ECG\r", CodeTableValue, false, "ORC^1^1", `order control "SC" not supported`},
		{"empty order control", msh + pid + "ORC||O1\rOBR|1|O1||ECG\r", CodeRequiredMissing, false, "ORC^1^1", "ORC-1"},
		{"cancel without placer", msh + pid + "ORC|CA\r", CodeRequiredMissing, false, "ORC^1^2^1", "placer order number"},
		{"new without service", msh + pid + "ORC|NW|O1\rOBR|1|O1\r", CodeRequiredMissing, false, "OBR^1^4", "OBR-4"},
		{"two OBR", msh + pid + "ORC|NW|O1\rOBR|1|O1||ECG\rOBR|2|O1||BP\r", CodeSegmentSequence, false, "OBR^2", "more than one OBR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := testMapper(false).Decode([]byte(tt.msg))
			e, ok := AsError(err)
			if !ok {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.Code != tt.code || e.Reject != tt.reject || e.Location() != tt.loc || !strings.Contains(e.Error(), tt.text) {
				t.Errorf("got code %d reject %v loc %q err %q; want %d %v %q containing %q",
					e.Code, e.Reject, e.Location(), e.Error(), tt.code, tt.reject, tt.loc, tt.text)
			}
		})
	}
}

func TestORMActionsAndMultipleOrders(t *testing.T) {
	t.Parallel()
	msg := "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120000||ORM^O01|M9|P|2.5\r" +
		"PID|1||P1||Doe^Jane||19700101|F\r" +
		"ORC|NW|A1\rOBR|1|A1||EKG\rNTE|1||first note\r" +
		"ORC|CA|A2\r" +
		"ORC|XO||\rOBR|1|A3||xyz^Custom thing\r"
	parsed, orders, err := testMapper(false).Decode([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 3 {
		t.Fatalf("%d orders", len(orders))
	}
	want := []struct {
		action domain.OrderAction
		state  domain.OrderState
		placer string
		src    string
		meas   string
	}{
		{domain.ActionNew, domain.OrderScheduled, "A1", "", "ECG"},
		{domain.ActionCancel, domain.OrderCancelled, "A2", "#2", ""},
		{domain.ActionUpdate, domain.OrderScheduled, "A3", "#3", ""},
	}
	for i, w := range want {
		o := orders[i]
		if o.Action != w.action || o.State != w.state || o.PlacerNumber != w.placer || o.SourceMessageID != SourceKey("M9", ContentHash(parsed), i) ||
			!strings.HasSuffix(o.SourceMessageID, w.src) || o.SourceControlID != "M9" || o.Measurement != w.meas {
			t.Errorf("order %d: %s %s %s %s %q", i, o.Action, o.State, o.PlacerNumber, o.SourceMessageID, o.Measurement)
		}
	}
	if v, _ := orders[0].Field("NTE-3"); v != "first note" {
		t.Errorf("NTE-3 = %q", v)
	}
	if _, ok := orders[1].Field("NTE-3"); ok {
		t.Error("note leaked into the second order")
	}
	orders[0].Meta["x"] = "y"
	if orders[1].Meta["x"] != "" {
		t.Error("orders share Meta")
	}
}

func TestWEDATask(t *testing.T) {
	t.Parallel()
	tests := []struct{ in1, in2, typ, id string }{
		{"ECG-123", "", "ECG", "123"},
		{"ECG-12-3", "WEDA", "ECG", "12-3"},
		{"123", "ECG", "ECG", "123"},
		{"-123", "", "", "-123"},
		{"", "", "", ""},
	}
	for _, tt := range tests {
		typ, id := WEDATask(tt.in1, tt.in2)
		if typ != tt.typ || id != tt.id {
			t.Errorf("WEDATask(%q,%q) = %q,%q", tt.in1, tt.in2, typ, id)
		}
	}
}

func TestMapSexAndRaceMap(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]domain.Sex{"M": "M", "f": "F", "W": "F", "O": "O", "A": "O", "U": "U", "N": "U", "": "", "Q": ""} {
		if got := MapSex(code); got != want {
			t.Errorf("MapSex(%q) = %q, want %q", code, got, want)
		}
	}
	m := NewMapper(MapOptions{RaceMap: map[string]string{"bel": "c1"}, Now: func() time.Time { return fixedNow }})
	msg := "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120000||ORM^O01|M9|P|2.5\rPID|1||P1||Doe||19700101|X||BEL^Bela rasa\rORC|NW|A1\rOBR|1|A1||ECG\r"
	_, orders, err := m.Decode([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	p := orders[0].Patient
	if p.RaceCode != "c1" || p.Race != "BEL" || p.Sex != domain.SexOther || p.SexCode != "X" {
		t.Errorf("race %q/%q sex %q/%q", p.Race, p.RaceCode, p.Sex, p.SexCode)
	}
	if !errors.Is(error(nil), nil) {
		t.Fatal()
	}
}
