package domain

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestLocationString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		loc  Location
		want string
	}{
		{Location{PointOfCare: "AMB", Room: "101", Bed: "1"}, "AMB, room 101, bed 1"},
		{Location{Description: "Oak Ridge Big Name Location"}, "Oak Ridge Big Name Location"},
		{Location{PointOfCare: "RADUnit01", Room: "Room01", Facility: "GHH"}, "RADUnit01, Room01, GHH"},
		{Location{PointOfCare: "KARD", Room: "101", Bed: "1", Facility: "ZDL"}, "KARD, room 101, bed 1, ZDL"},
		{Location{PointOfCare: "4E", Building: "B", Floor: "4", Bed: "Bed 2"}, "4E, Bed 2, building B, floor 4"},
		{Location{Room: " 7 ", Description: "Cardiology"}, "room 7, Cardiology"},
		{Location{Floor: "floor -1"}, "floor -1"},
		{Location{}, ""},
	}
	for _, tt := range tests {
		if got := tt.loc.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.loc, got, tt.want)
		}
		if tt.loc.IsZero() != (tt.want == "") {
			t.Errorf("%+v: IsZero = %v", tt.loc, tt.loc.IsZero())
		}
	}
}

// TestVisitLocationJSON: the structured location is omitted when empty and
// carries lowerCamel keys when set, beside the raw PV1-3.
func TestVisitLocationJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Visit{Class: "O"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "assignedLocation") {
		t.Errorf("empty location marshalled: %s", b)
	}
	v := Visit{Location: "AMB^101^1", AssignedLocation: Location{PointOfCare: "AMB", Room: "101", Bed: "1"}}
	b, _ = json.Marshal(v)
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	al, _ := back["assignedLocation"].(map[string]any)
	if back["location"] != "AMB^101^1" || al["pointOfCare"] != "AMB" || al["room"] != "101" || al["bed"] != "1" || len(al) != 3 {
		t.Errorf("marshalled %s", b)
	}
	f, _ := json.Marshal(Field{Key: "PID-5", Value: "Novak^Janez", Text: "Janez Novak"})
	if string(f) != `{"key":"PID-5","value":"Novak^Janez","text":"Janez Novak"}` {
		t.Errorf("field: %s", f)
	}
}
