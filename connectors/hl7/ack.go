package hl7

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// AckCode is MSA-1.
type AckCode string

// Acknowledgment codes: original mode (AA/AE/AR) and enhanced mode commit
// level (CA/CE/CR).
const (
	AA AckCode = "AA"
	AE AckCode = "AE"
	AR AckCode = "AR"
	CA AckCode = "CA"
	CE AckCode = "CE"
	CR AckCode = "CR"
)

// Header is what an answer needs from the request's MSH. ReadHeader fills it
// even from messages that fail to parse further.
type Header struct {
	SendingApp, SendingFacility     string // MSH-3, MSH-4 (as text)
	ReceivingApp, ReceivingFacility string // MSH-5, MSH-6
	MessageType, Event              string // MSH-9.1, MSH-9.2
	ControlID                       string // MSH-10
	ProcessingID                    string // MSH-11
	Version                         string // MSH-12
	AcceptAckType, AppAckType       string // MSH-15, MSH-16
	// Charset is the canonical MSH-18 as declared (empty when absent);
	// Encoding the set the message was decoded from (the answer uses it).
	Charset, Encoding string
}

// Enhanced reports whether the sender asked for enhanced acknowledgment mode.
func (h Header) Enhanced() bool { return h.AcceptAckType != "" || h.AppAckType != "" }

// Wants reports whether the sender asked, in enhanced mode, for an
// acknowledgment of the given type (MSH-15 for the accept acknowledgment,
// MSH-16 for the application acknowledgment; HL7 table 0155) when the
// answer is code (AA: success; AE/AR: error or reject). AL asks always, NE
// never, ER only on error or reject, SU only on success. An empty value
// beside a valued other one reads as AL for the accept acknowledgment and
// ER for the application acknowledgment (HL7 requires both in enhanced
// mode; a sender that leaves MSH-16 empty still learns of a refusal,
// never silence). In original mode (both empty)
// the one acknowledgment is always wanted as accept acknowledgment.
func (h Header) Wants(typ string, code AckCode) bool {
	if !h.Enhanced() {
		return true
	}
	ok := code == AA || code == CA
	switch strings.ToUpper(strings.TrimSpace(typ)) {
	case "AL":
		return true
	case "NE":
		return false
	case "ER":
		return !ok
	case "SU":
		return ok
	}
	return false
}

// WantsAccept reports whether MSH-15 asks for the accept (commit)
// acknowledgment of an answer with code; WantsApplication the same for
// MSH-16 and the application acknowledgment. An unknown or empty MSH-15
// reads as AL; an unknown or empty MSH-16 as ER.
func (h Header) WantsAccept(code AckCode) bool {
	t := strings.ToUpper(strings.TrimSpace(h.AcceptAckType))
	if t != "NE" && t != "ER" && t != "SU" {
		t = "AL"
	}
	return h.Wants(t, code)
}

// WantsApplication: see WantsAccept.
func (h Header) WantsApplication(code AckCode) bool {
	t := strings.ToUpper(strings.TrimSpace(h.AppAckType))
	if t != "AL" && t != "NE" && t != "SU" {
		t = "ER"
	}
	return h.Enhanced() && h.Wants(t, code)
}

// AckLevel says which acknowledgment an Ack is.
type AckLevel int

// Acknowledgment levels. AckAuto is the accept acknowledgment in the
// sender's mode (AA/AE/AR in original mode, CA/CE/CR in enhanced mode);
// AckApplication an enhanced-mode application acknowledgment (AA/AE/AR,
// asking for no acknowledgment of itself: MSH-15 and MSH-16 NE).
const (
	AckAuto AckLevel = iota
	AckApplication
)

