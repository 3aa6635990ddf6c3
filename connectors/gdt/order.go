package gdt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/mesi/mconnect/app/domain"
)

// Meta keys an order carries for building its result.
const (
	MetaVersion    = "gdt.version"    // 9218 of the order
	MetaCharset    = "gdt.charset"    // charset the order was read in
	MetaCharsetTag = "gdt.charsetTag" // 9206 of the order as sent (echoed when the result keeps its charset)
	MetaSenderID   = "gdt.senderId"   // 8316 of the order (the EHR)
	MetaReceiverID = "gdt.receiverId" // 8315 of the order (the hub)
	MetaRecordType = "gdt.recordType" // 8000 of the order
	MetaOrderID    = "gdt.orderId"    // 8310
	MetaOrderUID   = "gdt.orderUid"   // 8314
	MetaRequestRef = "gdt.requestRef" // 2999
	MetaDeviceCode = "gdt.deviceCode" // 8402
	MetaPlacerFrom = "gdt.placerFrom" // which field gave the placer number: 8310, 2999 or "derived"
	MetaWarnings   = "gdt.warnings"   // what was read leniently (Record.Warnings, "; "-joined)
)

// Kind says what an inbound record asks for.
type Kind int

// Kinds of inbound record.
const (
	// KindOrder: 6301/6302 (new or update) or 6303 (cancel): Message.Order is set.
	KindOrder Kind = iota + 1
	// KindShow: 6311, show an examination. The hub has no viewer; the
	// connection logs and acknowledges it. Message.Order holds the mapped
	// patient and identifiers for the log but is not stored.
	KindShow
)

// Message is a mapped inbound record.
type Message struct {
	Kind   Kind
	Order  domain.Order
	Record *Record
}

// DefaultMeasurements maps GDT device/procedure codes (8402) and common
// requested-service texts (2998) to the hub's measurement names. Keys are
// matched case-insensitively after trimming.
func DefaultMeasurements() map[string]string {
	m := make(map[string]string, len(defaultMeasurements))
	for k, v := range defaultMeasurements {
		m[k] = v
	}
	return m
}

// defaultMeasurements is a constant table (upper-case keys); never written.
var defaultMeasurements = map[string]string{
	"EKG": "ECG", "EKG00": "ECG", "EKG01": "ECG", "EKG02": "ECG", "ECG": "ECG", "RUHE-EKG": "ECG", "RUHEEKG": "ECG",
	"ABI": "ABI", "ABI01": "ABI", "ABI00": "ABI", "KNÖCHEL-ARM-INDEX": "ABI",
	"TBI": "TBI", "TBI01": "TBI", "ZEHEN-ARM-INDEX": "TBI",
	"SPO2": "SPO2", "SPO201": "SPO2", "PULSOX": "SPO2", "PULSOXIMETRIE": "SPO2",
	"BP": "BP", "RR": "BP", "RR01": "BP", "BLUTDRUCK": "BP",
	"SPIRO": "SPIRO", "LUFU": "SPIRO", "LUFU01": "SPIRO", "SPIROMETRIE": "SPIRO",
}

// deviceCodes is the reverse default: the 8402 written for an unsolicited
// result of a measurement.
var deviceCodes = map[string]string{
	"ECG": "EKG01", "ABI": "ABI01", "TBI": "TBI01", "SPO2": "SPO201", "BP": "RR01", "SPIRO": "LUFU01",
}

// MapOptions control the mapping of an inbound record to an order.
type MapOptions struct {
	// Connection is the connection name written into the order.
	Connection string
	// Groups maps a requested code (8402, else 2998) to a tablet group ID.
	// Unmapped codes get "" (the default group).
	Groups map[string]string
	// Measurements maps 8402/2998 codes to the hub's measurement names; it is
	// consulted before DefaultMeasurements.
	Measurements map[string]string
	// Now stamps ReceivedAt; time.Now when nil.
	Now func() time.Time
}

