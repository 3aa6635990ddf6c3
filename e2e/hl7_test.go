package e2e_test

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"testing"

	"github.com/mesi/mconnect/connectors/hl7"
)

// mllpProfiles are the EHRs that send ORM^O01 over MLLP and receive
// ORU^R01 over MLLP; each has its sample order in connectors/hl7/testdata.
var mllpProfiles = []string{"birpis", "hipokrat", "iris", "isoz", "nextgen"}

// TestHL7OverMLLP runs the whole flow for every MLLP profile: the EHR's
// sample order sent by mllp_send is acknowledged (MSA-2 = MSH-10), the
// paired tablet sees every field of it, the simulator's result reaches the
// EHR's MLLP server as an ORU^R01 with the order's patient and placer
// number, the values with units and the stored PDF, and the order is done.
func TestHL7OverMLLP(t *testing.T) {
	needMLLPSend(t)
	for _, ehr := range mllpProfiles {
		t.Run(ehr, func(t *testing.T) {
			raw := readTestdata(t, "connectors", "hl7", "testdata", ehr+"_orm.hl7")
			orm := parseHL7(t, "sample order", raw)

			c := exampleConfig(t, ehr, t.TempDir())
			listen, resultHost := loopback(freePort(t)), loopback(freePort(t))
			c.set(t, "hl7.listen", listen)
			c.set(t, "hl7.resultHost", resultHost)
			c.save(t)
			ehrIn := startReceiver(t, resultHost)
			h := startHub(t, c)
			waitListening(t, "HL7 listener", listen)
			h.pair()

			acks := mllpSend(t, listen, raw)
			checkAck(t, acks[0], orm)

			a := h.onlyAppointment()
			checkHL7Appointment(t, a, orm)

			results := h.upload()
			resultID, ok := results[a.ID]
			if !ok {
				t.Fatalf("tablet-sim uploaded %v, not appointment %s", results, a.ID)
			}
			oru := parseHL7(t, "ORU^R01", ehrIn.next(t, "ORU^R01 at the EHR"))
			checkORU(t, oru, orm, h.report(resultID), simMeasurement(a.Measurement))
			h.waitWorklistEmpty()
		})
	}
}

// TestHL7RestartSafety kills the hub with SIGKILL after it acknowledged a
// result to the tablet but before the EHR could take it (its receiver is
// down), starts it again and only then the receiver: the result arrives.
func TestHL7RestartSafety(t *testing.T) {
	needMLLPSend(t)
	const ehr = "birpis"
	raw := readTestdata(t, "connectors", "hl7", "testdata", ehr+"_orm.hl7")
	orm := parseHL7(t, "sample order", raw)

	c := exampleConfig(t, ehr, t.TempDir())
	listen, resultHost := loopback(freePort(t)), loopback(freePort(t))
	c.set(t, "hl7.listen", listen)
	c.set(t, "hl7.resultHost", resultHost)
	// A send cut off by the kill is sent again: at least once, never lost.
	c.set(t, "delivery.ambiguous", "resend")
	c.save(t)
	h := startHub(t, c)
	waitListening(t, "HL7 listener", listen)
	h.pair()
	checkAck(t, mllpSend(t, listen, raw)[0], orm)
	a := h.onlyAppointment()
	resultID, ok := h.upload()[a.ID] // the simulator got its 201
	if !ok {
		t.Fatalf("no result uploaded for %s", a.ID)
	}

	h.kill()
	h.start()
	ehrIn := startReceiver(t, resultHost)
	oru := parseHL7(t, "ORU^R01", ehrIn.next(t, "ORU^R01 after the restart"))
	checkORU(t, oru, orm, h.report(resultID), simMeasurement(a.Measurement))
	h.waitWorklistEmpty()
}

func parseHL7(t *testing.T, what string, raw []byte) *hl7.Message {
	t.Helper()
	m, err := hl7.Parse(raw)
	if err != nil {
		t.Fatalf("%s does not parse: %v\n%q", what, err, raw)
	}
	return m
}

// checkAck checks the hub's answer to an order: accepted, for this message.
// Original mode (no MSH-15) answers AA; enhanced mode acknowledges the
// commit with CA.
func checkAck(t *testing.T, ack, orm *hl7.Message) {
	t.Helper()
	want := "AA"
	if orm.Get("MSH-15") != "" {
		want = "CA"
	}
	if got := ack.Get("MSA-1"); got != want {
		t.Errorf("MSA-1 = %q, want %q (ERR: %q)", got, want, ack.Get("ERR-8"))
	}
	if got, ctrl := ack.Get("MSA-2"), orm.Get("MSH-10"); got != ctrl {
		t.Errorf("MSA-2 = %q, want the order's MSH-10 %q", got, ctrl)
	}
	if got := ack.Get("MSH-9.1"); got != "ACK" {
		t.Errorf("reply MSH-9 = %q, want ACK", got)
	}
}

type check struct {
	what, got, want string
}

func checkAll(t *testing.T, checks []check) {
	t.Helper()
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
}

// hl7Date turns an HL7 DTM's date into YYYY-MM-DD.
func hl7Date(dtm string) string {
	if len(dtm) < 8 {
		return ""
	}
	return dtm[:4] + "-" + dtm[4:6] + "-" + dtm[6:8]
}

