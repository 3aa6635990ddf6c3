package config

import (
	"strings"
	"testing"
)

func TestUpdateKeys(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		feed    string
		enabled bool
		problem string
	}{
		{"defaults", `{"ehr":"birpis"}`, DefaultUpdateFeed, true, ""},
		{"off", `{"ehr":"birpis","update":{"check":false}}`, DefaultUpdateFeed, false, ""},
		{"own feed", `{"ehr":"birpis","update":{"feed":"https://updates.clinic.example/feed.json","check":true}}`, "https://updates.clinic.example/feed.json", true, ""},
		{"plain http", `{"ehr":"birpis","update":{"feed":"http://updates.example.com/feed.json"}}`, "", false, `update.feed: "http://updates.example.com/feed.json" is not an https address`},
		{"no host", `{"ehr":"birpis","update":{"feed":"https:///feed.json"}}`, "", false, `update.feed: "https:///feed.json" is not an https address`},
		{"user in address", `{"ehr":"birpis","update":{"feed":"https://me:pw@updates.example.com/"}}`, "", false, "update.feed:"},
		{"typo", `{"ehr":"birpis","update":{"chek":false}}`, "", false, "update.chek: unknown key"},
		{"wrong type", `{"ehr":"birpis","update":{"check":"off"}}`, "", false, "update.check: line 1, column 40: expected bool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.json), nil)
			if tt.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.problem) {
					t.Fatalf("Parse = %v, want %q", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Update.Feed != tt.feed || c.Update.Enabled() != tt.enabled {
				t.Fatalf("update = %+v (enabled %v)", c.Update, c.Update.Enabled())
			}
			// Written back and read again, the keys stay.
			b, err := c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(b, nil)
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			if back.Update.Feed != tt.feed || back.Update.Enabled() != tt.enabled {
				t.Fatalf("after a round trip update = %+v", back.Update)
			}
		})
	}
}

func TestCoreHasUpdateDefaults(t *testing.T) {
	c := Core("birpis", "/data")
	if c.Update.Feed != DefaultUpdateFeed || !c.Update.Enabled() {
		t.Fatalf("Core update = %+v", c.Update)
	}
}