// UnsupportedRecordError is returned for record types the hub does not take.
type UnsupportedRecordError struct {
	Type string
	Line int // line of the 8000 field (0: unknown, taken as 1)
}

func (e *UnsupportedRecordError) Error() string {
	line := max(e.Line, 1)
	if e.Type == "6310" {
		return fmt.Sprintf("gdt: line %d (field 8000): record type 6310 is a result, not an order", line)
	}
	name := RecordTypeName(e.Type)
	switch {
	case e.Type == "6100":
		name = "patient master data (BDT)"
	case name == "":
		name = "unknown record type"
	}
	return fmt.Sprintf("gdt: line %d (field 8000): record type %s (%s) is not an order; the hub takes 6301, 6302, 6303 and 6311", line, quoteType(e.Type), name)
}

func quoteType(t string) string {
	if isDigits(t) && len(t) == 4 {
		return t
	}
	return fmt.Sprintf("%q", t)
}

// CheckOrderType reads the record type (8000) before anything else is
// checked, so that a file that is not an order is refused for that reason
// and not for its framing: "record type 6310 is a result, not an order",
// "no record type (8000)". It looks at every line, whatever its line end
// and length prefix, and returns nil for 6301, 6302, 6303 and 6311.
//
// A file with no line that begins like a GDT line (binary, text) is left
// to Parse, which says so; so is an empty one. A last line without its
// line end is not read: it may be half written.
func CheckOrderType(data []byte) error {
	data = bytes.TrimPrefix(data, utf8BOM)
	gdtLines := 0
	for num := 1; len(data) > 0; num++ {
		j := bytes.IndexByte(data, '\n')
		if j < 0 {
			break // a line without its end may be half written: "0138000630"
		}
		line := bytes.TrimRight(data[:j], "\r")
		data = data[j+1:]
		if len(line) < 7 {
			continue
		}
		if _, ok := digits(line[:7]); !ok {
			continue
		}
		gdtLines++
		if string(line[3:7]) != FieldRecordType {
			continue
		}
		typ := strings.TrimSpace(string(line[7:]))
		switch typ {
		case "6301", "6302", "6303", "6311":
			return nil
		}
		return &UnsupportedRecordError{Type: typ, Line: num}
	}
	if gdtLines == 0 {
		return nil
	}
	return &Error{Field: FieldRecordType, Msg: "no record type (8000): this is not a GDT order"}
}

