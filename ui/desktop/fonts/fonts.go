// Package fonts gives the Dashboard's text its language's fallback font
// from a small face of its own instead of a system font per text style.
//
// For every text style it draws (regular, bold, monospace, …) Fyne adds,
// after its own fonts, a system font that covers the system locale's
// language as a last fallback, and parses that font whole at once: for a
// Latin-script language about 2 MB of heap per style (three DejaVu faces:
// 6.8 MB in the Dashboard's live heap of 21 MB), though Fyne's own Noto
// Sans already has every letter of the language. Install gives Fyne's
// font map a face that is such a fallback at a fraction of the cost: a
// subset of the Noto Sans Fyne bundles (Latin, Greek and Cyrillic: 62 KB,
// scripts/font-coverage.sh makes it), registered under the generic
// families Fyne asks for. A character none of Fyne's fonts has (Hebrew,
// CJK, …) is still looked up among the system's fonts, by Fyne, when it
// is first drawn.
package fonts

import (
	"bytes"
	_ "embed"
	"fmt"
	_ "unsafe" // go:linkname below

	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/fontscan"
)

//go:embed coverage.ttf
var coverage []byte

// Fyne (v2.8.1) keeps its font map in internal/painter and builds it on
// first use (loadMap: a FontMap with the system's fonts) unless loaded is
// set. A Fyne without them fails to link; TestInstall fails if Fyne builds
// another map or asks it something this face does not answer.
//
//go:linkname fyneFontMap fyne.io/fyne/v2/internal/painter.fm
var fyneFontMap *fontscan.FontMap

//go:linkname fyneFontMapLoaded fyne.io/fyne/v2/internal/painter.loaded
var fyneFontMapLoaded bool

// Coverage is the location under which the face is registered.
const Coverage = "mconnect:noto-sans-coverage"

// Install builds Fyne's font map itself: the system's fonts, as Fyne
// would, and the coverage face for the generic families Fyne's text styles
// ask for. Call it before the application draws any text (before
// app.New). Without the system's fonts (none found) the map still answers
// the language with the coverage face, and the error says why the system
// fonts are missing.
func Install() error {
	fm, err := newFontMap()
	fyneFontMap, fyneFontMapLoaded = fm, true
	return err
}

func newFontMap() (*fontscan.FontMap, error) {
	face, err := font.ParseTTF(bytes.NewReader(coverage))
	if err != nil {
		return nil, fmt.Errorf("ui: fonts: the coverage face: %w", err)
	}
	fm := fontscan.NewFontMap(quiet{})
	sysErr := fm.UseSystemFonts("")
	for i, family := range []string{fontscan.SansSerif, fontscan.Monospace} {
		fm.AddFace(face, fontscan.Location{File: Coverage, Index: uint16(i)}, font.Description{Family: family, Aspect: font.Aspect{Style: font.StyleNormal, Weight: font.WeightNormal, Stretch: font.StretchNormal}})
	}
	if sysErr != nil {
		return fm, fmt.Errorf("ui: fonts: the system's fonts: %w", sysErr)
	}
	return fm, nil
}

// quiet drops fontscan's messages, as Fyne's own logger for it does.
type quiet struct{}

func (quiet) Printf(string, ...any) {}
