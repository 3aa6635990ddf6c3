package device

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// update rewrites the golden files of the LAN API. Only for an intended
// change of the API: the files pin what tablets in the field parse.
var update = flag.Bool("update", false, "rewrite testdata/lan-api golden files")

var (
	t0 = time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)
	t1 = time.Date(2026, 3, 2, 9, 45, 10, 500_000_000, time.UTC)
)

// fullOrder sets every field of domain.Order (TestFullOrderIsFull checks
// that), including Meta, which tablets must never see.
func fullOrder() domain.Order {
	return domain.Order{
		ID: "ord_full", Connection: "birpis/mllp-in", SourceMessageID: "MSG-1", SourceControlID: "MSG-1", Action: domain.ActionUpdate,
		State: domain.OrderInProgress, PlacerNumber: "PL-1", FillerNumber: "FI-1", GroupNumber: "GR-1",
		OrderStatus: "IP", ResponseFlag: "N", ControlCode: "XO",
		Measurement: "ECG", ServiceCode: "93000", ServiceText: "Electrocardiogram", Priority: "S",
		MessageAt: t0, RequestedAt: t0.Add(time.Minute), ScheduledAt: t0.Add(time.Hour),
		ObservationAt: t0.Add(2 * time.Hour), TransactionAt: t0.Add(3 * time.Minute), EffectiveAt: t0.Add(4 * time.Minute),
		OrderingProvider: domain.Provider{ID: "DR-7", Name: domain.PersonName{Family: "Novak", Given: "Ana", Middle: "M", Suffix: "jr.", Prefix: "dr.", Degree: "MD"}},
		Technician:       "tech-1", EnteredBy: "nurse-2", CallbackPhone: "+386 1 234 5678",
		Patient: domain.Patient{
			ID:              "P-100",
			IDs:             []domain.Identifier{{Value: "P-100", Authority: "BIRPIS", Type: "MR"}, {Value: "123456789", Authority: "ZZZS", Type: "SS"}},
			InsuranceNumber: "987654321",
			Name:            domain.PersonName{Family: "Čebašek", Given: "Žiga", Middle: "Ivan", Suffix: "II", Prefix: "g.", Degree: "mag."},
			BirthDate:       "1961-07-14", Sex: domain.SexMale, SexCode: "1", Race: "White", RaceCode: "2106-3", Language: "sl",
			Address: domain.Address{Street: "Slovenska cesta 1", Other: "stan 4", City: "Ljubljana", State: "LJ", PostalCode: "1000", Country: "SI", Type: "H"},
			Phones:  []domain.Phone{{Number: "+386 41 000 000", Use: "PRN", Equipment: "CP"}},
			Email:   "ziga@example.org", HeightCM: "182", WeightKG: "80.5",
		},
		Visit: domain.Visit{
			Class: "O", Location: "AMB^12^1", AdmissionType: "R",
			Attending: domain.Provider{ID: "DR-8", Name: domain.PersonName{Family: "Kos", Given: "Marko", Middle: "J", Suffix: "sr.", Prefix: "prim.", Degree: "PhD"}},
			Service:   "CAR", Number: domain.Identifier{Value: "V-55", Authority: "BIRPIS", Type: "VN"},
			AdmitAt: t0.Add(-time.Hour), DischargeAt: t0.Add(5 * time.Hour),
			AssignedLocation: domain.Location{PointOfCare: "AMB", Room: "12", Bed: "1", Facility: "GHH", Building: "B",
				Floor: "2", Description: "Cardiology outpatients"},
		},
		Group:      "cardio",
		Fields:     []domain.Field{{Key: "ORC-7", Label: "Quantity/timing", Value: "1^once", Text: "once"}, {Key: "OBR-27.4", Label: "Start", Value: "20260302", Text: "2026-03-02"}},
		Meta:       map[string]string{"hl7.version": "2.5", "gdt.sender": "EHR1"},
		StartedBy:  "dev_1",
		ReceivedAt: t0.Add(10 * time.Second), UpdatedAt: t1,
	}
}

// minimalOrder has only what the store always sets.
func minimalOrder() domain.Order {
	return domain.Order{ID: "ord_min", Connection: "gdt", State: domain.OrderScheduled, Group: "default",
		Patient: domain.Patient{ID: "P-1"}, ReceivedAt: t0, UpdatedAt: t0}
}

// partialOrder has a few nested values set, so that the empty parts beside
// them (a provider without name, an identifier without value, zero times
// inside a visit) are pinned as they are sent today.
func partialOrder() domain.Order {
	o := minimalOrder()
	o.ID = "ord_part"
	o.Patient.Name = domain.PersonName{Family: "Horvat"}
	o.Patient.Phones = []domain.Phone{{Number: "041 000 000"}}
	o.Visit = domain.Visit{Location: "ECG-1"}
	o.OrderingProvider = domain.Provider{ID: "DR-1"}
	o.Fields = []domain.Field{{Key: "8402", Value: "EKG01"}}
	return o
}

// zeroFields returns the paths of the zero-valued fields under v (structs,
// slices of structs, maps), for checking that a fixture is complete.
func zeroFields(v reflect.Value, path string) []string {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			if v.Interface().(time.Time).IsZero() {
				return []string{path}
			}
			return nil
		}
		var out []string
		for i := 0; i < v.NumField(); i++ {
			out = append(out, zeroFields(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
		return out
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			return []string{path}
		}
		if v.Kind() == reflect.Slice {
			var out []string
			for i := 0; i < v.Len(); i++ {
				out = append(out, zeroFields(v.Index(i), path+"[]")...)
			}
			return out
		}
		return nil
	case reflect.Pointer:
		if v.IsNil() {
			return []string{path}
		}
		return zeroFields(v.Elem(), path)
	default:
		if v.IsZero() {
			return []string{path}
		}
		return nil
	}
}