// HeaderOf extracts the header of a parsed message.
func HeaderOf(m *Message) Header {
	msh := m.Segment("MSH")
	if msh == nil {
		return Header{}
	}
	h := Header{
		SendingApp: msh.Text(3), SendingFacility: msh.Text(4),
		ReceivingApp: msh.Text(5), ReceivingFacility: msh.Text(6),
		MessageType: msh.C(9, 1), Event: msh.C(9, 2), ControlID: msh.C(10, 1),
		ProcessingID: msh.C(11, 1), Version: msh.C(12, 1),
		AcceptAckType: msh.C(15, 1), AppAckType: msh.C(16, 1), Encoding: m.Charset,
	}
	h.Charset, _ = CanonicalCharset(msh.C(18, 1))
	if msh.C(18, 1) == "" {
		h.Charset = ""
	}
	return h
}

// ReadHeader extracts what it can of MSH from raw bytes that may not parse:
// enough to address an error answer. It never fails; missing parts stay empty.
func ReadHeader(data []byte) Header {
	data = bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if m, err := Parse(data); err == nil {
		return HeaderOf(m)
	}
	line := data
	if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
		line = line[:i]
	}
	if len(line) > 4096 {
		line = line[:4096]
	}
	if len(line) < 8 || string(line[:3]) != "MSH" {
		return Header{}
	}
	d, err := delimitersOf(line)
	if err != nil {
		return Header{}
	}
	text := strings.ToValidUTF8(string(line), "?")
	seg, err := parseSegment(text, d, 1)
	if err != nil {
		return Header{}
	}
	h := HeaderOf(&Message{Segments: []*Segment{seg}})
	if v := seg.C(18, 1); v != "" {
		h.Charset, _ = CanonicalCharset(v)
		h.Encoding = h.Charset
	}
	return h
}

// Ack describes an acknowledgment to build.
type Ack struct {
	Request Header
	// Code is the original-mode code (AA/AE/AR); in enhanced mode it is
	// turned into CA/CE/CR.
	Code AckCode
	// Text is MSA-3 (a short text for a person).
	Text string
	// Errors each become an ERR segment.
	Errors []*Error
	// ControlID is this ACK's MSH-10; At its MSH-7.
	ControlID string
	At        time.Time
	// SendingApp/SendingFacility name the hub in MSH-3/4 when the request
	// did not name a receiver.
	SendingApp, SendingFacility string
	// Level is the kind of acknowledgment (default AckAuto).
	Level AckLevel
}

