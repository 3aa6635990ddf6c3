package hl7

import (
	"encoding/json"
	"strings"
	"testing"
)

// Empty optional values stay empty: a PV1 without PV1-7, PV1-44 and PV1-45,
// or with HL7's explicit null "" in them,
// gives zero times and an empty attending
// doctor, and the order's JSON carries neither "0001-01-01T00:00:00Z" nor
// empty objects such as "attending":{"name":{}}.
func TestEmptyOptionalValuesStayEmpty(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, pv1 string }{
		{"absent", "PV1|1|O|AMB^101^1"},
		{"empty fields", "PV1|1|O|AMB^101^1||||||||||||||||||||||||||||||||||||||||||"},
		{"explicit null", "PV1|1|O|AMB^101^1||||\"\"|||||||||||||||||||||||||||||||||||||\"\"|\"\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := "MSH|^~\\&|EHR|FAC|HUB|MESI|20240101120000||ORM^O01|E1|P|2.5\r" +
				"PID|1||P1||Doe^Jane||19700101|F\r" + tt.pv1 + "\rORC|NW|A1\rOBR|1|A1||ECG\r"
			_, orders, err := testMapper(false).Decode([]byte(msg))
			if err != nil {
				t.Fatal(err)
			}
			o := orders[0]
			if !o.Visit.AdmitAt.IsZero() || !o.Visit.DischargeAt.IsZero() || !o.Visit.Attending.IsZero() ||
				!o.ScheduledAt.IsZero() || !o.ObservationAt.IsZero() || !o.OrderingProvider.IsZero() {
				t.Fatalf("values invented: visit %+v, scheduled %v, observed %v, provider %+v", o.Visit, o.ScheduledAt, o.ObservationAt, o.OrderingProvider)
			}
			b, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"0001-01-01", `"attending"`, `"orderingProvider"`, `"number"`, `"admitAt"`, `"dischargeAt"`, `{}`} {
				if strings.Contains(string(b), bad) {
					t.Errorf("JSON holds %s: %s", bad, b)
				}
			}
		})
	}
}
