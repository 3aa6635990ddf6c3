package view

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	_ "unsafe" // go:linkname below

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
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
// no public way to choose another language (fyne-io/fyne#5333): setupLang
// installs the localizer for a language (its own tests use it),
// updateLocalizer the one the OS locale asks for (its loaders call it). A
// Fyne without them fails to link; TestSetLanguage fails if they do
// something else.
//
//go:linkname setLocalizer fyne.io/fyne/v2/lang.setupLang
func setLocalizer(lang string)

//go:linkname followSystemLocale fyne.io/fyne/v2/lang.updateLocalizer
func followSystemLocale()

var (
	// languageMu serialises language changes; lang.X reads what they set,
	// so SetLanguage belongs on the Fyne goroutine (or before the app runs).
	languageMu sync.Mutex
	// chosenLanguage is the code SetLanguage was last given ("" = the OS's).
	chosenLanguage string
)

// SetLanguage makes every text shown from now on use the language with that
// code (one of Languages); "" follows the operating system's locale again,
// as Fyne does by default. Texts already on screen change when they are next
// drawn. It may be called before or after AddTranslations.
func SetLanguage(code string) error {
	code = strings.TrimSpace(code)
	languageMu.Lock()
	defer languageMu.Unlock()
	if code == "" {
		chosenLanguage = ""
		followSystemLocale()
		return nil
	}
	for _, l := range languages {
		if strings.EqualFold(l.Code, code) {
			chosenLanguage = l.Code
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

// loadTranslations registers every *.json of dir with Fyne's lang, one file
// at a time: a file that cannot be read is left out (English and the other
// languages keep working) and named in the returned error, with the line and
// column of a JSON syntax error. Fyne follows the OS locale again after
// loading, so a language chosen with SetLanguage is applied again.
func loadTranslations(fsys fs.FS, dir string) error {
	names, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return fmt.Errorf("ui: translations: %w", err)
	}
	if len(names) == 0 {
		return fmt.Errorf("ui: translations: no *.json files in %s", dir)
	}
	var errs []error
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err == nil {
			err = lang.AddTranslations(fyne.NewStaticResource(path.Base(name), data))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("ui: translation %s: %w", name, jsonPlace(data, err)))
		}
	}
	languageMu.Lock()
	if chosenLanguage != "" {
		setLocalizer(chosenLanguage)
	}
	languageMu.Unlock()
	return errors.Join(errs...)
}

// jsonPlace adds the line and column to a JSON syntax or type error in raw.
func jsonPlace(raw []byte, err error) error {
	var off int64
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	default:
		return err
	}
	if off < 0 || off > int64(len(raw)) {
		return err
	}
	before := string(raw[:off])
	line := 1 + strings.Count(before, "\n")
	col := len([]rune(before[strings.LastIndex(before, "\n")+1:]))
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}