// BuildAck writes the ACK in the request's version and character set.
func BuildAck(a Ack) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(256)
	s := &segWriter{w: &buf, d: StandardDelimiters()}
	r := a.Request
	version := r.Version
	if version == "" {
		version = "2.5"
	}
	code := a.Code
	if r.Enhanced() && a.Level != AckApplication {
		switch code {
		case AA:
			code = CA
		case AE:
			code = CE
		case AR:
			code = CR
		}
	}
	sendApp, sendFac := r.ReceivingApp, r.ReceivingFacility
	if sendApp == "" {
		sendApp = a.SendingApp
	}
	if sendFac == "" {
		sendFac = a.SendingFacility
	}
	encodeAs := r.Encoding
	if encodeAs == CharsetUTF8 || encodeAs == CharsetASCII {
		encodeAs = ""
	}
	at := a.At
	if at.IsZero() {
		at = time.Now()
	}
	event := r.Event
	msh := fields(18)
	msh[3], msh[4], msh[5], msh[6] = s.text(sendApp), s.text(sendFac), s.text(r.SendingApp), s.text(r.SendingFacility)
	msh[7] = FormatTime(at)
	msh[9] = s.comps("ACK", event, "ACK")
	msh[10] = s.esc(a.ControlID)
	msh[11] = s.esc(orDefault(r.ProcessingID, "P"))
	msh[12] = s.esc(version)
	if a.Level == AckApplication {
		msh[15], msh[16] = "NE", "NE"
	}
	msh[18] = s.esc(r.Charset)
	if r.Charset != "" && encodeAs != "" && r.Charset != r.Encoding {
		// The request declared a set its bytes were not in: say which set
		// the ACK is really written in.
		msh[18] = s.esc(r.Encoding)
	}
	if msh[18] == "" && encodeAs != "" {
		// Decoded with the connection's default: say which set the ACK uses.
		msh[18] = s.esc(encodeAs)
	}
	s.msh(msh[3:]...)
	text := a.Text
	if text == "" && len(a.Errors) > 0 {
		text = a.Errors[0].Problem
	}
	s.seg("MSA", string(code), s.esc(r.ControlID), s.esc(truncate(text, 80)))
	v25 := versionAtLeast(version, 2, 5)
	for _, e := range a.Errors {
		code := e.Code
		if code == 0 {
			code = CodeInternal
		}
		if v25 {
			f := fields(8)
			if e.Segment != "" {
				seq := e.Seq
				if seq == 0 {
					seq = 1
				}
				loc := []string{e.Segment, fmt.Sprint(seq), "", "", "", ""}
				if e.Field > 0 {
					loc[2] = fmt.Sprint(e.Field)
					if e.Rep > 0 || e.Component > 0 {
						loc[3] = fmt.Sprint(max(e.Rep, 1))
					}
					if e.Component > 0 {
						loc[4] = fmt.Sprint(e.Component)
					}
				}
				f[2] = s.comps(loc...)
			}
			f[3] = s.comps(fmt.Sprint(code), codeText(code), "HL70357")
			f[4] = "E"
			f[8] = s.esc(e.Problem)
			s.seg("ERR", f[1:]...)
		} else {
			// v2.1-2.4: ERR-1 ELD segment^sequence^field^code&text&table
			loc := strings.Split(e.Location(), "^")
			for len(loc) < 3 {
				loc = append(loc, "")
			}
			parts := make([]string, 0, 4)
			for _, p := range loc[:3] {
				parts = append(parts, s.esc(p))
			}
			parts = append(parts, s.esc(fmt.Sprint(code))+"&"+s.esc(e.Problem)+"&HL70357")
			s.seg("ERR", strings.Join(parts, "^"))
		}
	}
	if s.err != nil {
		return nil, fmt.Errorf("hl7: building ACK: %w", s.err)
	}
	out := buf.Bytes()
	if !utf8.Valid(out) {
		out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
	}
	if encodeAs != "" {
		enc, err := EncodeString(string(out), encodeAs)
		if err != nil {
			return nil, fmt.Errorf("hl7: encoding ACK: %w", err)
		}
		return enc, nil
	}
	return out, nil
}

// AckResult is what an answer to the hub said.
type AckResult struct {
	Code      AckCode
	ControlID string // MSA-2: the control ID it acknowledges
	Text      string // MSA-3 and ERR texts
}

// Accepted reports AA or CA.
func (r AckResult) Accepted() bool { return r.Code == AA || r.Code == CA }

// Rejected reports AR or CR (do not resend as is).
func (r AckResult) Rejected() bool { return r.Code == AR || r.Code == CR }

// ReadAck parses an ACK received from an EHR.
func ReadAck(data []byte) (AckResult, error) {
	m, err := Parse(data)
	if err != nil {
		return AckResult{}, fmt.Errorf("reading ACK: %w", err)
	}
	msa := m.Segment("MSA")
	if msa == nil {
		return AckResult{}, fmt.Errorf("reading ACK: no MSA segment")
	}
	r := AckResult{Code: AckCode(strings.ToUpper(msa.C(1, 1))), ControlID: msa.C(2, 1)}
	switch r.Code {
	case AA, AE, AR, CA, CE, CR:
	default:
		return r, fmt.Errorf("reading ACK: MSA-1 %q is not an acknowledgment code", msa.C(1, 1))
	}
	texts := []string{}
	if t := msa.Text(3); t != "" {
		texts = append(texts, t)
	}
	for _, e := range m.All("ERR") {
		for _, f := range []int{8, 3, 1} {
			if t := e.Text(f); t != "" {
				texts = append(texts, t)
				break
			}
		}
	}
	r.Text = strings.Join(texts, "; ")
	return r, nil
}

func versionAtLeast(v string, major, minor int) bool {
	var a, b int
	if _, err := fmt.Sscanf(v, "%d.%d", &a, &b); err != nil {
		return false
	}
	return a > major || (a == major && b >= minor)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
