package config

import (
	"strings"
	"testing"
	"time"
)

func TestDeviceLimitKeys(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    DeviceConfig // the limit fields only
		problem string       // expected in the error; "" for none
	}{
		{"defaults (the endpoint's)", `{}`, DeviceConfig{}, ""},
		{"set", `{"maxConnections": 64, "maxConnectionsPerIP": 4, "firstRequestTimeout": "5s", "maxWorklist": 100}`,
			DeviceConfig{MaxConnections: 64, MaxConnectionsPerIP: 4, FirstRequestTimeout: Duration(5 * time.Second), MaxWorklist: 100}, ""},
		{"too few connections", `{"maxConnections": 4}`, DeviceConfig{}, "device.maxConnections: 4 out of range 16..8192"},
		{"negative per address", `{"maxConnectionsPerIP": -1}`, DeviceConfig{}, "device.maxConnectionsPerIP: -1 out of range"},
		{"per address over the total", `{"maxConnections": 32, "maxConnectionsPerIP": 64}`, DeviceConfig{},
			"device.maxConnectionsPerIP: 64 is more than device.maxConnections (32)"},
		{"first request too slow", `{"firstRequestTimeout": "10m"}`, DeviceConfig{}, "device.firstRequestTimeout: 10m0s out of range 1s..5m"},
		{"first request not a duration", `{"maxWorklist": 20, "firstRequestTimeout": "soon"}`, DeviceConfig{},
			`device.firstRequestTimeout: "soon" is not a duration`},
		{"worklist too long", `{"maxWorklist": 100000}`, DeviceConfig{}, "device.maxWorklist: 100000 out of range 10..10000"},
		{"unknown key", `{"maxWorklists": 10}`, DeviceConfig{}, "maxWorklists: unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(`{"ehr": "x", "device": `+tc.json+`}`), nil)
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("error %v, want one with %q", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := c.Device
			if d.MaxConnections != tc.want.MaxConnections || d.MaxConnectionsPerIP != tc.want.MaxConnectionsPerIP ||
				d.FirstRequestTimeout != tc.want.FirstRequestTimeout || d.MaxWorklist != tc.want.MaxWorklist {
				t.Errorf("device %+v, want the limits of %+v", d, tc.want)
			}
		})
	}
}
