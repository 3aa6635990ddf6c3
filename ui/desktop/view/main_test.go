package view

import (
	"os"
	"testing"
)

// TestMain loads the embedded English texts, as Run does, so that plural
// forms resolve the way they do in the application, and runs the tabs'
// control-API calls in line (see spawnCall) without the clock ticker and
// without the gap between reloads on change events.
func TestMain(m *testing.M) {
	if err := addTranslations(); err != nil {
		panic(err)
	}
	spawnCall = func(f func()) { f() }
	tickEvery = 0
	followGap = 0
	os.Exit(m.Run())
}
