package config

import (
	"strings"
	"testing"
)

func TestRetentionKeys(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		orders  int
		results int
		archive int
		lowMB   int
		problem string // expected in the error; "" for none
	}{
		{"defaults", `{}`, DefaultOrdersDays, DefaultResultsDays, DefaultArchiveDays, DefaultLowDiskMB, ""},
		{"zero keeps for ever", `{"ordersDays": 0, "resultsDays": 0, "archiveDays": 7, "lowDiskMB": 0}`, 0, 0, 7, 0, ""},
		{"negative age", `{"ordersDays": -1}`, 0, 0, 0, 0, "retention.ordersDays: -1 out of range"},
		{"batch too large", `{"batchSize": 100000}`, 0, 0, 0, 0, "retention.batchSize: 100000 out of range"},
		{"percent too large", `{"lowDiskPercent": 80}`, 0, 0, 0, 0, "retention.lowDiskPercent: 80 out of range"},
		{"unknown key", `{"logsDays": 3}`, 0, 0, 0, 0, "logsDays: unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(`{"ehr": "x", "retention": `+tc.json+`}`), nil)
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("error %v, want one with %q", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := c.Retention
			if *r.OrdersDays != tc.orders || *r.ResultsDays != tc.results || *r.ArchiveDays != tc.archive || *r.LowDiskMB != tc.lowMB ||
				r.BatchSize != DefaultBatchSize || *r.LowDiskPercent != DefaultLowDiskPercent {
				t.Errorf("retention %+v", r)
			}
		})
	}
}
