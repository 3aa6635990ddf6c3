package hl7

import (
	"strings"
	"testing"
)

// joinedFieldText is fieldText as first written (joins of copies): the
// reference the allocation-free one is held to.
func joinedFieldText(f Field) string {
	var reps []string
	for _, r := range f {
		var comps []string
		for _, c := range r {
			subs := append([]string(nil), c...)
			for len(subs) > 0 && subs[len(subs)-1] == "" {
				subs = subs[:len(subs)-1]
			}
			comps = append(comps, strings.Join(subs, "&"))
		}
		for len(comps) > 0 && comps[len(comps)-1] == "" {
			comps = comps[:len(comps)-1]
		}
		reps = append(reps, strings.Join(comps, "^"))
	}
	for len(reps) > 0 && reps[len(reps)-1] == "" {
		reps = reps[:len(reps)-1]
	}
	return strings.Join(reps, "~")
}

// fieldOf reads "a&b^c~d" into a Field (no escapes).
func fieldOf(s string) Field {
	var f Field
	for _, rs := range strings.Split(s, "~") {
		var r Repetition
		for _, cs := range strings.Split(rs, "^") {
			r = append(r, Component(strings.Split(cs, "&")))
		}
		f = append(f, r)
	}
	return f
}

func TestFieldTextMatchesJoins(t *testing.T) {
	for _, s := range []string{"", "a", "a^b", "a^^", "^^a", "a&&^b&c&", "&&", "~~", "a~", "~a", "a~~b^c&d~",
		"^&~&^", "x^&y&^z~^~&", "Novak^Janez^^^Dr^^L"} {
		f := fieldOf(s)
		if got, want := fieldText(f), joinedFieldText(f); got != want {
			t.Errorf("%q: fieldText %q, want %q", s, got, want)
		}
		for _, r := range f {
			if got, want := repText(r), joinedFieldText(Field{r}); got != want {
				t.Errorf("%q: repText %q, want %q", s, got, want)
			}
		}
	}
	for _, f := range []Field{nil, {}, {nil}, {{nil}}, {{{}}, {{""}}}, {{{"a"}, nil}}} {
		if got, want := fieldText(f), joinedFieldText(f); got != want {
			t.Errorf("%#v: fieldText %q, want %q", f, got, want)
		}
	}
}

func FuzzFieldText(f *testing.F) {
	f.Add("a&b^c~d^^~")
	f.Add("^&~")
	f.Fuzz(func(t *testing.T, s string) {
		fl := fieldOf(s)
		if got, want := fieldText(fl), joinedFieldText(fl); got != want {
			t.Fatalf("%q: fieldText %q, want %q", s, got, want)
		}
	})
}
