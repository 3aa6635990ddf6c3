package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/app/problem"
)

// Appointment is the body of PUT /appointments/{externalId}: the
// catalogue's field list of Join and ZipLaneRx (patient ID, name, birth
// date, gender, visit identifiers, tablet group, measurement) with the
// scheduled time and free fields of the EHR's own.
//
// Unknown keys are refused, naming the key: a misspelt "birthdate" must not
// vanish silently. Data without a field of its own goes into Fields, which
// the tablet shows and the hub keeps.
type Appointment struct {
	Patient     Patient   `json:"patient"`
	Measurement string    `json:"measurement"`
	TabletGroup string    `json:"tabletGroup,omitempty"`
	ScheduledAt string    `json:"scheduledAt,omitempty"`
	VisitIDs    []VisitID `json:"visitIds,omitempty"`
	// Fields are free key/value pairs shown on the tablet as they are.
	Fields map[string]string `json:"fields,omitempty"`
}

// Patient is who is to be measured.
type Patient struct {
	ID        string `json:"id"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	BirthDate string `json:"birthDate,omitempty"` // YYYY-MM-DD
	Gender    string `json:"gender,omitempty"`    // male, female, other, unknown
}

// VisitID is one identifier of the visit (encounter) the appointment
// belongs to; System says whose identifier it is.
type VisitID struct {
	Value  string `json:"value"`
	System string `json:"system,omitempty"`
}

// Limits of an appointment's values.
const (
	maxIDLen        = 64
	maxNameLen      = 100
	maxShortLen     = 80
	maxVisitIDs     = 10
	maxSystemLen    = 200
	maxFields       = 50
	maxFieldKeyLen  = 64
	maxFieldValLen  = 2000
	maxExternalID   = 128
	maxFutureBirth  = 24 * time.Hour // a newborn in a time zone ahead of the hub's
	problemInvalid  = "invalid-field"
	problemUnknown  = "unknown-field"
	problemMalform  = "malformed-json"
	problemWrongTyp = "wrong-type"
)

// allowed are the keys of each object of the body, by path ("" the top).
var allowed = map[string]map[string]bool{
	"":           {"patient": true, "measurement": true, "tabletGroup": true, "scheduledAt": true, "visitIds": true, "fields": true},
	"patient":    {"id": true, "firstName": true, "lastName": true, "birthDate": true, "gender": true},
	"visitIds[]": {"value": true, "system": true},
}

var (
	externalIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:~@-]{0,127}$`)
	fieldKeyRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
)

// checkExternalID validates the {externalId} of a path.
func checkExternalID(id string) *problem.Problem {
	if !externalIDRE.MatchString(id) {
		return problem.New(http.StatusBadRequest, "invalid-external-id", "Invalid appointment ID",
			fmt.Sprintf("%q is not an appointment ID: 1-%d letters, digits and . _ : ~ @ -, starting with a letter or digit", cut(id, 40), maxExternalID)).WithField("externalId")
	}
	return nil
}

// decodeAppointment reads and checks a body. Warnings name what was read
// leniently (a one-letter gender).
func decodeAppointment(body []byte, now time.Time) (a Appointment, warnings []string, p *problem.Problem) {
	var top map[string]json.RawMessage
	if p := decodeStrict(body, &top); p != nil {
		return a, nil, p
	}
	if top == nil {
		return a, nil, problem.New(http.StatusBadRequest, problemWrongTyp, "Wrong type", "the body must be a JSON object (an appointment), not null")
	}
	if p := unknownKeys("", top); p != nil {
		return a, nil, p
	}
	if raw, ok := top["patient"]; ok && !isNull(raw) {
		var pm map[string]json.RawMessage
		if err := json.Unmarshal(raw, &pm); err != nil {
			return a, nil, typeProblem("patient", "an object")
		}
		if p := unknownKeys("patient", pm); p != nil {
			return a, nil, p
		}
	}
	if raw, ok := top["visitIds"]; ok && !isNull(raw) {
		var list []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return a, nil, typeProblem("visitIds", "an array of objects {value, system}")
		}
		for i, m := range list {
			if p := unknownKeys(fmt.Sprintf("visitIds[%d]", i), m); p != nil {
				return a, nil, p
			}
		}
	}
	if raw, ok := top["fields"]; ok && !isNull(raw) {
		var fm map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fm); err != nil {
			return a, nil, typeProblem("fields", "an object of strings")
		}
		for k, v := range fm {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return a, nil, typeProblem("fields."+k, "a string")
			}
		}
	}
	if err := json.Unmarshal(body, &a); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return a, nil, typeProblem(te.Field, "a "+jsonType(te.Type.Kind().String()))
		}
		return a, nil, problem.New(http.StatusBadRequest, problemMalform, "Malformed JSON", err.Error())
	}
	warnings, p = a.normalise(now)
	return a, warnings, p
}

