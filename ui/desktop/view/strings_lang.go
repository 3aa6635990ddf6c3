package view

import (
	"fmt"
	"strings"
	"sync"
	_ "unsafe" // go:linkname below

	// Imported for its side effects too: lang.init loads Fyne's own
	// translations before setLocalizer may be called.
	_ "fyne.io/fyne/v2/lang"
)

// Language is one language the GUI is translated into.
type Language struct {
	Code string // BCP 47 base language, as in translations/<code>.json
	Name string // the language's name in itself, for a language menu

	// plurals are the CLDR plural categories the language's rules use
	// (as go-i18n applies them): every plural text of its translation file
	// has each of them (a test checks it).
	plurals []string
}

// languages lists every translation shipped in translations/; a test keeps
// both in step. English comes first: it is the texts of the code.
var languages = []Language{
	{Code: "en", Name: "English", plurals: []string{"one", "other"}},
	{Code: "de", Name: "Deutsch", plurals: []string{"one", "other"}},
	{Code: "fr", Name: "Français", plurals: []string{"one", "many", "other"}},
	{Code: "sl", Name: "Slovenščina", plurals: []string{"one", "two", "few", "other"}},
}

// Languages returns the languages the GUI can show, English first.
func Languages() []Language {
	out := make([]Language, len(languages))
	copy(out, languages)
	return out
}

// Fyne's lang package (v2.8.1) follows the operating system's locale and has
// no public way to choose another language: setupLang installs the localizer
// for a language, updateLocalizer the one the OS locale asks for. Both are
// what its own tests use; TestSetLanguage fails if an upgrade changes them.
//
//go:linkname setLocalizer fyne.io/fyne/v2/lang.setupLang
func setLocalizer(lang string)

//go:linkname followSystemLocale fyne.io/fyne/v2/lang.updateLocalizer
func followSystemLocale()

// languageMu serialises language changes; lang.X reads what they set, so
// SetLanguage belongs on the Fyne goroutine (or before the app runs).
var languageMu sync.Mutex

// SetLanguage makes every text shown from now on use the language with that
// code (one of Languages); "" follows the operating system's locale again,
// as Fyne does by default. Texts already on screen change when they are next
// drawn. Call it after AddTranslations: loading translations makes Fyne
// follow the OS locale again.
func SetLanguage(code string) error {
	code = strings.TrimSpace(code)
	languageMu.Lock()
	defer languageMu.Unlock()
	if code == "" {
		followSystemLocale()
		return nil
	}
	for _, l := range languages {
		if strings.EqualFold(l.Code, code) {
			setLocalizer(l.Code)
			return nil
		}
	}
	codes := make([]string, len(languages))
	for i, l := range languages {
		codes[i] = l.Code
	}
	return fmt.Errorf("ui: language %q: not one of %s (or empty to follow the system)", code, strings.Join(codes, ", "))
}
