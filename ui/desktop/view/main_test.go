package view

import (
	"os"
	"testing"
)

// TestMain loads the embedded English texts, as Run does, so that plural
// forms resolve the way they do in the application.
func TestMain(m *testing.M) {
	if err := addTranslations(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
