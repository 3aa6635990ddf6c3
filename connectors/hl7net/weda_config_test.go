package hl7net

import (
	"strings"
	"testing"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/connectors/catalogue"
)

// TestWEDAResultURLValidation: no credential in the results URL, and no
// plain http for the token unless allowInsecure says so.
func TestWEDAResultURLValidation(t *testing.T) {
	tests := []struct {
		name  string
		url   string
		allow bool
		want  string // a part of the problem under weda.resultURL; "" = none
	}{
		{"example", "", false, ""},
		{"password", "https://mesi:pw@weda.example/api/mesi/results", false, "keyring"},
		{"api key", "https://weda.example/api/mesi/results?api_key=k", false, "keyring"},
		{"token", "https://weda.example/api/mesi/results?token=abc", false, "keyring"},
		{"http", "http://weda.example/api/mesi/results", false, "allowInsecure"},
		{"http allowed", "http://weda.example/api/mesi/results", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := catalogue.Lookup("weda")
			c := WEDAKind().Example(p, t.TempDir()).(*WEDAConfig)
			if tt.url != "" {
				c.ResultURL = tt.url
			}
			c.AllowInsecure = tt.allow
			c.ApplyDefaults()
			ck := config.NewChecker()
			c.Validate(ck.In(WEDASection))
			var got []config.Problem
			for _, p := range ck.Problems() {
				if p.Key == "weda.resultURL" {
					got = append(got, p)
				}
			}
			if tt.want == "" {
				if len(got) != 0 {
					t.Fatalf("problems %v, want none", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0].Problem, tt.want) || strings.Contains(got[0].Problem, "pw@") {
				t.Fatalf("problems %v, want one naming %q", got, tt.want)
			}
		})
	}
}
