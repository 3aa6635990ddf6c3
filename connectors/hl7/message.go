package hl7

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Delimiters are the separators a message declares in MSH-1 and MSH-2.
type Delimiters struct {
	Field        byte
	Component    byte
	Repetition   byte
	Escape       byte
	Subcomponent byte
}

// StandardDelimiters are |^~\& — what the hub writes.
func StandardDelimiters() Delimiters {
	return Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&'}
}

// Component is one component of a field repetition: its subcomponents,
// unescaped.
type Component []string

// Repetition is one repetition of a field: its components.
type Repetition []Component

// Field is one field of a segment: its repetitions.
type Field []Repetition

// Segment is one segment of a message.
type Segment struct {
	Name string
	// Pos is the segment's position in the message (1 = MSH).
	Pos int
	// Seq is the occurrence among segments with the same name (1 = first).
	Seq int
	// Fields holds SEG-1 at index 1 and so on; index 0 is unused. For MSH,
	// MSH-1 is the field separator and MSH-2 the encoding characters.
	Fields []Field
}

// Message is a parsed HL7 v2 message. All text is UTF-8 and unescaped.
type Message struct {
	Delims Delimiters
	// Charset is the canonical name of the character set the message was
	// decoded from ("UNICODE UTF-8", "8859/2" ...).
	Charset string
	// DeclaredCharset is MSH-18 (canonical) when the message was read in
	// another set because its bytes disagree with it (declared UTF-8 or
	// ASCII, written in the connection's default charset); empty otherwise.
	DeclaredCharset string
	Segments        []*Segment
}

// ParseOptions tune Parse.
type ParseOptions struct {
	// DefaultCharset is used when MSH-18 is empty and the bytes are not valid
	// UTF-8 (e.g. "8859/2" or "CP1250" for a site whose EHR omits MSH-18).
	// Empty: such a message is rejected with a specific error.
	DefaultCharset string
}

// Parse parses an ER7-encoded message with default options.
func Parse(data []byte) (*Message, error) { return ParseWith(data, ParseOptions{}) }

// ParseWith parses an ER7-encoded message: delimiters from MSH-1/2, character
// set from MSH-18, segments ended by CR, LF or CR LF.
func ParseWith(data []byte, opts ParseOptions) (*Message, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.TrimLeft(data, " \t\r\n")
	d, err := delimitersOf(data)
	if err != nil {
		return nil, err
	}
	charset, err := charsetOf(data, d, utf8.Valid(data), opts.DefaultCharset)
	if err != nil {
		return nil, err
	}
	text, err := decode(data, charset)
	if err != nil {
		return nil, &Error{Pos: 1, Segment: "MSH", Seq: 1, Field: 18, Code: CodeTableValue, Reject: true,
			Problem: fmt.Sprintf("bytes do not decode as %s: %v", charset, err)}
	}
	m := &Message{Delims: d, Charset: charset}
	seqs := map[string]int{}
	for line := range splitSegments(text) {
		pos := len(m.Segments) + 1
		seg, err := parseSegment(line, d, pos)
		if err != nil {
			return nil, err
		}
		seqs[seg.Name]++
		seg.Seq = seqs[seg.Name]
		if pos == 1 && seg.Name != "MSH" {
			return nil, &Error{Pos: 1, Segment: seg.Name, Seq: 1, Code: CodeSegmentSequence, Reject: true,
				Problem: "message does not start with an MSH segment"}
		}
		m.Segments = append(m.Segments, seg)
	}
	if len(m.Segments) == 0 {
		return nil, &Error{Code: CodeSegmentSequence, Reject: true, Problem: "empty message"}
	}
	if declared, ok := CanonicalCharset(m.Segments[0].C(18, 1)); ok && m.Segments[0].C(18, 1) != "" && declared != charset {
		m.DeclaredCharset = declared
	}
	return m, nil
}