// decodeStrict decodes exactly one JSON value.
func decodeStrict(body []byte, v any) *problem.Problem {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return problem.New(http.StatusBadRequest, problemMalform, "Malformed JSON", fmt.Sprintf("at byte %d: %v", se.Offset, se))
		case errors.As(err, &te):
			return problem.New(http.StatusBadRequest, problemWrongTyp, "Wrong type", "the body must be a JSON object (an appointment)")
		case errors.Is(err, io.EOF):
			return problem.New(http.StatusBadRequest, problemMalform, "Malformed JSON", "the body is empty: send the appointment as a JSON object")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return problem.New(http.StatusBadRequest, problemMalform, "Malformed JSON", "the body ends in the middle of the JSON object")
		}
		return problem.New(http.StatusBadRequest, problemMalform, "Malformed JSON", err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problem.New(http.StatusBadRequest, problemMalform, "Malformed JSON", "the body holds more than one JSON value")
	}
	return nil
}

func unknownKeys(path string, m map[string]json.RawMessage) *problem.Problem {
	set := allowed[path]
	if strings.HasPrefix(path, "visitIds[") {
		set = allowed["visitIds[]"]
	}
	var bad []string
	for k := range m {
		if !set[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	field := bad[0]
	if path != "" {
		field = path + "." + bad[0]
	}
	known := make([]string, 0, len(set))
	for k := range set {
		known = append(known, k)
	}
	sort.Strings(known)
	where := "an appointment"
	if path != "" {
		where = path
	}
	return problem.New(http.StatusBadRequest, problemUnknown, "Unknown field",
		fmt.Sprintf("%q is not a field of %s (known: %s); put data of your own into \"fields\"", bad[0], where, strings.Join(known, ", "))).WithField(field)
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func typeProblem(field, want string) *problem.Problem {
	return problem.New(http.StatusBadRequest, problemWrongTyp, "Wrong type", fmt.Sprintf("%s must be %s", field, want)).WithField(field)
}

func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice":
		return "array"
	case "map", "struct":
		return "object"
	}
	return goKind
}

func invalid(field, format string, args ...any) *problem.Problem {
	return problem.New(http.StatusUnprocessableEntity, problemInvalid, "Invalid field", fmt.Sprintf(format, args...)).WithField(field)
}

// normalise trims every value and checks it.
func (a *Appointment) normalise(now time.Time) (warnings []string, p *problem.Problem) {
	text := func(field string, v *string, max int) *problem.Problem {
		*v = strings.TrimSpace(*v)
		if len([]rune(*v)) > max {
			return invalid(field, "%s is longer than %d characters", field, max)
		}
		if i := strings.IndexFunc(*v, unicode.IsControl); i >= 0 {
			return invalid(field, "%s holds a control character at position %d", field, i)
		}
		return nil
	}
	for _, f := range []struct {
		field string
		v     *string
		max   int
	}{
		{"patient.id", &a.Patient.ID, maxIDLen},
		{"patient.firstName", &a.Patient.FirstName, maxNameLen},
		{"patient.lastName", &a.Patient.LastName, maxNameLen},
		{"patient.birthDate", &a.Patient.BirthDate, 10},
		{"patient.gender", &a.Patient.Gender, 20},
		{"measurement", &a.Measurement, maxShortLen},
		{"tabletGroup", &a.TabletGroup, maxShortLen},
		{"scheduledAt", &a.ScheduledAt, 40},
	} {
		if p := text(f.field, f.v, f.max); p != nil {
			return nil, p
		}
	}
	if a.Patient.ID == "" {
		return nil, invalid("patient.id", "patient.id is missing: every appointment needs the EHR's patient ID")
	}
	if a.Measurement == "" {
		return nil, invalid("measurement", "measurement is missing: name what to measure (ECG, ABI, TBI, SPO2, BP, SPIRO or a code of the connection's measurement map)")
	}
	if b := a.Patient.BirthDate; b != "" {
		d, err := time.Parse("2006-01-02", b)
		if err != nil {
			return nil, invalid("patient.birthDate", "%q is not a date YYYY-MM-DD", b)
		}
		if d.After(now.UTC().Add(maxFutureBirth)) {
			return nil, invalid("patient.birthDate", "%s is in the future", b)
		}
	}
	switch g := strings.ToLower(a.Patient.Gender); g {
	case "", "male", "female", "other", "unknown":
		a.Patient.Gender = g
	case "m", "f", "o", "u":
		word := map[string]string{"m": "male", "f": "female", "o": "other", "u": "unknown"}[g]
		warnings = append(warnings, fmt.Sprintf("patient.gender: %q read as %q", a.Patient.Gender, word))
		a.Patient.Gender = word
	default:
		return nil, invalid("patient.gender", "%q is not male, female, other or unknown", a.Patient.Gender)
	}
	if s := a.ScheduledAt; s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, invalid("scheduledAt", "%q is not an RFC 3339 time with its offset (2026-03-02T09:30:00+01:00)", s)
		}
		a.ScheduledAt = t.Format(time.RFC3339Nano)
	}
	if len(a.VisitIDs) > maxVisitIDs {
		return nil, invalid("visitIds", "%d visit identifiers: at most %d", len(a.VisitIDs), maxVisitIDs)
	}
	for i := range a.VisitIDs {
		v := &a.VisitIDs[i]
		f := fmt.Sprintf("visitIds[%d]", i)
		if p := text(f+".value", &v.Value, maxIDLen); p != nil {
			return nil, p
		}
		if p := text(f+".system", &v.System, maxSystemLen); p != nil {
			return nil, p
		}
		if v.Value == "" {
			return nil, invalid(f+".value", "%s.value is missing", f)
		}
	}
	if len(a.Fields) > maxFields {
		return nil, invalid("fields", "%d free fields: at most %d", len(a.Fields), maxFields)
	}
	if len(a.Fields) == 0 {
		a.Fields = nil
	}
	for k, v := range a.Fields {
		f := "fields." + k
		if !fieldKeyRE.MatchString(k) {
			return nil, invalid(f, "%q is not a field name: 1-%d letters, digits and _ . -", cut(k, 40), maxFieldKeyLen)
		}
		if len([]rune(v)) > maxFieldValLen {
			return nil, invalid(f, "%s is longer than %d characters", f, maxFieldValLen)
		}
		if strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
			return nil, invalid(f, "%s holds a control character", f)
		}
	}
	return warnings, nil
}

