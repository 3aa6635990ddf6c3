package hl7

import (
	"fmt"
	"strings"
)

// HL7 error condition codes (HL7 table 0357) used in ERR segments.
const (
	CodeSegmentSequence    = 100 // segment sequence error / required segment missing
	CodeRequiredMissing    = 101 // required field missing
	CodeDataType           = 102 // data type error
	CodeTableValue         = 103 // table value not found
	CodeUnsupportedMessage = 200 // unsupported message type
	CodeUnsupportedEvent   = 201 // unsupported event code
	CodeUnsupportedProcID  = 202 // unsupported processing ID
	CodeUnsupportedVersion = 203 // unsupported version ID
	CodeUnknownKey         = 204 // unknown key identifier
	CodeDuplicateKey       = 205 // duplicate key identifier
	CodeInternal           = 207 // application internal error
)

// codeText is the HL7 table 0357 text of an error code.
func codeText(code int) string {
	switch code {
	case CodeSegmentSequence:
		return "Segment sequence error"
	case CodeRequiredMissing:
		return "Required field missing"
	case CodeDataType:
		return "Data type error"
	case CodeTableValue:
		return "Table value not found"
	case CodeUnsupportedMessage:
		return "Unsupported message type"
	case CodeUnsupportedEvent:
		return "Unsupported event code"
	case CodeUnsupportedProcID:
		return "Unsupported processing id"
	case CodeUnsupportedVersion:
		return "Unsupported version id"
	case CodeUnknownKey:
		return "Unknown key identifier"
	case CodeDuplicateKey:
		return "Duplicate key identifier"
	default:
		return "Application internal error"
	}
}

// Error is a problem found in a message, located precisely enough to be
// written into an ERR segment and read by a person at the EHR vendor.
type Error struct {
	// Pos is the segment's position in the message, counting from 1 (0: the
	// message as a whole).
	Pos int
	// Segment is the segment ID ("PID"); Seq its occurrence among segments of
	// that ID (1 for the first PID).
	Segment string
	Seq     int
	// Field, Rep and Component locate the value (0: not applicable).
	Field     int
	Rep       int
	Component int
	// Code is the HL7 table 0357 error condition code.
	Code int
	// Problem says what is wrong, for a person.
	Problem string
	// Reject marks errors answered with AR (application reject: the message
	// header or structure cannot be processed) rather than AE.
	Reject bool
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("hl7: ")
	if e.Pos > 0 {
		fmt.Fprintf(&b, "segment %d", e.Pos)
		if e.Segment != "" {
			fmt.Fprintf(&b, " (%s)", e.Segment)
		}
		b.WriteString(" ")
	} else if e.Segment != "" {
		fmt.Fprintf(&b, "segment %s ", e.Segment)
	}
	if e.Field > 0 {
		fmt.Fprintf(&b, "field %d", e.Field)
		if e.Rep > 1 {
			fmt.Fprintf(&b, " repetition %d", e.Rep)
		}
		if e.Component > 0 {
			fmt.Fprintf(&b, " component %d", e.Component)
		}
		b.WriteString(" ")
	}
	if b.Len() > len("hl7: ") {
		s := strings.TrimSuffix(b.String(), " ")
		b.Reset()
		b.WriteString(s)
		b.WriteString(": ")
	}
	b.WriteString(e.Problem)
	return b.String()
}

// Location renders the error location as "PID^1^3^1" (segment^sequence^field^component).
func (e *Error) Location() string {
	if e.Segment == "" {
		return ""
	}
	seq := e.Seq
	if seq == 0 {
		seq = 1
	}
	parts := []string{e.Segment, fmt.Sprint(seq)}
	if e.Field > 0 {
		parts = append(parts, fmt.Sprint(e.Field))
		if e.Component > 0 {
			parts = append(parts, fmt.Sprint(e.Component))
		}
	}
	return strings.Join(parts, "^")
}

func errAt(seg *Segment, field, comp, code int, format string, args ...any) *Error {
	e := &Error{Field: field, Component: comp, Code: code, Problem: fmt.Sprintf(format, args...)}
	if seg != nil {
		e.Pos, e.Segment, e.Seq = seg.Pos, seg.Name, seg.Seq
	}
	return e
}
