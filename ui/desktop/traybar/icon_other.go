//go:build !windows

package traybar

import (
	"bytes"
	"image/png"
)

// osIcon checks that the icon is a PNG, which the Linux tray (and macOS's)
// takes as it is.
func osIcon(b []byte) ([]byte, error) {
	if _, err := png.DecodeConfig(bytes.NewReader(b)); err != nil {
		return nil, err
	}
	return b, nil
}
