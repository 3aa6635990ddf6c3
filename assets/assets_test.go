package assets

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
)

// centreRing samples a pixel that is inside the coloured disc of a tray
// icon but off the white pulse line.
func centreRing(img image.Image) (r, g, b uint32) {
	bnd := img.Bounds()
	x := bnd.Min.X + bnd.Dx()/2
	y := bnd.Min.Y + bnd.Dy()*22/100
	r, g, b, _ = img.At(x, y).RGBA()
	return r >> 8, g >> 8, b >> 8
}

func decode(t *testing.T, res fyne.Resource) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(res.Content()))
	if err != nil {
		t.Fatalf("%s: decode: %v", res.Name(), err)
	}
	return img
}

func TestIcons(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		res  fyne.Resource
		size int
		// hue says which channel must dominate in the disc, or "" to skip.
		hue string
	}{
		{"icon.png", AppIcon(), 256, "blue"},
		{"tray-ok.png", TrayOK(), 64, "green"},
		{"tray-warning.png", TrayWarning(), 64, "amber"},
		{"tray-error.png", TrayError(), 64, "red"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.res.Name() != tc.name {
				t.Errorf("name = %q, want %q", tc.res.Name(), tc.name)
			}
			img := decode(t, tc.res)
			if b := img.Bounds(); b.Dx() != tc.size || b.Dy() != tc.size {
				t.Fatalf("size = %v, want %dx%d", b.Size(), tc.size, tc.size)
			}
			// Corners are transparent: the icons are round or rounded.
			if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
				t.Errorf("corner alpha = %d, want 0", a)
			}
			r, g, b := centreRing(img)
			var ok bool
			switch tc.hue {
			case "green":
				ok = g > r+40 && g > b+40
			case "amber":
				ok = r > 200 && g > 120 && b < 80 && r > g
			case "red":
				ok = r > g+100 && r > b+100
			case "blue":
				ok = b > r+60 && b > g
			}
			if !ok {
				t.Errorf("disc colour rgb(%d,%d,%d) is not %s", r, g, b, tc.hue)
			}
		})
	}
}

// TestInstallerIcons checks the icons the installers take from this folder:
// each hicolor size decodes at its size, and mconnect.ico lists the sizes
// Windows shows (16 to 256) with data inside the file.
func TestInstallerIcons(t *testing.T) {
	t.Parallel()
	for _, n := range []int{16, 24, 32, 48, 64, 128, 256, 512} {
		p := filepath.Join("hicolor", fmt.Sprintf("%dx%d", n, n), "apps", "mconnect.png")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%s: %v (run go generate)", p, err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if cfg.Width != n || cfg.Height != n {
			t.Errorf("%s: %dx%d, want %dx%d", p, cfg.Width, cfg.Height, n, n)
		}
	}
	ico, err := os.ReadFile("mconnect.ico")
	if err != nil {
		t.Fatal(err)
	}
	if len(ico) < 6 || binary.LittleEndian.Uint16(ico[2:]) != 1 {
		t.Fatalf("mconnect.ico: not an icon file")
	}
	var sizes []int
	for i := 0; i < int(binary.LittleEndian.Uint16(ico[4:])); i++ {
		e := ico[6+16*i:]
		n := int(e[0])
		if n == 0 {
			n = 256
		}
		size, off := binary.LittleEndian.Uint32(e[8:]), binary.LittleEndian.Uint32(e[12:])
		if uint64(off)+uint64(size) > uint64(len(ico)) {
			t.Errorf("mconnect.ico: %dx%d image runs past the end of the file", n, n)
		}
		sizes = append(sizes, n)
	}
	if fmt.Sprint(sizes) != "[16 24 32 48 64 256]" {
		t.Errorf("mconnect.ico sizes = %v, want [16 24 32 48 64 256]", sizes)
	}
}
