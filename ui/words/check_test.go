package words

import (
	"testing"

	"github.com/mesi/mconnect/connectors/connector"
)

func TestCheckWords(t *testing.T) {
	tests := []struct {
		what string
		r    connector.CheckResult
		want string
	}{
		{"EHR", connector.CheckResult{OK: true, Code: "reachable", Args: map[string]string{"addr": "10.0.0.7:2576"}},
			"EHR: Reachable (10.0.0.7:2576)."},
		{"Results", connector.CheckResult{OK: true, Code: "reachable", Args: map[string]string{"url": "https://ehr/x", "status": "200"}},
			"Results: Reachable (https://ehr/x), answered 200."},
		{"EHR", connector.CheckResult{Code: "refused", Args: map[string]string{"addr": "10.0.0.7:2576"}},
			"EHR: Nothing answers at 10.0.0.7:2576: the EHR or its interface may be off, or the port is wrong."},
		{"Outbox folder", connector.CheckResult{OK: true, Code: "writable", Args: map[string]string{"folder": "/gdt", "free": "12 GB"}},
			"Outbox folder: The folder /gdt exists and can be written; 12 GB free."},
		{"", connector.CheckResult{Code: "auth-refused", Args: map[string]string{"status": "401"}},
			"The credentials were refused (401): enter them again in Settings."},
		{"X", connector.CheckResult{Code: "strange", Detail: "boom"}, "X: strange: boom"},
	}
	for _, tc := range tests {
		if got := Check(tc.what, tc.r, nil); got != tc.want {
			t.Errorf("Check(%q, %+v) = %q, want %q", tc.what, tc.r, got, tc.want)
		}
	}
	for k, v := range CheckTexts() {
		if got := English(k, v, map[string]any{}); got == v && containsTemplate(v) {
			t.Errorf("%s: template did not render", k)
		}
	}
}

func containsTemplate(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '{' && s[i+1] == '{' {
			return true
		}
	}
	return false
}