// delimitersOf reads MSH-1 and MSH-2 from the raw bytes.
func delimitersOf(data []byte) (Delimiters, error) {
	bad := func(p string, args ...any) (Delimiters, error) {
		return Delimiters{}, &Error{Pos: 1, Segment: "MSH", Seq: 1, Field: 2, Code: CodeSegmentSequence, Reject: true,
			Problem: fmt.Sprintf(p, args...)}
	}
	if len(data) < 3 || string(data[:3]) != "MSH" {
		n := min(len(data), 3)
		return Delimiters{}, &Error{Pos: 1, Code: CodeSegmentSequence, Reject: true,
			Problem: fmt.Sprintf("message does not start with MSH (starts with %q)", data[:n])}
	}
	if len(data) < 8 {
		return bad("MSH too short to declare delimiters")
	}
	d := Delimiters{Field: data[3]}
	end := bytes.IndexByte(data[4:], d.Field)
	if end < 0 {
		return bad("MSH-2 encoding characters are not followed by a field separator")
	}
	enc := data[4 : 4+end]
	if len(enc) < 4 || len(enc) > 5 {
		return bad("MSH-2 must hold 4 encoding characters (5 with truncation), got %q", enc)
	}
	d.Component, d.Repetition, d.Escape, d.Subcomponent = enc[0], enc[1], enc[2], enc[3]
	all := []byte{d.Field, d.Component, d.Repetition, d.Escape, d.Subcomponent}
	for i, c := range all {
		if c < 0x21 || c > 0x7e || ('0' <= c && c <= '9') || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') {
			return bad("delimiter %q is not a printable non-alphanumeric ASCII character", c)
		}
		for _, o := range all[:i] {
			if o == c {
				return bad("delimiter %q is declared twice in MSH-1/MSH-2", c)
			}
		}
	}
	return d, nil
}

// splitSegments yields non-empty lines split on CR, LF or CR LF.
func splitSegments(text string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for len(text) > 0 {
			i := strings.IndexAny(text, "\r\n")
			var line string
			if i < 0 {
				line, text = text, ""
			} else {
				line, text = text[:i], text[i+1:]
			}
			if strings.TrimSpace(line) == "" {
				continue
			}
			if !yield(line) {
				return
			}
		}
	}
}

func parseSegment(line string, d Delimiters, pos int) (*Segment, error) {
	name := line
	if i := strings.IndexByte(line, d.Field); i >= 0 {
		name = line[:i]
	}
	if len(name) != 3 || !isSegmentName(name) {
		return nil, &Error{Pos: pos, Code: CodeSegmentSequence, Reject: pos == 1,
			Problem: fmt.Sprintf("bad segment ID %q (want 3 upper-case letters or digits)", truncate(name, 20))}
	}
	seg := &Segment{Name: name, Pos: pos}
	rest := ""
	if len(line) > 3 {
		rest = line[4:]
	}
	seg.Fields = make([]Field, 1, strings.Count(rest, string(d.Field))+3)
	if name == "MSH" {
		if pos != 1 {
			return nil, &Error{Pos: pos, Segment: name, Code: CodeSegmentSequence, Problem: "MSH segment repeated inside the message"}
		}
		enc, after, _ := strings.Cut(rest, string(d.Field))
		seg.Fields = append(seg.Fields, Field{{{string(d.Field)}}}, Field{{{enc}}})
		rest = after
		if rest == "" {
			return seg, nil
		}
	} else if len(line) <= 4 {
		return seg, nil
	}
	a := newFieldArena(rest, d)
	for f := range strings.SplitSeq(rest, string(d.Field)) {
		seg.Fields = append(seg.Fields, a.parseField(f, d))
	}
	return seg, nil
}

// fieldArena holds the backing arrays of one segment's fields: its
// subcomponents, components and repetitions each in one array, sized from
// the segment's delimiters (three allocations per segment, not per field).
// The arrays never grow, so the slices handed out stay valid.
type fieldArena struct {
	subs  []string
	comps []Component
	reps  []Repetition
}

func newFieldArena(rest string, d Delimiters) *fieldArena {
	// Every field that is not empty has a repetition, every repetition a
	// component, every component a subcomponent; each delimiter adds one
	// more. (An empty field takes nothing.)
	nRep, nComp, nSub := 0, 0, 0
	empty := true
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; c {
		case d.Field:
			empty = true
			continue
		case d.Repetition:
			nRep++
		case d.Component:
			nComp++
		case d.Subcomponent:
			nSub++
		}
		if empty {
			nRep++
			empty = false
		}
	}
	nComp += nRep
	nSub += nComp
	return &fieldArena{
		subs:  make([]string, 0, nSub),
		comps: make([]Component, 0, nComp),
		reps:  make([]Repetition, 0, nRep),
	}
}

func isSegmentName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z') && !('0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// parseField splits one raw field on its own.
func parseField(raw string, d Delimiters) Field {
	return newFieldArena(raw, d).parseField(raw, d)
}

