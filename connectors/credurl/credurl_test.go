package credurl

import (
	"strings"
	"testing"

	"github.com/mesi/mconnect/app/config"
)

func problems(f func(ck *config.Checker)) []config.Problem {
	ck := config.NewChecker()
	f(ck)
	return ck.Problems()
}

func TestNoCredentials(t *testing.T) {
	tests := []struct {
		url  string
		want string // "" = no problem; else a part of the problem
	}{
		{"https://ehr.example/api/results", ""},
		{"https://ehr.example/api/{externalId}/results?version=2&clinic=17", ""},
		{"https://ehr.example/r?date=2026-12-01T10:00:00Z", ""},
		{"https://mesi:s3cret@ehr.example/api", "user name or password"},
		{"https://mesi@ehr.example/api", "user name or password"},
		{"https://ehr.example/api?api_key=abc", `"api_key" looks like a credential`},
		{"https://ehr.example/api?apiKey=abc", `"apiKey"`},
		{"https://ehr.example/api?access_token=abc", `"access_token"`},
		{"https://ehr.example/api?X-Amz-Signature=abc", `"X-Amz-Signature"`},
		{"https://ehr.example/api?code=9f8e7d6c5b4a39281706f5e4d3c2b1a0aa", `"code"`},
		{"https://ehr.example/api?t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abc", `"t"`},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			ps := problems(func(ck *config.Checker) { NoCredentials(ck.In("results"), "url", tt.url) })
			if tt.want == "" {
				if len(ps) != 0 {
					t.Fatalf("problems %v, want none", ps)
				}
				return
			}
			if len(ps) != 1 || ps[0].Key != "results.url" || !strings.Contains(ps[0].Problem, tt.want) || !strings.Contains(ps[0].Problem, "keyring") {
				t.Fatalf("problems %v, want one under results.url with %q and the keyring", ps, tt.want)
			}
			if strings.Contains(ps[0].Problem, "s3cret") {
				t.Errorf("the problem repeats the password: %s", ps[0].Problem)
			}
		})
	}
}

func TestTokenTransport(t *testing.T) {
	tests := []struct {
		url   string
		allow bool
		bad   bool
	}{
		{"https://ehr.example/api", false, false},
		{"http://ehr.example/api", false, true},
		{"HTTP://192.168.1.20:8080/api", false, true},
		{"http://ehr.example/api", true, false},
		{"http://127.0.0.1:8080/api", false, false},
		{"http://localhost/api", false, false},
		{"http://[::1]/api", false, false},
	}
	for _, tt := range tests {
		ps := problems(func(ck *config.Checker) {
			TokenTransport(ck.In("weda"), "resultURL", tt.url, tt.allow, "allowInsecure")
		})
		if !tt.bad {
			if len(ps) != 0 {
				t.Errorf("%s (allow %v): %v, want none", tt.url, tt.allow, ps)
			}
			continue
		}
		if len(ps) != 1 || ps[0].Key != "weda.resultURL" || !strings.Contains(ps[0].Problem, `"allowInsecure"`) {
			t.Errorf("%s: %v, want one under weda.resultURL naming allowInsecure", tt.url, ps)
		}
	}
}

func FuzzNoCredentials(f *testing.F) {
	f.Add("https://u:p@ehr.example/x?api_key=1")
	f.Add("http://ehr.example/%zz")
	f.Fuzz(func(t *testing.T, raw string) {
		ck := config.NewChecker()
		NoCredentials(ck, "url", raw)
		TokenTransport(ck, "url", raw, false, "allowInsecure")
		for _, p := range ck.Problems() {
			if p.Key != "url" || p.Problem == "" {
				t.Fatalf("problem %+v", p)
			}
		}
	})
}