// SourceMessageID returns the ID by which the same file content is recognised: hex SHA-256.
func SourceMessageID(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// MapOrder turns a parsed inbound record into a domain order.
//
// Record types: 6301 and 6302 -> ActionNew (the hub turns a known placer
// number into an update), 6303 -> ActionCancel, 6311 -> KindShow; any other
// type is an *UnsupportedRecordError.
//
// The placer number is 8310 (GDT 3.0 order ID), else 2999 (request
// reference), else derived as "GDT-<3000>-<8402 or 2998>" (patient number and
// requested code) so that a later 6303 for the same patient and examination
// finds the order, and a repeated 6302 updates it instead of adding a second
// appointment.
func MapOrder(rec *Record, raw []byte, opts MapOptions) (*Message, error) {
	typ := rec.Type()
	msg := &Message{Record: rec}
	var action domain.OrderAction
	switch typ {
	case "6301", "6302":
		msg.Kind, action = KindOrder, domain.ActionNew
	case "6303":
		msg.Kind, action = KindOrder, domain.ActionCancel
	case "6311":
		msg.Kind = KindShow
	default:
		l, _ := rec.Line(FieldRecordType)
		return nil, &UnsupportedRecordError{Type: typ, Line: l.Num}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	o := domain.Order{
		Connection:      opts.Connection,
		SourceMessageID: SourceMessageID(raw),
		Action:          action,
		State:           domain.OrderScheduled,
		ControlCode:     typ,
		Meta:            map[string]string{},
		ReceivedAt:      now().UTC(),
	}
	if action == domain.ActionCancel {
		o.State = domain.OrderCancelled
	}
	get := func(id string) string { v, _ := rec.Get(id); return strings.TrimSpace(v) }
	for _, l := range rec.Lines {
		o.Fields = append(o.Fields, domain.Field{Key: l.ID, Label: Label(l.ID), Value: l.Value, Text: FieldText(l.ID, l.Value)})
	}

	p := &o.Patient
	p.ID = get(FieldPatientID)
	if p.ID == "" && msg.Kind == KindOrder && action != domain.ActionCancel {
		return nil, &Error{Field: FieldPatientID, Msg: "patient number missing (mandatory in " + typ + ")"}
	}
	if p.ID != "" {
		p.IDs = []domain.Identifier{{Value: p.ID, Type: "PI"}}
	}
	p.InsuranceNumber = get(FieldInsuranceNumber)
	if p.InsuranceNumber != "" {
		p.IDs = append(p.IDs, domain.Identifier{Value: p.InsuranceNumber, Type: "NI"})
	}
	p.Name = domain.PersonName{Family: get(FieldSurname), Given: get(FieldFirstName), Prefix: get(FieldTitle)}
	if ns := get(FieldNamePrefix); ns != "" {
		// "von", "van der": part of the family name as people write it.
		p.Name.Family = strings.TrimSpace(ns + " " + p.Name.Family)
	}
	if l, ok := rec.Line(FieldBirthDate); ok && strings.TrimSpace(l.Value) != "" {
		d, err := ParseDate(strings.TrimSpace(l.Value))
		if err != nil {
			return nil, &Error{Line: l.Num, Field: l.ID, Msg: "birth date is not a valid DDMMYYYY date"}
		}
		p.BirthDate = d
	}
	p.SexCode = get(FieldSex)
	p.Sex = MapSex(p.SexCode)
	p.Language = get(FieldLanguage)
	p.Address = domain.Address{
		Street:     get(FieldStreet),
		PostalCode: get(FieldPostcode),
		City:       get(FieldCity),
		Country:    get(FieldCountry),
	}
	if pc := get(FieldPostcodeCity); pc != "" {
		code, city, ok := strings.Cut(pc, " ")
		if ok && isDigits(code) && p.Address.PostalCode == "" && p.Address.City == "" {
			p.Address.PostalCode, p.Address.City = code, strings.TrimSpace(city)
		} else {
			p.Address.Other = pc
		}
	}
	if v := get(FieldPhone); v != "" {
		p.Phones = append(p.Phones, domain.Phone{Number: v, Use: "PRN", Equipment: "PH"})
	}
	if v := get(FieldMobile); v != "" {
		p.Phones = append(p.Phones, domain.Phone{Number: v, Use: "PRN", Equipment: "CP"})
	}
	p.Email = get(FieldEmail)
	if p.Email == "" {
		p.Email = get(FieldEmail2)
	}
	p.HeightCM = get(FieldHeight)
	p.WeightKG = get(FieldWeight)

	o.ServiceCode = get(FieldDeviceCode)
	o.ServiceText = get(FieldRequestedService)
	code := o.ServiceCode
	if code == "" {
		code = o.ServiceText
	}
	o.Measurement = lookup(opts.Measurements, o.ServiceCode)
	if o.Measurement == "" {
		o.Measurement = lookup(opts.Measurements, o.ServiceText)
	}
	if o.Measurement == "" {
		o.Measurement = defaultMeasurements[strings.ToUpper(o.ServiceCode)]
	}
	if o.Measurement == "" {
		o.Measurement = defaultMeasurements[strings.ToUpper(o.ServiceText)]
	}
	o.Group = lookup(opts.Groups, o.ServiceCode)
	if o.Group == "" {
		o.Group = lookup(opts.Groups, o.ServiceText)
	}

	switch {
	case get(FieldOrderID) != "":
		o.PlacerNumber = get(FieldOrderID)
		o.Meta[MetaPlacerFrom] = FieldOrderID
	case get(FieldRequestRef) != "":
		o.PlacerNumber = get(FieldRequestRef)
		o.Meta[MetaPlacerFrom] = FieldRequestRef
	case p.ID != "":
		o.PlacerNumber = "GDT-" + p.ID + "-" + code
		o.Meta[MetaPlacerFrom] = "derived"
	default:
		return nil, &Error{Field: FieldPatientID, Msg: "no order ID (8310), request reference (2999) or patient number (3000) to identify the order"}
	}
	o.GroupNumber = get(FieldOrderUID)
	if d := get(FieldDate); d != "" {
		if t, err := ParseDateTime(d, get(FieldTime)); err == nil {
			o.RequestedAt = t
		}
	}

	setMeta := func(k, v string) {
		if v != "" {
			o.Meta[k] = v
		}
	}
	setMeta(MetaVersion, get(FieldVersion))
	setMeta(MetaCharset, string(rec.Charset))
	setMeta(MetaCharsetTag, get(FieldCharset))
	setMeta(MetaSenderID, get(FieldSenderID))
	setMeta(MetaReceiverID, get(FieldReceiverID))
	setMeta(MetaRecordType, typ)
	setMeta(MetaOrderID, get(FieldOrderID))
	setMeta(MetaOrderUID, get(FieldOrderUID))
	setMeta(MetaRequestRef, get(FieldRequestRef))
	setMeta(MetaDeviceCode, o.ServiceCode)
	setMeta(MetaWarnings, strings.Join(rec.Warnings, "; "))
	msg.Order = o
	return msg, nil
}

func lookup(m map[string]string, code string) string {
	code = strings.TrimSpace(code)
	if code == "" || m == nil {
		return ""
	}
	if v, ok := m[code]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, code) {
			return v
		}
	}
	return ""
}