// parseField splits one raw field of the arena's segment into the
// arena's arrays.
func (a *fieldArena) parseField(raw string, d Delimiters) Field {
	if raw == "" {
		return nil
	}
	rs, cs, ss := string(d.Repetition), string(d.Component), string(d.Subcomponent)
	r0 := len(a.reps)
	for r := range strings.SplitSeq(raw, rs) {
		c0 := len(a.comps)
		for c := range strings.SplitSeq(r, cs) {
			s0 := len(a.subs)
			for sc := range strings.SplitSeq(c, ss) {
				a.subs = append(a.subs, Unescape(sc, d))
			}
			a.comps = append(a.comps, Component(a.subs[s0:len(a.subs):len(a.subs)]))
		}
		a.reps = append(a.reps, Repetition(a.comps[c0:len(a.comps):len(a.comps)]))
	}
	return Field(a.reps[r0:len(a.reps):len(a.reps)])
}

// Segment returns the first segment with the given name, or nil.
func (m *Message) Segment(name string) *Segment {
	for _, s := range m.Segments {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// All returns every segment with the given name, in order.
func (m *Message) All(name string) []*Segment {
	var out []*Segment
	for _, s := range m.Segments {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// Field returns SEG-i or nil when absent.
func (s *Segment) Field(i int) Field {
	if s == nil || i <= 0 || i >= len(s.Fields) {
		return nil
	}
	return s.Fields[i]
}

// Get returns the value at field i, repetition r, component c, subcomponent
// sc (all counting from 1), or "" when absent. HL7's explicit null `""`
// ("no value; delete what you have") reads as "" too: for an order that
// arrives it says nothing, and no mapped value is made of it. Fields and
// Text keep it as received.
func (s *Segment) Get(i, r, c, sc int) string {
	f := s.Field(i)
	if r < 1 || r > len(f) {
		return ""
	}
	rep := f[r-1]
	if c < 1 || c > len(rep) {
		return ""
	}
	comp := rep[c-1]
	if sc < 1 || sc > len(comp) {
		return ""
	}
	if v := comp[sc-1]; v != `""` {
		return v
	}
	return ""
}

// C returns component c of the first repetition of field i (first subcomponent).
func (s *Segment) C(i, c int) string { return s.Get(i, 1, c, 1) }

// Text renders field i as readable text: unescaped values with the standard
// separators ^ ~ & between components, repetitions and subcomponents, and
// trailing empty parts dropped.
func (s *Segment) Text(i int) string { return fieldText(s.Field(i)) }

func fieldText(f Field) string {
	last := len(f) - 1
	for last >= 0 && repEmpty(f[last]) {
		last--
	}
	switch {
	case last < 0:
		return ""
	case last == 0:
		return repText(f[0])
	}
	b := make([]byte, 0, 64)
	for i := 0; i <= last; i++ {
		if i > 0 {
			b = append(b, '~')
		}
		b = appendRep(b, f[i])
	}
	return string(b)
}

// repText is r as HL7 text: its components joined by ^, each component's
// subcomponents by &, trailing empty parts left out.
func repText(r Repetition) string {
	last := len(r) - 1
	for last >= 0 && compEmpty(r[last]) {
		last--
	}
	if last == 0 {
		// One component (the most common field): no copy when it has one
		// subcomponent.
		c := r[0]
		ls := len(c) - 1
		for ls >= 0 && c[ls] == "" {
			ls--
		}
		if ls == 0 {
			return c[0]
		}
	}
	if last < 0 {
		return ""
	}
	return string(appendRep(make([]byte, 0, 64), r))
}

func appendRep(b []byte, r Repetition) []byte {
	last := len(r) - 1
	for last >= 0 && compEmpty(r[last]) {
		last--
	}
	for i := 0; i <= last; i++ {
		if i > 0 {
			b = append(b, '^')
		}
		c := r[i]
		ls := len(c) - 1
		for ls >= 0 && c[ls] == "" {
			ls--
		}
		for j := 0; j <= ls; j++ {
			if j > 0 {
				b = append(b, '&')
			}
			b = append(b, c[j]...)
		}
	}
	return b
}

func compEmpty(c Component) bool {
	for _, s := range c {
		if s != "" {
			return false
		}
	}
	return true
}

func repEmpty(r Repetition) bool {
	for _, c := range r {
		if !compEmpty(c) {
			return false
		}
	}
	return true
}

// NumFields is the number of the last field present in the segment.
func (s *Segment) NumFields() int {
	if s == nil {
		return 0
	}
	return len(s.Fields) - 1
}

// truncate cuts s to at most n bytes on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
