package view

import (
	"fmt"
	"image"
	"image/color"

	qrcode "github.com/yeqown/go-qrcode/v2"
)

// qrModulePixels is the size of one QR module in the image; with the
// quiet zone a pairing URL's code is about 300 pixels wide, which a tablet
// camera reads from across a desk.
const (
	qrModulePixels = 8
	qrQuietZone    = 4 // modules of white border, as the standard asks
)

// qrMatrix receives the modules of a QR code from the library.
type qrMatrix struct {
	size int
	dark [][]bool // [y][x]
}

func (m *qrMatrix) Write(mat qrcode.Matrix) error {
	m.size = mat.Width()
	m.dark = make([][]bool, mat.Height())
	for y := range m.dark {
		m.dark[y] = make([]bool, mat.Width())
	}
	mat.Iterate(qrcode.IterDirection_ROW, func(x, y int, v qrcode.QRValue) {
		m.dark[y][x] = v.IsSet()
	})
	return nil
}

func (m *qrMatrix) Close() error { return nil }

// encodeQR returns the modules of text's QR code (error correction level
// M: readable with a little glare on a screen).
func encodeQR(text string) (*qrMatrix, error) {
	q, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	m := &qrMatrix{}
	if err := q.Save(m); err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	return m, nil
}

// qrImage draws text's QR code black on white with its quiet zone.
func qrImage(text string) (image.Image, error) {
	m, err := encodeQR(text)
	if err != nil {
		return nil, err
	}
	side := (m.size + 2*qrQuietZone) * qrModulePixels
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y, row := range m.dark {
		for x, dark := range row {
			if !dark {
				continue
			}
			px, py := (x+qrQuietZone)*qrModulePixels, (y+qrQuietZone)*qrModulePixels
			for dy := range qrModulePixels {
				for dx := range qrModulePixels {
					img.SetGray(px+dx, py+dy, color.Gray{})
				}
			}
		}
	}
	return img, nil
}
