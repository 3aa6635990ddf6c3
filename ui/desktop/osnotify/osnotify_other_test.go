//go:build !windows && !((linux || freebsd || openbsd || netbsd) && !android)

package osnotify

import (
	"errors"
	"testing"
)

func TestSendUnsupported(t *testing.T) {
	n := New("mCONNECT Hub", "com.mesi.mconnect", nil)
	defer n.Close()
	if err := n.Send("title", "body"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Send = %v, want errors.ErrUnsupported", err)
	}
}