// canonical is the accepted appointment as the hub keeps it (and GET
// shows it), with its hash: the same content always gives the same hash.
func (a *Appointment) canonical() (string, string) {
	b, _ := json.Marshal(a) // map keys are sorted by encoding/json
	sum := sha256.Sum256(b)
	return string(b), hex.EncodeToString(sum[:])
}

// Meta keys the Integration API writes into its orders.
const (
	MetaExternalID = "externalId"
	metaHash       = "integration.hash"
	metaBody       = "integration.appointment"
	metaClient     = "integration.client"
)

// order maps an accepted appointment to the hub's order.
func (a *Appointment) order(conn, externalID, measurement, group, client string, now time.Time) domain.Order {
	body, hash := a.canonical()
	o := domain.Order{
		Connection:   conn,
		Action:       domain.ActionNew,
		PlacerNumber: externalID,
		Measurement:  measurement,
		ServiceCode:  a.Measurement,
		Patient: domain.Patient{
			ID:        a.Patient.ID,
			Name:      domain.PersonName{Given: a.Patient.FirstName, Family: a.Patient.LastName},
			BirthDate: a.Patient.BirthDate,
			Sex:       sexOf(a.Patient.Gender),
			SexCode:   a.Patient.Gender,
		},
		Group:       group,
		MessageAt:   now,
		RequestedAt: now,
		Meta:        map[string]string{MetaExternalID: externalID, metaHash: hash, metaBody: body, metaClient: client},
	}
	if t, err := time.Parse(time.RFC3339Nano, a.ScheduledAt); err == nil {
		o.ScheduledAt = t
	}
	if len(a.VisitIDs) > 0 {
		o.Visit.Number = domain.Identifier{Value: a.VisitIDs[0].Value, Authority: a.VisitIDs[0].System}
	}
	add := func(key, label, value, text string) {
		if value != "" {
			o.Fields = append(o.Fields, domain.Field{Key: key, Label: label, Value: value, Text: text})
		}
	}
	add("externalId", "Appointment ID", externalID, "")
	add("patient.id", "Patient ID", a.Patient.ID, "")
	add("patient.firstName", "First name", a.Patient.FirstName, "")
	add("patient.lastName", "Last name", a.Patient.LastName, "")
	add("patient.birthDate", "Birth date", a.Patient.BirthDate, "")
	add("patient.gender", "Gender", a.Patient.Gender, "")
	add("measurement", "Measurement", a.Measurement, "")
	add("tabletGroup", "Tablet group", a.TabletGroup, "")
	if !o.ScheduledAt.IsZero() {
		add("scheduledAt", "Scheduled", a.ScheduledAt, o.ScheduledAt.Format("2006-01-02 15:04 -07:00"))
	}
	for i, v := range a.VisitIDs {
		txt := ""
		if v.System != "" {
			txt = v.Value + " (" + v.System + ")"
		}
		add(fmt.Sprintf("visitIds[%d]", i), "Visit ID", v.Value, txt)
	}
	keys := make([]string, 0, len(a.Fields))
	for k := range a.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		o.Fields = append(o.Fields, domain.Field{Key: "fields." + k, Label: k, Value: a.Fields[k]})
	}
	return o
}

