package setup

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ and translations/en.json")

// TestMain loads the embedded English texts as the application does.
func TestMain(m *testing.M) {
	flag.Parse()
	if err := Register(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