// MapSex maps 3110 codes of GDT 2.1 (1 male, 2 female, 3 diverse) and 3.x
// (M, W, U unknown, D diverse, X indeterminate) to the domain's sex.
func MapSex(code string) domain.Sex {
	switch strings.ToUpper(strings.TrimSpace(code)) {
	case "1", "M":
		return domain.SexMale
	case "2", "W", "F":
		return domain.SexFemale
	case "3", "D", "X":
		return domain.SexOther
	case "U":
		return domain.SexUndiff
	}
	return domain.SexUnknown
}

// SexCode returns the 3110 code of a sex for a GDT version.
func SexCode(s domain.Sex, version string) string {
	v2 := strings.HasPrefix(version, "01") || strings.HasPrefix(version, "02")
	switch s {
	case domain.SexMale:
		if v2 {
			return "1"
		}
		return "M"
	case domain.SexFemale:
		if v2 {
			return "2"
		}
		return "W"
	case domain.SexOther:
		if v2 {
			return "3"
		}
		return "D"
	case domain.SexUndiff:
		if v2 {
			return ""
		}
		return "U"
	}
	return ""
}

// ParseDate turns DDMMYYYY into YYYY-MM-DD, checking the calendar.
func ParseDate(s string) (string, error) {
	if len(s) != 8 || !isDigits(s) {
		return "", fmt.Errorf("date must be 8 digits DDMMYYYY")
	}
	t, err := time.Parse("02012006", s)
	if err != nil {
		return "", fmt.Errorf("date is not a calendar date")
	}
	return t.Format("2006-01-02"), nil
}

// FormatDate turns YYYY-MM-DD into DDMMYYYY.
func FormatDate(s string) (string, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return "", fmt.Errorf("gdt: date %q is not YYYY-MM-DD", s)
	}
	return t.Format("02012006"), nil
}

// ParseDateTime reads 6200/6201 style DDMMYYYY and HHMMSS (or HHMM) as local time.
func ParseDateTime(date, clock string) (time.Time, error) {
	layout := "02012006"
	v := date
	switch len(clock) {
	case 6:
		layout += "150405"
		v += clock
	case 4:
		layout += "1504"
		v += clock
	}
	return time.ParseInLocation(layout, v, time.Local)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
