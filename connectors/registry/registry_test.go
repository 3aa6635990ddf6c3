package registry

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/gdtfile"
	"github.com/mesi/mconnect/connectors/hl7net"
)

func TestExamplesValidateAndRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, id := range catalogue.IDs() {
		t.Run(id, func(t *testing.T) {
			c, err := Example(id, dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(Default); err != nil {
				t.Fatalf("example does not validate: %v", err)
			}
			b, err := c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "password\": \"") && !strings.Contains(string(b), "keyring:") {
				t.Fatal("example holds a secret")
			}
			back, err := Parse(b)
			if err != nil {
				t.Fatalf("example does not parse back: %v\n%s", err, b)
			}
			if back.EHR != id || back.Hub.DataDir != dir {
				t.Fatalf("round trip changed the config: %+v", back.Hub)
			}
		})
	}
}

func TestLoadErrorsNameFileKeyAndProblem(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"syntax.json", []string{"syntax.json", "line 3", "column"}},
		{"unknown-key.json", []string{"unknown-key.json", "nmae", "unknown key"}},
		{"bad-port.json", []string{"bad-port.json", "hl7.listen: port 99999 out of range"}},
		{"missing.json", []string{"missing.json", "no such file"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata", tc.file))
			if err == nil {
				t.Fatal("loaded a bad config")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestValidateProblems(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		ehr    string
		modify func(c *config.Config)
		key    string
		want   string
	}{
		{"unknown ehr", "birpis", func(c *config.Config) { c.EHR = "medis" }, "ehr", "unknown EHR"},
		{"empty whitelist", "birpis", func(c *config.Config) { hl7(c).Whitelist = nil }, "hl7.whitelist", "empty"},
		{"bad cidr", "iris", func(c *config.Config) { hl7(c).Whitelist = []string{"10.0.0.0/33"} }, "hl7.whitelist[0]", "not an IP"},
		{"result host without host", "isoz", func(c *config.Config) { hl7(c).ResultHost = ":2576" }, "hl7.resultHost", "no host"},
		{"plain secret", "weda", func(c *config.Config) { weda(c).Token = "s3cr3t" }, "weda.token", "reference"},
		{"bad url", "weda", func(c *config.Config) { weda(c).ResultURL = "ftp://x" }, "weda.resultURL", "not an http(s) URL"},
		{"relative folder", "tomedo", func(c *config.Config) { gdt(c).InboundDir = "in" }, "gdt.inboundDir", "absolute"},
		{"long gdt id", "doctolib", func(c *config.Config) { gdt(c).HubID = "MCONNECTHUB" }, "gdt.hubId", "1-8"},
		{"embed pdf in 2.1", "doctolib", func(c *config.Config) { gdt(c).EmbedPDF = true }, "gdt.embedPDF", "03.00"},
		{"ftp without password", "tomedo", func(c *config.Config) { gdt(c).FTP.Enabled = true; gdt(c).FTP.Password = "" }, "gdt.ftp.password", "must not be empty"},
		{"undeclared group", "nextgen", func(c *config.Config) { hl7(c).GroupMap = map[string]string{"ECG": "nowhere"} }, "hl7.groupMap[ECG]", "not declared"},
		{"missing section", "hipokrat", func(c *config.Config) { delete(c.Sections, "hl7") }, "hl7", "missing"},
		{"foreign section", "tomedo", func(c *config.Config) { c.Sections["hl7"] = &hl7net.MLLPConfig{} }, "hl7", "not used by ehr \"tomedo\""},
		{"bad ambiguous policy", "birpis", func(c *config.Config) { c.Delivery.Ambiguous = "maybe" }, "delivery.ambiguous", "hold or resend"},
		{"pairing ttl", "birpis", func(c *config.Config) { c.Device.PairingCodeTTL = 1 }, "device.pairingCodeTTL", "out of range"},
		{"duplicate group", "birpis", func(c *config.Config) {
			c.Groups = []config.GroupConfig{{ID: "cardiology", Name: "A"}, {ID: "cardiology", Name: "X"}}
		}, "groups[1].id", "twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Example(tc.ehr, dir)
			if err != nil {
				t.Fatal(err)
			}
			tc.modify(c)
			err = c.Validate(Default)
			var ve *config.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate() = %v, want a ValidationError", err)
			}
			for _, p := range ve.Problems {
				if p.Key == tc.key && strings.Contains(p.Problem, tc.want) {
					return
				}
			}
			t.Fatalf("no problem %s: ...%s... in %v", tc.key, tc.want, err)
		})
	}
}

func TestSaveIsAtomicAndValidated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "conf", "config.json")
	c, _ := Example("tomedo", dir)
	if err := c.Save(path, Default); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	gdt(c).Version = "9"
	if err := c.Save(path, Default); err == nil {
		t.Fatal("saved an invalid config")
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Fatal("a failed save changed the file")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temp files left behind: %v", entries)
	}
}

func hl7(c *config.Config) *hl7net.MLLPConfig {
	return config.SectionOf[*hl7net.MLLPConfig](c, hl7net.MLLPSection)
}
func weda(c *config.Config) *hl7net.WEDAConfig {
	return config.SectionOf[*hl7net.WEDAConfig](c, hl7net.WEDASection)
}
func gdt(c *config.Config) *gdtfile.Config {
	return config.SectionOf[*gdtfile.Config](c, gdtfile.Section)
}

// TestExamplesLetInOneEHRAddress: an example's HL7 whitelist names single
// addresses (the EHR's), never a whole network.
func TestExamplesLetInOneEHRAddress(t *testing.T) {
	dir := t.TempDir()
	seen := 0
	for _, id := range catalogue.IDs() {
		c, err := Example(id, dir)
		if err != nil {
			t.Fatal(err)
		}
		h, ok := c.Sections[hl7net.MLLPSection].(*hl7net.MLLPConfig)
		if !ok {
			continue
		}
		seen++
		if len(h.Whitelist) != 1 {
			t.Errorf("%s: whitelist %v, want the EHR's one address", id, h.Whitelist)
		}
		for _, e := range h.Whitelist {
			if p, err := netip.ParsePrefix(e); err == nil && !p.IsSingleIP() {
				t.Errorf("%s: whitelist entry %q is a network, want a single address", id, e)
			} else if err != nil {
				if _, err := netip.ParseAddr(e); err != nil {
					t.Errorf("%s: whitelist entry %q is not an address", id, e)
				}
			}
		}
	}
	if seen == 0 {
		t.Fatal("no example with an HL7 section")
	}
}