func TestFullOrderIsFull(t *testing.T) {
	if z := zeroFields(reflect.ValueOf(fullOrder()), "Order"); len(z) > 0 {
		t.Fatalf("fullOrder leaves fields empty (set them, so the LAN API golden file covers them): %v", z)
	}
}

// golden compares got with testdata/lan-api/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "lan-api", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed: the JSON tablets receive differs from the golden file.\n got: %s\nwant: %s", name, got, want)
	}
}

// TestLANAPIWorklistJSON pins the bytes of GET /worklist and GET
// /appointments/{id}: renaming a domain field must not change them.
func TestLANAPIWorklistJSON(t *testing.T) {
	body, _, err := encodeWorklist("cardio", WorklistAnswer{Orders: []domain.Order{fullOrder(), partialOrder(), minimalOrder()}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "worklist.json", body)
	if bytes.Contains(body, []byte("gdt.sender")) || bytes.Contains(body, []byte("MSG-1")) {
		t.Error("the worklist shows the hub's internal values (meta, source message ID)")
	}

	// A worklist the hub could not refresh from a cloud EHR says so.
	stale, _, err := encodeWorklist("default", WorklistAnswer{Orders: []domain.Order{minimalOrder()}, Stale: true, StaleSince: t1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "worklist-stale.json", stale)

	a, err := json.Marshal(AppointmentOf(fullOrder()))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "appointment.json", append(a, '\n'))
}

// TestLANAPIResultUpload pins how the result part of POST /results maps
// onto a result: every field a tablet may send, the patient block included.
func TestLANAPIResultUpload(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "lan-api", "result-full.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, p := schemaServer(t).parseResult(data)
	if p != nil {
		t.Fatalf("refused: %+v", p)
	}
	want := domain.Result{
		OrderID: "ord_full", Measurement: "ABI", PerformedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		Operator: "nurse-2", Interpretation: "Normal ankle-brachial index.",
		Observations: []domain.Observation{
			{Code: "ABI_L", Name: "ABI left", Value: "1.02", Unit: "1", Low: "0.9", High: "1.3", Flag: "N"},
			{Code: "ABI_R", Name: "ABI right", Value: "0.85", Unit: "1", Low: "0.9", High: "1.3", Flag: "L"},
		},
		Device: domain.DeviceInfo{Serial: "MT-2", Model: "mTABLET ABI"},
		Patient: &domain.Patient{
			ID:              "P-77",
			IDs:             []domain.Identifier{{Value: "P-77", Authority: "BIRPIS", Type: "MR"}},
			InsuranceNumber: "111222333",
			Name:            domain.PersonName{Family: "Horvat", Given: "Jan", Middle: "K", Suffix: "jr.", Prefix: "g.", Degree: "dipl."},
			BirthDate:       "1950-01-31", Sex: domain.SexMale, SexCode: "M", Race: "White", RaceCode: "2106-3", Language: "sl",
			Address: domain.Address{Street: "Trubarjeva 5", Other: "2. nadstropje", City: "Maribor", State: "MB", PostalCode: "2000", Country: "SI", Type: "H"},
			Phones:  []domain.Phone{{Number: "02 000 000", Use: "PRN", Equipment: "PH"}},
			Email:   "jan@example.org", HeightCM: "175", WeightKG: "72",
		},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("result upload maps differently:\n got %s\nwant %s", g, w)
	}
}

// TestAppointmentOfMapsEveryField: every field of the LAN API appointment
// is filled from a fully populated order, so none is forgotten in the
// mapping.
func TestAppointmentOfMapsEveryField(t *testing.T) {
	if z := zeroFields(reflect.ValueOf(AppointmentOf(fullOrder())), "Appointment"); len(z) > 0 {
		t.Errorf("AppointmentOf leaves fields empty: %v", z)
	}
}

// TestPatientRoundTrip: a patient block a tablet sends maps onto the domain
// patient without loss, for every sex code.
func TestPatientRoundTrip(t *testing.T) {
	for _, sex := range []domain.Sex{domain.SexUnknown, domain.SexMale, domain.SexFemale, domain.SexOther, domain.SexUndiff} {
		p := fullOrder().Patient
		p.Sex = sex
		w := PatientOf(p)
		if got := w.Domain(); !reflect.DeepEqual(got, p) {
			t.Errorf("sex %q: round trip gives %+v, want %+v", sex, got, p)
		}
		if w.Sex != string(sex) {
			t.Errorf("sex %q is sent as %q", sex, w.Sex)
		}
	}
	if got := (Patient{}).Domain(); !reflect.DeepEqual(got, domain.Patient{}) {
		t.Errorf("empty patient maps to %+v", got)
	}
}

func TestStateOf(t *testing.T) {
	for s, want := range map[domain.OrderState]AppointmentState{
		domain.OrderScheduled: "scheduled", domain.OrderInProgress: "in_progress", domain.OrderDone: "done",
		domain.OrderCancelled: "cancelled", domain.OrderDeleted: "deleted",
	} {
		if got := StateOf(s); got != want {
			t.Errorf("StateOf(%q) = %q, want %q", s, got, want)
		}
	}
}
