// Command gen draws the application and tray icons of mCONNECT Hub as PNG
// files. It is run by go generate in package assets; the PNGs it writes are
// committed, so a build never needs to run it.
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
)

// Colours of the icons. The status colours match the Dashboard's and are
// dark enough for the white pulse line to stay visible on light and dark
// panels.
var (
	brandTop    = color.NRGBA{0x12, 0x7F, 0xB8, 0xff}
	brandBottom = color.NRGBA{0x0A, 0x4C, 0x7C, 0xff}
	white       = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	statusOK    = color.NRGBA{0x2E, 0x9E, 0x44, 0xff}
	statusWarn  = color.NRGBA{0xE8, 0x9A, 0x00, 0xff}
	statusError = color.NRGBA{0xD9, 0x30, 0x25, 0xff}
)

// pulse is an ECG-like trace in unit coordinates (0..1 on both axes, y down).
var pulse = []pt{
	{0.14, 0.56}, {0.34, 0.56}, {0.41, 0.44}, {0.47, 0.56}, {0.53, 0.56},
	{0.59, 0.22}, {0.66, 0.80}, {0.72, 0.50}, {0.78, 0.56}, {0.86, 0.56},
}

// trayPulse is a simpler trace that stays readable at 16 to 32 pixels.
var trayPulse = []pt{
	{0.10, 0.54}, {0.34, 0.54}, {0.45, 0.20}, {0.57, 0.80}, {0.66, 0.54}, {0.90, 0.54},
}

type pt struct{ x, y float64 }

// shape reports how much of the point (x, y), in unit coordinates, a
// layer covers (0 or 1; anti-aliasing comes from supersampling).
type shape func(x, y float64) bool

type layer struct {
	cover shape
	paint func(x, y float64) color.NRGBA
}

func solid(c color.NRGBA) func(x, y float64) color.NRGBA {
	return func(float64, float64) color.NRGBA { return c }
}

func roundRect(x0, y0, x1, y1, r float64) shape {
	return func(x, y float64) bool {
		if x < x0 || x > x1 || y < y0 || y > y1 {
			return false
		}
		cx := math.Max(x0+r, math.Min(x, x1-r))
		cy := math.Max(y0+r, math.Min(y, y1-r))
		return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
	}
}

func circle(cx, cy, r float64) shape {
	return func(x, y float64) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r }
}

// polyline covers every point within w/2 of the line through pts, with
// round joins and caps.
func polyline(pts []pt, w float64) shape {
	h := w / 2
	return func(x, y float64) bool {
		for i := 0; i+1 < len(pts); i++ {
			if segDist(pt{x, y}, pts[i], pts[i+1]) <= h {
				return true
			}
		}
		return false
	}
}

func segDist(p, a, b pt) float64 {
	dx, dy := b.x-a.x, b.y-a.y
	t := ((p.x-a.x)*dx + (p.y-a.y)*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	qx, qy := a.x+t*dx-p.x, a.y+t*dy-p.y
	return math.Hypot(qx, qy)
}

func scale(pts []pt, s, off float64) []pt {
	out := make([]pt, len(pts))
	for i, p := range pts {
		out[i] = pt{off + p.x*s, off + p.y*s}
	}
	return out
}

// render rasterises the layers, bottom first, at size x size pixels with
// 4x4 supersampling.
func render(size int, layers []layer) *image.NRGBA {
	const ss = 4
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b, a float64 // premultiplied sums
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/ss) / float64(size)
					y := (float64(py) + (float64(sy)+0.5)/ss) / float64(size)
					var cr, cg, cb, ca float64
					for _, l := range layers {
						if !l.cover(x, y) {
							continue
						}
						c := l.paint(x, y)
						la := float64(c.A) / 255
						cr = float64(c.R)/255*la + cr*(1-la)
						cg = float64(c.G)/255*la + cg*(1-la)
						cb = float64(c.B)/255*la + cb*(1-la)
						ca = la + ca*(1-la)
					}
					r, g, b, a = r+cr, g+cg, b+cb, a+ca
				}
			}
			n := float64(ss * ss)
			r, g, b, a = r/n, g/n, b/n, a/n
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{
				R: uint8(math.Round(r / a * 255)),
				G: uint8(math.Round(g / a * 255)),
				B: uint8(math.Round(b / a * 255)),
				A: uint8(math.Round(a * 255)),
			})
		}
	}
	return img
}

func appIcon(size int) *image.NRGBA {
	gradient := func(_, y float64) color.NRGBA {
		t := math.Max(0, math.Min(1, (y-0.06)/0.88))
		mix := func(a, b uint8) uint8 { return uint8(math.Round(float64(a)*(1-t) + float64(b)*t)) }
		return color.NRGBA{mix(brandTop.R, brandBottom.R), mix(brandTop.G, brandBottom.G), mix(brandTop.B, brandBottom.B), 0xff}
	}
	return render(size, []layer{
		{roundRect(0.06, 0.06, 0.94, 0.94, 0.2), gradient},
		{polyline(scale(pulse, 0.84, 0.08), 0.07), solid(white)},
	})
}

