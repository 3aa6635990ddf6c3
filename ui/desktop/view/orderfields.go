package view

import (
	"strconv"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// fieldRow is one line of an appointment's details: a caption, the value
// for people and the value exactly as received.
type fieldRow struct {
	label, text, raw string
}

// fieldSection is one group of an appointment's details.
type fieldSection struct {
	title string
	rows  []fieldRow
}

// Section indexes, in the order the details show them.
const (
	secPatient = iota
	secVisit
	secProvider
	secOrder
	secOther
	numSections
)

// orderSections groups everything known about o as Patient, Visit,
// Provider, Order and "Other fields from the EHR": first what the hub read
// from the message, then every source field the connection parsed (each
// with its readable Text and its raw Value), sorted into the section its
// key or label belongs to.
func orderSections(o *domain.Order, now time.Time, groupOf func(id string) string) []fieldSection {
	secs := []fieldSection{
		{title: txtSectionPatient()}, {title: txtSectionVisit()}, {title: txtSectionProvider()},
		{title: txtSectionOrder()}, {title: txtSectionOther()},
	}
	add := func(sec int, label, value string) {
		if strings.TrimSpace(value) != "" {
			secs[sec].rows = append(secs[sec].rows, fieldRow{label: label, text: value, raw: value})
		}
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return formatTime(t, now)
	}

	add(secPatient, txtPatientID(), o.Patient.ID)
	add(secPatient, txtBirthDate(), o.Patient.BirthDate)
	add(secVisit, txtLocation(), o.Visit.AssignedLocation.String())
	add(secProvider, txtOrderingDoctor(), providerText(o.OrderingProvider))
	add(secProvider, txtAttending(), providerText(o.Visit.Attending))
	add(secOrder, txtOrderNumber(), o.PlacerNumber)
	add(secOrder, txtMeasurement(), measurementName(o))
	add(secOrder, txtScheduled(), at(o.ScheduledAt))
	add(secOrder, txtState(), txtOrderState(o.State))
	add(secOrder, txtGroup(), groupOf(o.Group))
	add(secOrder, txtConnection(), o.Connection)
	add(secOrder, txtReceived(), at(o.ReceivedAt))

	for _, f := range o.Fields {
		label := f.Label
		if label == "" {
			label = f.Key
		} else if f.Key != "" && !strings.EqualFold(label, f.Key) {
			label += " (" + f.Key + ")"
		}
		sec := fieldSectionOf(f)
		secs[sec].rows = append(secs[sec].rows, fieldRow{label: label, text: f.Text, raw: f.Value})
	}
	return secs
}

func providerText(p domain.Provider) string {
	name := strings.TrimSpace(p.Name.Full())
	switch {
	case name != "" && p.ID != "":
		return name + " (" + p.ID + ")"
	case name != "":
		return name
	default:
		return p.ID
	}
}

// fieldSectionOf sorts a source field by its key: HL7 by segment (and the
// provider fields of ORC, OBR and PV1), GDT by field number range, other
// formats by the words in key and label.
func fieldSectionOf(f domain.Field) int {
	key := strings.ToUpper(strings.TrimSpace(f.Key))
	if seg, num, ok := hl7Key(key); ok {
		switch seg {
		case "PID", "PD1", "NK1", "AL1", "IN1", "IN2", "GT1":
			return secPatient
		case "PV1", "PV2":
			switch num {
			case 7, 8, 9, 17, 52:
				return secProvider
			}
			return secVisit
		case "ORC":
			switch num {
			case 10, 11, 12, 19:
				return secProvider
			}
			return secOrder
		case "OBR":
			switch num {
			case 16, 28, 32, 33, 34, 35:
				return secProvider
			}
			return secOrder
		case "TQ1", "OBX", "NTE", "SPM", "DG1":
			return secOrder
		}
		return secOther
	}
	if n, err := strconv.Atoi(key); err == nil && len(key) == 4 {
		switch {
		case n >= 3000 && n < 3700: // patient data
			return secPatient
		case n >= 4200 && n < 4300: // referral: provider and clinic
			return secProvider
		case n >= 6200 && n < 6400, n >= 8300 && n < 8500: // test request
			return secOrder
		}
		return secOther
	}
	words := strings.ToLower(f.Key + " " + f.Label)
	for _, w := range []struct {
		sec   int
		words []string
	}{
		{secPatient, []string{"patient", "birth", "sex", "gender", "insur"}},
		{secProvider, []string{"provider", "practitioner", "doctor", "physician", "attending", "resource"}},
		{secVisit, []string{"visit", "location", "room", "ward"}},
		{secOrder, []string{"order", "appointment", "exam", "service", "start", "end", "measure"}},
	} {
		for _, word := range w.words {
			if strings.Contains(words, word) {
				return w.sec
			}
		}
	}
	return secOther
}

// hl7Key splits an HL7 field path ("PID-5", "OBR-27.4") into its segment
// and field number.
func hl7Key(key string) (seg string, num int, ok bool) {
	if len(key) < 5 || key[3] != '-' {
		return "", 0, false
	}
	seg = key[:3]
	for _, r := range seg {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return "", 0, false
		}
	}
	rest := key[4:]
	if i := strings.IndexAny(rest, ".["); i >= 0 {
		rest = rest[:i]
	}
	num, err := strconv.Atoi(rest)
	if err != nil {
		return "", 0, false
	}
	return seg, num, true
}
