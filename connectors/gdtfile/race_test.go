//go:build race

package gdtfile

const raceEnabled = true
