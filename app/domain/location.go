package domain

import "strings"

// Location is a place in a care facility where a patient is seen (HL7 PL,
// e.g. PV1-3 assigned patient location): point of care (ward, clinic or
// department), room and bed, the facility, building and floor, and a free
// description.
type Location struct {
	PointOfCare string `json:"pointOfCare,omitempty"` // PL-1 ("AMB", "KARD")
	Room        string `json:"room,omitempty"`        // PL-2
	Bed         string `json:"bed,omitempty"`         // PL-3
	Facility    string `json:"facility,omitempty"`    // PL-4 (HD namespace, else universal ID)
	Building    string `json:"building,omitempty"`    // PL-7
	Floor       string `json:"floor,omitempty"`       // PL-8
	Description string `json:"description,omitempty"` // PL-9 ("Oak Ridge Big Name Location")
}

// IsZero reports whether no part of the location is set.
func (l Location) IsZero() bool { return l == Location{} }

// String returns the location on one line for people: point of care, room,
// bed, building, floor, facility and description, those that are set,
// separated by commas ("AMB, room 101, bed 1"). A part that already starts
// with its own word ("Room01", "Bed 2") is not labelled twice; a location of
// only a description is that description.
func (l Location) String() string {
	parts := make([]string, 0, 7)
	add := func(word, v string) {
		v = strings.TrimSpace(v)
		if v == "" {
			return
		}
		if word != "" && !hasWordPrefix(v, word) {
			v = word + " " + v
		}
		parts = append(parts, v)
	}
	add("", l.PointOfCare)
	add("room", l.Room)
	add("bed", l.Bed)
	add("building", l.Building)
	add("floor", l.Floor)
	add("", l.Facility)
	add("", l.Description)
	return strings.Join(parts, ", ")
}

// hasWordPrefix reports whether v starts with word, ignoring case.
func hasWordPrefix(v, word string) bool {
	return len(v) >= len(word) && strings.EqualFold(v[:len(word)], word)
}
