package folder

import (
	"os"
	"time"
)

// readNote reads a note (or any file) that has just appeared, trying again
// for a few seconds: on Windows a file just renamed into place refuses
// opens (sharing violation) until the renaming handle is closed.
func readNote(path string) ([]byte, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil || time.Now().After(deadline) {
			return b, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}
