package hl7

import (
	"fmt"
	"strconv"
	"strings"
)

// Path addresses one value: segment (with optional occurrence), field,
// repetition, component and subcomponent, all counting from 1.
type Path struct {
	Segment      string
	Occurrence   int
	Field        int
	Rep          int
	Component    int
	Subcomponent int
}

// ParsePath reads "PID-5", "PID-5.1", "PID-11[2].3", "PID-5.1.2" or
// "OBX(3)-5.1". Missing parts default to 1.
func ParsePath(p string) (Path, error) {
	bad := func(why string) (Path, error) { return Path{}, fmt.Errorf("hl7: path %q: %s", p, why) }
	seg, rest, ok := strings.Cut(p, "-")
	if !ok {
		return bad("want SEG-FIELD")
	}
	out := Path{Occurrence: 1, Rep: 1, Component: 1, Subcomponent: 1}
	if i := strings.IndexByte(seg, '('); i >= 0 {
		if !strings.HasSuffix(seg, ")") {
			return bad("unclosed segment occurrence")
		}
		n, err := strconv.Atoi(seg[i+1 : len(seg)-1])
		if err != nil || n < 1 {
			return bad("segment occurrence must be a number from 1")
		}
		out.Occurrence, seg = n, seg[:i]
	}
	if len(seg) != 3 || !isSegmentName(seg) {
		return bad("segment ID must be 3 upper-case letters or digits")
	}
	out.Segment = seg
	parts := strings.Split(rest, ".")
	if len(parts) > 3 {
		return bad("too many parts")
	}
	fieldPart := parts[0]
	if i := strings.IndexByte(fieldPart, '['); i >= 0 {
		if !strings.HasSuffix(fieldPart, "]") {
			return bad("unclosed repetition")
		}
		n, err := strconv.Atoi(fieldPart[i+1 : len(fieldPart)-1])
		if err != nil || n < 1 {
			return bad("repetition must be a number from 1")
		}
		out.Rep, fieldPart = n, fieldPart[:i]
	}
	nums := []*int{&out.Field, &out.Component, &out.Subcomponent}
	parts[0] = fieldPart
	for i, s := range parts {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return bad("field, component and subcomponent must be numbers from 1")
		}
		*nums[i] = n
	}
	return out, nil
}

// Lookup returns the value at path and whether it is present (non-empty).
func (m *Message) Lookup(path string) (string, bool, error) {
	p, err := ParsePath(path)
	if err != nil {
		return "", false, err
	}
	segs := m.All(p.Segment)
	if p.Occurrence > len(segs) {
		return "", false, nil
	}
	v := segs[p.Occurrence-1].Get(p.Field, p.Rep, p.Component, p.Subcomponent)
	return v, v != "", nil
}

// Get returns the value at path ("" when absent or when the path is malformed).
func (m *Message) Get(path string) string {
	v, _, _ := m.Lookup(path)
	return v
}
