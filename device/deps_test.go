package device

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies: the LAN endpoint and the tablet simulator speak to the
// hub through the small interfaces of this package and domain types only;
// they must not depend on the store, the hub or a user interface.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not in PATH: cannot list the dependencies")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}", ".", "./sim").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/mesi/mconnect/"
	for _, p := range strings.Fields(string(out)) {
		if !strings.HasPrefix(p, mod) {
			continue
		}
		switch strings.TrimPrefix(p, mod) {
		case "device", "device/sim", "app/domain", "app/netlimit", "app/problem", "app/tlscert":
		default:
			t.Errorf("device depends on %s", p)
		}
	}
}
