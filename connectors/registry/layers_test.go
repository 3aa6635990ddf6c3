package registry

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestLayers keeps the dependencies pointing one way: nothing under
// connectors/ or device/ may import the hub or a user interface, and the
// codecs (pure parsers and writers) import neither os nor net.
func TestLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \",\"}}", "github.com/mesi/mconnect/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/mesi/mconnect/"
	codecs := map[string]bool{mod + "connectors/hl7": true, mod + "connectors/gdt": true}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		pkg, imps, _ := strings.Cut(sc.Text(), " ")
		if !strings.HasPrefix(pkg, mod) {
			continue
		}
		rel := strings.TrimPrefix(pkg, mod)
		lower := strings.HasPrefix(rel, "connectors/") || rel == "device" || strings.HasPrefix(rel, "device/")
		for _, imp := range strings.Split(imps, ",") {
			if lower && (imp == mod+"app/hub" || strings.HasPrefix(imp, mod+"ui")) {
				t.Errorf("%s imports %s: connectors and the device endpoint must not depend on the hub or a UI", rel, imp)
			}
			if codecs[pkg] && (imp == "os" || imp == "net" || strings.HasPrefix(imp, "net/")) {
				t.Errorf("codec %s imports %s: codecs read and write bytes only", rel, imp)
			}
		}
		if lower {
			seen++
		}
	}
	if seen < 10 {
		t.Fatalf("only %d connector/device packages listed; go list output changed?", seen)
	}
}
