package fonts

import (
	"bytes"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/fontscan"
	"github.com/go-text/typesetting/language"
)

// TestInstall: Fyne keeps the installed map while it measures text of
// every style, and the question it asks that map for each style (a face
// for the language, lookupLangFont in internal/painter) is answered by the
// coverage face for each of the GUI's languages, not by a system font
// parsed whole.
func TestInstall(t *testing.T) {
	if err := Install(); err != nil {
		t.Log(err) // no system fonts: the coverage face answers all the same
	}
	fm := fyneFontMap
	test.NewTempApp(t)
	for _, st := range []fyne.TextStyle{{}, {Bold: true}, {Italic: true}, {Monospace: true}, {Bold: true, Italic: true}} {
		if s := fyne.MeasureText("Meritve čakajo: Grüße", 14, st); s.Width <= 0 {
			t.Fatalf("style %+v: text measured %v", st, s)
		}
	}
	if fyneFontMap != fm || !fyneFontMapLoaded {
		t.Fatal("Fyne replaced the installed font map")
	}
	for _, code := range []string{"en", "de", "fr", "sl"} {
		l, _ := language.NewLangID(language.NewLanguage(code))
		for _, q := range []fontscan.Query{
			{Families: []string{fontscan.SansSerif}},
			{Families: []string{fontscan.SansSerif}, Aspect: font.Aspect{Weight: font.WeightBold}},
			{Families: []string{fontscan.SansSerif}, Aspect: font.Aspect{Style: font.StyleItalic}},
			{Families: []string{fontscan.Monospace}},
		} {
			fm.SetQuery(q)
			face := fm.ResolveFaceForLang(l)
			if face == nil {
				t.Fatalf("%s %+v: no face for the language", code, q)
			}
			if got := fm.FontLocation(face.Font).File; got != Coverage {
				t.Errorf("%s %+v: the language's face is %q, want the coverage face", code, q, got)
			}
		}
	}
}

// TestSystemFontsStillFallBack: a character none of Fyne's fonts has is
// still found among the system's fonts (the coverage face does not hide
// them).
func TestSystemFontsStillFallBack(t *testing.T) {
	fm, err := newFontMap()
	if err != nil {
		t.Skipf("no system fonts to fall back to here: %v", err)
	}
	const alef = 'א' // Hebrew: not in Noto Sans (Fyne's) nor in the coverage face
	fm.SetQuery(fontscan.Query{Families: []string{fontscan.SansSerif}})
	fm.SetScript(language.LookupScript(alef))
	face := fm.ResolveFace(alef)
	if face == nil {
		t.Fatal("no face at all")
	}
	if _, ok := face.NominalGlyph(alef); !ok {
		t.Skip("no system font here has Hebrew letters (fonts-dejavu-core has)")
	}
	if got := fm.FontLocation(face.Font).File; got == Coverage {
		t.Fatalf("alef resolved to the coverage face")
	}
}

// TestCoverageInNoto: every character of the coverage face is in the Noto
// Sans Fyne draws with, so the coverage face, last of a style's fonts, never
// draws one itself (it would look the same if it did: it is that font).
func TestCoverageInNoto(t *testing.T) {
	cov, err := font.ParseTTF(bytes.NewReader(coverage))
	if err != nil {
		t.Fatal(err)
	}
	noto, err := font.ParseTTF(bytes.NewReader(theme.DefaultTextFont().Content()))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for it := cov.Cmap.Iter(); it.Next(); n++ {
		r, _ := it.Char()
		if _, ok := noto.NominalGlyph(r); !ok {
			t.Errorf("%U is in the coverage face but not in Fyne's Noto Sans", r)
		}
	}
	if n < 500 {
		t.Fatalf("the coverage face has %d characters; want Latin, Greek and Cyrillic", n)
	}
}
