package pushjson_test

import (
	"strings"
	"testing"

	"github.com/mesi/mconnect/app/config"
	"github.com/mesi/mconnect/connectors/pushjson"
	"github.com/mesi/mconnect/connectors/registry"
)

// TestExamplesValidate: `config example --ehr join|ziplanerx` makes a
// config that parses and validates with the kinds registered.
func TestExamplesValidate(t *testing.T) {
	reg := registry.Default
	for _, ehr := range []string{"join", "ziplanerx"} {
		t.Run(ehr, func(t *testing.T) {
			c, err := reg.Example(ehr, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			b, err := c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			back, err := config.Parse(b, reg)
			if err != nil {
				t.Fatalf("example does not validate: %v\n%s", err, b)
			}
			sec := back.Sections[ehr].(*pushjson.Config)
			if sec.API.Listen != ":8444" || sec.API.Auth.Mode != "builtin" || sec.Results.ClientSecret != "keyring:"+ehr+"-results-secret" ||
				!strings.Contains(sec.Results.URL, "{externalId}") || sec.Results.Report != "inline" {
				t.Errorf("section: %+v", sec)
			}
			eps := reg.Endpoints(back)
			if len(eps) != 3 || eps[0].Value != ":8444" {
				t.Errorf("endpoints: %+v", eps)
			}
		})
	}
}
