package desktop

import (
	"os"
	"time"

	"github.com/sirupsen/logrus"
)

// quitGrace is how long the Dashboard process may take to end after its
// window quit.
const quitGrace = 10 * time.Second

// endAfterQuit returns an OnQuit for the Dashboard process: it runs then
// (if set) and, should the process still be running grace later (Fyne's
// loop or something after it stuck), ends it with exit(0). The tray
// process opens the Dashboard again only once the last one has ended, so
// one that never ends would leave the tray's "Open" doing nothing.
func endAfterQuit(then func(), grace time.Duration, log logrus.FieldLogger, exit func(int)) func() {
	return func() {
		if then != nil {
			then()
		}
		time.AfterFunc(grace, func() {
			log.WithField("grace", grace.String()).Error("ui: the Dashboard process had not ended after its window closed; ending it")
			exit(0)
		})
	}
}

var exitProcess = os.Exit
