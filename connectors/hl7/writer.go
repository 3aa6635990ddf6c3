package hl7

import "strings"

// segWriter writes segments with the standard delimiters.
type segWriter struct {
	w   textWriter
	d   Delimiters
	err error
}

// textWriter is where segments are written: a bufio.Writer for large
// messages, a bytes.Buffer for small ones.
type textWriter interface {
	Write([]byte) (int, error)
	WriteString(string) (int, error)
	WriteByte(byte) error
}

// esc escapes one primitive value.
func (s *segWriter) esc(v string) string { return Escape(v, s.d) }

// comps joins escaped components with ^, dropping trailing empty ones.
func (s *segWriter) comps(parts ...string) string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = s.esc(p)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, string(s.d.Component))
}

// text re-encodes readable text made by Segment.Text (components split on ^,
// repetitions on ~, subcomponents on &) for output.
func (s *segWriter) text(v string) string {
	if !strings.ContainsAny(v, "~^&") {
		return s.esc(v)
	}
	var reps []string
	for r := range strings.SplitSeq(v, "~") {
		var cs []string
		for c := range strings.SplitSeq(r, "^") {
			var ss []string
			for sc := range strings.SplitSeq(c, "&") {
				ss = append(ss, s.esc(sc))
			}
			cs = append(cs, strings.Join(ss, string(s.d.Subcomponent)))
		}
		reps = append(reps, strings.Join(cs, string(s.d.Component)))
	}
	return strings.Join(reps, string(s.d.Repetition))
}

// seg writes one segment: fields are already escaped; trailing empty fields
// are dropped; the segment ends with CR.
func (s *segWriter) seg(name string, fields ...string) {
	if s.err != nil {
		return
	}
	for len(fields) > 0 && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	s.w.WriteString(name)
	for _, f := range fields {
		s.w.WriteByte(s.d.Field)
		s.w.WriteString(f)
	}
	_, s.err = s.w.WriteString("\r")
}

// msh writes MSH; fields start at MSH-3.
func (s *segWriter) msh(fields ...string) {
	enc := string([]byte{s.d.Component, s.d.Repetition, s.d.Escape, s.d.Subcomponent})
	s.seg("MSH", append([]string{enc}, fields...)...)
}

// fields returns n empty fields to fill by HL7 number (index 1 = SEG-1).
func fields(n int) []string { return make([]string, n+1) }
