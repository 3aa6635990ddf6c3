package device

import (
	"log"
	"strings"

	"github.com/sirupsen/logrus"
)

// newStdLogger routes net/http's own messages (TLS handshake errors and
// the like) to the logger at debug level: they are noise on a LAN.
func newStdLogger(l logrus.FieldLogger) *log.Logger {
	return log.New(logWriter{l}, "", 0)
}

type logWriter struct{ l logrus.FieldLogger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.Debug("device: http: " + strings.TrimSpace(string(p)))
	return len(p), nil
}
