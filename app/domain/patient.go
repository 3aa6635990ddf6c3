package domain

// Sex is the administrative sex after mapping from the EHR's code.
type Sex string

// Administrative sex values. Source codes (HL7 PID-8, GDT 3110) are mapped to
// these; the raw source code is kept in Patient.SexCode.
const (
	SexUnknown Sex = ""
	SexMale    Sex = "M"
	SexFemale  Sex = "F"
	SexOther   Sex = "O" // diverse / other
	SexUndiff  Sex = "U" // undetermined, explicitly stated as unknown
)

// Identifier is an ID with the authority that assigned it and its type
// (HL7 CX: value, assigning authority, identifier type code).
type Identifier struct {
	Value     string `json:"value"`
	Authority string `json:"authority,omitempty"`
	Type      string `json:"type,omitempty"`
}

// PersonName is a structured name (HL7 XPN / XCN name parts, GDT 3101/3102).
type PersonName struct {
	Family string `json:"family,omitempty"`
	Given  string `json:"given,omitempty"`
	Middle string `json:"middle,omitempty"`
	Suffix string `json:"suffix,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	Degree string `json:"degree,omitempty"`
}

// Full returns the name as a person would write it: prefix given middle family.
func (n PersonName) Full() string {
	s := ""
	for _, p := range []string{n.Prefix, n.Given, n.Middle, n.Family} {
		if p == "" {
			continue
		}
		if s != "" {
			s += " "
		}
		s += p
	}
	return s
}

// Address is a postal address (HL7 XAD, GDT 3106/3107/3112/3113/3114).
type Address struct {
	Street     string `json:"street,omitempty"`
	Other      string `json:"other,omitempty"` // second line / other designation; GDT 3106 when it cannot be split
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Country    string `json:"country,omitempty"`
	Type       string `json:"type,omitempty"` // HL7 XAD-7 address type (H home, M mailing, ...)
}

// IsZero reports whether no part of the address is set.
func (a Address) IsZero() bool { return a == Address{} }

// Phone is a telecom entry (HL7 XTN): number, use code (PRN, WPN, ...) and
// equipment type (PH, CP, Internet ...).
type Phone struct {
	Number    string `json:"number"`
	Use       string `json:"use,omitempty"`
	Equipment string `json:"equipment,omitempty"`
}

// Patient holds the demographics the EHR sends with an order.
type Patient struct {
	// ID is the EHR's primary patient number (HL7 PID-3[0].1, GDT 3000).
	ID string `json:"id"`
	// IDs are all identifiers the EHR sent, with authority and type.
	IDs []Identifier `json:"ids,omitempty"`
	// InsuranceNumber is the insurance / patient-specific number (GDT 3105).
	InsuranceNumber string     `json:"insuranceNumber,omitempty"`
	Name            PersonName `json:"name"`
	// BirthDate is the date of birth as YYYY-MM-DD (a calendar date, no zone).
	BirthDate string `json:"birthDate,omitempty"`
	Sex       Sex    `json:"sex,omitempty"`
	// SexCode is the code the EHR sent, before mapping (kept for the answer).
	SexCode string `json:"sexCode,omitempty"`
	// Race is the EHR's race text or code; RaceCode is the hub's internal
	// race_code after the connection's race map.
	Race     string `json:"race,omitempty"`
	RaceCode string `json:"raceCode,omitempty"`
	// Language is the primary language (HL7 PID-15, GDT 3628).
	Language string  `json:"language,omitempty"`
	Address  Address `json:"address,omitzero"`
	Phones   []Phone `json:"phones,omitempty"`
	Email    string  `json:"email,omitempty"`
	HeightCM string  `json:"heightCm,omitempty"`
	WeightKG string  `json:"weightKg,omitempty"`
}
