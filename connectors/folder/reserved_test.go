package folder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesi/mconnect/internal/testfs"
)

// A device name would make Windows send the bytes to a device (or refuse),
// and the result would be lost: the writer refuses such names everywhere,
// as exchange folders are often Windows shares.
func TestWriterRefusesWindowsDeviceNames(t *testing.T) {
	t.Parallel()
	dir := testfs.TempDir(t)
	w, err := NewWriter(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"CON", "con", "NUL.gdt", "nul.tar.gz", "Aux.txt", "PRN", "COM1", "com9.gdt", "LPT1.hl7", "lpt0", "COM¹.txt", "NUL .gdt", "CONOUT$"} {
		if _, err := w.WriteFile(name, strings.NewReader("8000")); err == nil || !strings.Contains(err.Error(), "is a device name on Windows") {
			t.Errorf("WriteFile(%q) = %v", name, err)
		}
		if _, err := w.WriteNumbered(name, strings.NewReader("8000")); err == nil || !strings.Contains(err.Error(), "is a device name on Windows") {
			t.Errorf("WriteNumbered(%q) = %v", name, err)
		}
	}
	// Names that only look like one are written.
	for _, name := range []string{"CONSOLE.gdt", "COM10.gdt", "LPT.hl7", "nulls.txt", "x.CON", "COMA.gdt", "AUX-1.gdt"} {
		path, err := w.WriteFile(name, strings.NewReader("8000"))
		if err != nil {
			t.Errorf("WriteFile(%q) = %v", name, err)
			continue
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != "8000" || filepath.Base(path) != name {
			t.Errorf("%s: %q %v", path, b, err)
		}
	}
}