func sexOf(gender string) domain.Sex {
	switch gender {
	case "male":
		return domain.SexMale
	case "female":
		return domain.SexFemale
	case "other":
		return domain.SexOther
	case "unknown":
		return domain.SexUndiff
	}
	return domain.SexUnknown
}

// builtinMeasurements are the hub's measurement names.
var builtinMeasurements = []string{"ECG", "ABI", "TBI", "SPO2", "BP", "SPIRO"}

// measurementOf maps the EHR's measurement through the connection's map
// (keys matched case-insensitively), else to a measurement of the hub.
func measurementOf(v string, m map[string]string) (string, *problem.Problem) {
	for k, meas := range m {
		if strings.EqualFold(strings.TrimSpace(k), v) {
			return meas, nil
		}
	}
	for _, b := range builtinMeasurements {
		if strings.EqualFold(b, v) {
			return b, nil
		}
	}
	known := append([]string(nil), builtinMeasurements...)
	for k := range m {
		known = append(known, k)
	}
	sort.Strings(known)
	return "", invalid("measurement", "%q is not a measurement this hub knows (%s)", cut(v, 40), strings.Join(known, ", "))
}

// groupOf maps the EHR's tablet group through the connection's map, else
// to a group of the hub by ID or name; empty is the default group.
func groupOf(v string, m map[string]string, groups []domain.Group) (string, *problem.Problem) {
	if v == "" {
		for _, g := range groups {
			if g.Default {
				return g.ID, nil
			}
		}
		return domain.DefaultGroupID, nil
	}
	for k, g := range m {
		if strings.EqualFold(strings.TrimSpace(k), v) {
			v = g
			break
		}
	}
	for _, g := range groups {
		if g.ID == v || strings.EqualFold(g.Name, v) {
			return g.ID, nil
		}
	}
	names := make([]string, 0, len(groups))
	for _, g := range groups {
		names = append(names, g.ID)
	}
	sort.Strings(names)
	return "", invalid("tabletGroup", "%q is not a tablet group of this hub (groups: %s)", cut(v, 40), strings.Join(names, ", "))
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