// checkHL7Appointment checks the tablet's view of an HL7 order: the patient
// and visit parts, and every field the order carries, with its value.
func checkHL7Appointment(t *testing.T, a appointment, orm *hl7.Message) {
	t.Helper()
	p := a.Patient
	checkAll(t, []check{
		{"patient id", p.ID, orm.Get("PID-3.1")},
		{"family name", p.Name.Family, orm.Get("PID-5.1")},
		{"given name", p.Name.Given, orm.Get("PID-5.2")},
		{"middle name", p.Name.Middle, orm.Get("PID-5.3")},
		{"birth date", p.BirthDate, hl7Date(orm.Get("PID-7"))},
		{"sex code", p.SexCode, orm.Get("PID-8")},
		{"street", p.Address.Street, orm.Get("PID-11.1")},
		{"city", p.Address.City, orm.Get("PID-11.3")},
		{"postal code", p.Address.PostalCode, orm.Get("PID-11.5")},
		{"visit number", a.Visit.Number.Value, orm.Get("PV1-19.1")},
		{"placer number", a.PlacerNumber, orm.Get("ORC-2.1")},
	})
	if p.Sex == "" {
		t.Error("sex not mapped")
	}
	pid := orm.Segment("PID")
	for r := 1; r <= len(pid.Field(13)); r++ {
		if n := pid.Get(13, r, 1, 1); n != "" && !hasPhone(p.Phones, n) {
			t.Errorf("phone %q (PID-13[%d]) not among %v", n, r, p.Phones)
		}
		if e := pid.Get(13, r, 4, 1); e != "" && p.Email != e {
			t.Errorf("email = %q, want %q (PID-13[%d].4)", p.Email, e, r)
		}
	}

	// Every field of the order reaches the tablet, keyed as the catalogue
	// lists them ("PV1-19", "ORC-7", "OBR-27" ...).
	want := map[string]string{}
	var keys []string
	add := func(key, v string) {
		if v != "" {
			keys = append(keys, key)
			want[key] = v
		}
	}
	add("MSH-7", orm.Get("MSH-7"))
	add("MSH-10", orm.Get("MSH-10"))
	for _, name := range []string{"PID", "PV1", "ORC", "OBR"} {
		seg := orm.Segment(name)
		if seg == nil {
			continue
		}
		for i := 1; i <= seg.NumFields(); i++ {
			key := fmt.Sprintf("%s-%d", name, i)
			add(key, seg.Text(i))
			if key == "ORC-7" || key == "OBR-27" {
				add(key+".4", seg.C(i, 4))
				add(key+".6", seg.C(i, 6))
			}
		}
	}
	for _, nte := range orm.All("NTE") {
		add("NTE-3", nte.Text(3))
	}
	for _, k := range keys {
		if !a.hasField(k, want[k]) {
			t.Errorf("field %s = %q not on the tablet (has %q)", k, want[k], a.field(k))
		}
	}
	for _, k := range []string{"PID-3", "PID-5", "PID-7", "PV1-2", "ORC-1", "ORC-2", "OBR-4"} {
		if len(a.field(k)) == 0 {
			t.Errorf("field %s missing on the tablet", k)
		}
	}
}

func hasPhone(ps []phone, n string) bool {
	for _, p := range ps {
		if p.Number == n {
			return true
		}
	}
	return false
}

// checkORU checks a result message against the order it answers, the PDF
// the hub stored and the measurement tablet-sim made.
func checkORU(t *testing.T, oru, orm *hl7.Message, storedPDF []byte, measurement string) {
	t.Helper()
	checkAll(t, []check{
		{"MSH-9.1", oru.Get("MSH-9.1"), "ORU"},
		{"MSH-9.2", oru.Get("MSH-9.2"), "R01"},
		{"PID-3", oru.Segment("PID").Text(3), orm.Segment("PID").Text(3)},
		{"PID-8", oru.Get("PID-8"), orm.Get("PID-8")},
		{"PV1-19.1 visit number", oru.Get("PV1-19.1"), orm.Get("PV1-19.1")},
		{"PID-5", oru.Segment("PID").Text(5), orm.Segment("PID").Text(5)},
		{"PID-7", oru.Get("PID-7"), orm.Get("PID-7")},
		{"ORC-2.1 placer", oru.Get("ORC-2.1"), orm.Get("ORC-2.1")},
		{"ORC-2.2 placer namespace", oru.Get("ORC-2.2"), orm.Get("ORC-2.2")},
		{"OBR-2.1 placer", oru.Get("OBR-2.1"), orm.Get("ORC-2.1")},
	})
	if oru.Get("MSH-10") == "" {
		t.Error("ORU without MSH-10")
	}
	values, pdfs := 0, 0
	for _, obx := range oru.All("OBX") {
		switch obx.C(2, 1) {
		case "NM":
			values++
			code, v, unit := obx.C(3, 1), obx.C(5, 1), obx.C(6, 1)
			wantUnit, known := simUnits[code]
			if !known {
				t.Errorf("OBX %d: unexpected observation %q", obx.Seq, code)
			}
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				t.Errorf("OBX %d (%s): value %q is not a number", obx.Seq, code, v)
			}
			if unit != wantUnit {
				t.Errorf("OBX %d (%s): unit %q, want %q", obx.Seq, code, unit, wantUnit)
			}
		case "ED":
			pdfs++
			if obx.C(5, 3) != "PDF" || obx.C(5, 4) != "Base64" {
				t.Errorf("OBX %d: ED is %q^%q, want PDF^Base64", obx.Seq, obx.C(5, 3), obx.C(5, 4))
			}
			pdf, err := base64.StdEncoding.DecodeString(obx.C(5, 5))
			if err != nil {
				t.Errorf("OBX %d: PDF is not Base64: %v", obx.Seq, err)
				continue
			}
			checkPDF(t, pdf, storedPDF)
		}
	}
	if want := simObservations[measurement]; values != want {
		t.Errorf("%d numeric OBX, want the %d values of the %s result", values, want, measurement)
	}
	if pdfs != 1 {
		t.Errorf("%d OBX with the PDF, want 1", pdfs)
	}
}