func trayIcon(size int, c color.NRGBA) *image.NRGBA {
	ring := color.NRGBA{c.R / 4 * 3, c.G / 4 * 3, c.B / 4 * 3, 0xff}
	return render(size, []layer{
		{circle(0.5, 0.5, 0.47), solid(ring)},
		{circle(0.5, 0.5, 0.42), solid(c)},
		{polyline(scale(trayPulse, 0.8, 0.1), 0.085), solid(white)},
	})
}

func write(dir, name string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func main() {
	dir := flag.String("dir", ".", "directory to write the icons into")
	flag.Parse()
	icons := []struct {
		name string
		img  image.Image
	}{
		{"icon.png", appIcon(256)},
		{"tray-ok.png", trayIcon(64, statusOK)},
		{"tray-warning.png", trayIcon(64, statusWarn)},
		{"tray-error.png", trayIcon(64, statusError)},
	}
	for _, ic := range icons {
		if err := write(*dir, ic.name, ic.img); err != nil {
			log.Fatalf("gen: %v", err)
		}
	}
	// The application icon drawn at each size the installers need, so that
	// small sizes stay crisp: the Linux hicolor theme and the Windows .ico.
	for _, n := range hicolorSizes {
		sub := filepath.Join(*dir, "hicolor", fmt.Sprintf("%dx%d", n, n), "apps")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			log.Fatalf("gen: %v", err)
		}
		if err := write(sub, "mconnect.png", appIcon(n)); err != nil {
			log.Fatalf("gen: %v", err)
		}
	}
	var imgs []*image.NRGBA
	for _, n := range icoSizes {
		imgs = append(imgs, appIcon(n))
	}
	ico, err := encodeICO(imgs)
	if err != nil {
		log.Fatalf("gen: %v", err)
	}
	if err := os.WriteFile(filepath.Join(*dir, "mconnect.ico"), ico, 0o644); err != nil {
		log.Fatalf("gen: write mconnect.ico: %v", err)
	}
}

// hicolorSizes are the sizes of the Linux icon theme the package installs.
var hicolorSizes = []int{16, 24, 32, 48, 64, 128, 256, 512}

// icoSizes are the images of the Windows icon (installer, uninstaller,
// Start menu, the executable's resources).
var icoSizes = []int{16, 24, 32, 48, 64, 256}

// encodeICO writes a Windows icon file: a directory, then each image as a
// 32-bit DIB (bottom-up BGRA with an all-zero AND mask), except 256x256,
// which is stored as PNG as Windows expects for that size.
func encodeICO(imgs []*image.NRGBA) ([]byte, error) {
	var data [][]byte
	for _, img := range imgs {
		n := img.Bounds().Dx()
		if n >= 256 {
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				return nil, fmt.Errorf("encode %dx%d: %w", n, n, err)
			}
			data = append(data, buf.Bytes())
			continue
		}
		maskRow := (n + 31) / 32 * 4
		b := make([]byte, 40, 40+n*n*4+maskRow*n)
		binary.LittleEndian.PutUint32(b[0:], 40)
		binary.LittleEndian.PutUint32(b[4:], uint32(n))
		binary.LittleEndian.PutUint32(b[8:], uint32(2*n)) // XOR and AND bitmaps
		binary.LittleEndian.PutUint16(b[12:], 1)
		binary.LittleEndian.PutUint16(b[14:], 32)
		binary.LittleEndian.PutUint32(b[20:], uint32(n*n*4+maskRow*n))
		for y := n - 1; y >= 0; y-- {
			for x := 0; x < n; x++ {
				c := img.NRGBAAt(x, y)
				b = append(b, c.B, c.G, c.R, c.A)
			}
		}
		b = append(b, make([]byte, maskRow*n)...)
		data = append(data, b)
	}
	out := make([]byte, 6+16*len(imgs))
	binary.LittleEndian.PutUint16(out[2:], 1) // type: icon
	binary.LittleEndian.PutUint16(out[4:], uint16(len(imgs)))
	offset := len(out)
	for i, img := range imgs {
		n := img.Bounds().Dx()
		e := out[6+16*i:]
		e[0], e[1] = byte(n%256), byte(n%256) // 0 means 256
		binary.LittleEndian.PutUint16(e[4:], 1)
		binary.LittleEndian.PutUint16(e[6:], 32)
		binary.LittleEndian.PutUint32(e[8:], uint32(len(data[i])))
		binary.LittleEndian.PutUint32(e[12:], uint32(offset))
		offset += len(data[i])
	}
	for _, d := range data {
		out = append(out, d...)
	}
	return out, nil
}
