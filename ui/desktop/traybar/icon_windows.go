package traybar

import (
	"bytes"
	"image"
	_ "image/png" // the icons are PNG

	"github.com/fyne-io/image/ico"
)

// osIcon converts a PNG to the ICO the Windows tray takes.
func osIcon(png []byte) ([]byte, error) {
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := ico.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
