package setup

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"text/template"

	"fyne.io/fyne/v2/test"
)

// The other tests of this package run as on an English system, whatever
// the machine's locale; TestStartLanguage chooses its own.
func init() { systemLocale = func() string { return "en-US" } }

// pluralsOf are the CLDR plural categories (as go-i18n applies them) of
// each language of languages.
var pluralsOf = map[string][]string{
	"en": {"one", "other"},
	"de": {"one", "other"},
	"fr": {"one", "many", "other"},
	"sl": {"one", "two", "few", "other"},
}

// pluralForms are the keys a plural text may have (go-i18n's CLDR names).
var pluralForms = []string{"zero", "one", "two", "few", "many", "other"}

// readTranslations reads every *.json of dir in fsys as code → texts; a
// file that is not a JSON object of texts is a problem naming the file
// and, for bad JSON, the line and column.
func readTranslations(fsys fs.FS, dir string) (map[string]map[string]any, []string) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return nil, []string{err.Error()}
	}
	var problems []string
	files := map[string]map[string]any{}
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		var texts map[string]any
		if err := json.Unmarshal(raw, &texts); err != nil {
			problems = append(problems, fmt.Sprintf("%s is not valid JSON: %s", name, jsonPlace(raw, err)))
			continue
		}
		files[strings.TrimSuffix(path.Base(name), ".json")] = texts
	}
	return files, problems
}

// jsonPlace adds the line and column of a JSON syntax error to its text.
func jsonPlace(raw []byte, err error) string {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return err.Error()
	}
	before := raw[:min(int(se.Offset), len(raw))]
	line := strings.Count(string(before), "\n") + 1
	col := len(before) - strings.LastIndex(string(before), "\n")
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}

// placeholderRE finds the fields in a template action: {{.Name}}, {{if .addr}}.
var placeholderRE = regexp.MustCompile(`\.([A-Za-z_][A-Za-z0-9_]*)`)

// placeholders returns the fields the actions of text name, or an error
// when text is not a valid template.
func placeholders(key, text string) (map[string]bool, error) {
	if _, err := template.New(key).Parse(text); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	rest := text
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			break
		}
		for _, m := range placeholderRE.FindAllStringSubmatch(rest[i+2:i+j], -1) {
			set[m[1]] = true
		}
		rest = rest[i+j+2:]
	}
	return set, nil
}

// textForms returns the forms of a text: {"other": s} for a plain string,
// the plural forms for an object.
func textForms(v any) (map[string]string, error) {
	switch v := v.(type) {
	case string:
		return map[string]string{"other": v}, nil
	case map[string]any:
		forms := map[string]string{}
		for form, s := range v {
			if !slices.Contains(pluralForms, form) {
				return nil, fmt.Errorf("plural form %q is not one of %s", form, strings.Join(pluralForms, ", "))
			}
			str, ok := s.(string)
			if !ok {
				return nil, fmt.Errorf("plural form %q is %T, not text", form, s)
			}
			forms[form] = str
		}
		if _, ok := forms["other"]; !ok {
			return nil, errors.New(`plural text has no "other" form`)
		}
		return forms, nil
	default:
		return nil, fmt.Errorf("is %T, not text or plural forms", v)
	}
}

func sortedSet(set map[string]bool) string {
	return "{" + strings.Join(slices.Sorted(maps.Keys(set)), ", ") + "}"
}

// checkTranslation compares one language's texts (code) with English and
// returns the problems, one line each; missing and extra keys first,
// listed together.
func checkTranslation(en, tr map[string]any, code string, plurals []string) []string {
	var problems, missing, extra []string
	for _, key := range slices.Sorted(maps.Keys(en)) {
		if _, ok := tr[key]; !ok {
			missing = append(missing, key)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(tr)) {
		if _, ok := en[key]; !ok {
			extra = append(extra, key)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("%s.json lacks %d keys of en.json:\n\t%s", code, len(missing), strings.Join(missing, "\n\t")))
	}
	if len(extra) > 0 {
		problems = append(problems, fmt.Sprintf("%s.json has %d keys en.json lacks (renamed or removed?):\n\t%s", code, len(extra), strings.Join(extra, "\n\t")))
	}
	for _, key := range slices.Sorted(maps.Keys(tr)) {
		enV, ok := en[key]
		if !ok {
			continue
		}
		place := fmt.Sprintf("%s.json %q", code, key)
		enForms, err := textForms(enV)
		if err != nil {
			problems = append(problems, fmt.Sprintf("en.json %q: %v", key, err))
			continue
		}
		want, err := placeholders(key, enForms["other"])
		if err != nil {
			problems = append(problems, fmt.Sprintf("en.json %q: %v", key, err))
			continue
		}
		forms, err := textForms(tr[key])
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", place, err))
			continue
		}
		_, enPlural := enV.(map[string]any)
		_, trPlural := tr[key].(map[string]any)
		if enPlural != trPlural {
			problems = append(problems, fmt.Sprintf("%s: plural forms in one file and plain text in the other", place))
			continue
		}
		if !enPlural {
			got, err := placeholders(key, forms["other"])
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", place, err))
			} else if !maps.Equal(got, want) {
				problems = append(problems, fmt.Sprintf("%s: placeholders %s, English has %s", place, sortedSet(got), sortedSet(want)))
			}
			continue
		}
		for _, form := range plurals {
			if _, ok := forms[form]; !ok {
				problems = append(problems, fmt.Sprintf("%s: no %q form (the language's plural rules use %s)", place, form, strings.Join(plurals, ", ")))
			}
		}
		for _, form := range slices.Sorted(maps.Keys(forms)) {
			if !slices.Contains(plurals, form) {
				problems = append(problems, fmt.Sprintf("%s: %q form is never used (the language's plural rules use %s)", place, form, strings.Join(plurals, ", ")))
				continue
			}
			got, err := placeholders(key, forms[form])
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s %s: %v", place, form, err))
				continue
			}
			for p := range got {
				if !want[p] {
					problems = append(problems, fmt.Sprintf("%s %s: placeholder .%s is not in English %s", place, form, p, sortedSet(want)))
				}
			}
			if want["Count"] && !got["Count"] {
				problems = append(problems, fmt.Sprintf("%s %s: no {{.Count}}, English shows the number", place, form))
			}
		}
	}
	return problems
}

// TestTranslationsMatchEnglish checks every translations/*.json against
// en.json: the same keys, the same placeholders, templates that parse,
// the plural forms the language needs; and one file per GUI language.
func TestTranslationsMatchEnglish(t *testing.T) {
	files, problems := readTranslations(translationsFS, "translations")
	for _, p := range problems {
		t.Error(p)
	}
	en, ok := files["en"]
	if !ok {
		t.Fatal("translations/en.json is missing")
	}
	for _, code := range slices.Sorted(maps.Keys(files)) {
		plurals, ok := pluralsOf[code]
		if !ok {
			t.Errorf("translations/%s.json is not a language of the GUI (languages in wizard.go, pluralsOf here)", code)
			continue
		}
		for _, p := range checkTranslation(en, files[code], code, plurals) {
			t.Error(p)
		}
	}
	for _, l := range languages {
		if _, ok := files[l.Code]; !ok {
			t.Errorf("the GUI offers %s but translations/%s.json does not exist", l.Name, l.Code)
		}
	}
}

// TestCheckTranslationFindsProblems: the checks themselves, on texts made
// to be wrong.
func TestCheckTranslationFindsProblems(t *testing.T) {
	en := map[string]any{"a": "Hello {{.Name}}", "b": "{{if .addr}}at {{.addr}}{{end}}",
		"c": map[string]any{"one": "{{.Count}} line", "other": "{{.Count}} lines"}, "d": "plain"}
	tests := []struct {
		name string
		tr   map[string]any
		want []string
	}{
		{"right", map[string]any{"a": "Hallo {{.Name}}", "b": "{{if .addr}}bei {{.addr}}{{end}}",
			"c": map[string]any{"one": "{{.Count}} vrstica", "two": "{{.Count}} vrstici", "few": "{{.Count}} vrstice", "other": "{{.Count}} vrstic"}, "d": "x"}, nil},
		{"missing and extra keys", map[string]any{"a": "Hallo {{.Name}}", "c": map[string]any{"one": "{{.Count}}", "two": "{{.Count}}", "few": "{{.Count}}", "other": "{{.Count}}"}, "x": "y", "w": "z"},
			[]string{"sl.json lacks 2 keys of en.json:\n\tb\n\td", "sl.json has 2 keys en.json lacks (renamed or removed?):\n\tw\n\tx"}},
		{"renamed placeholder", map[string]any{"a": "Hallo {{.Nom}}", "b": "{{if .addr}}{{.addr}}{{end}}", "c": map[string]any{"one": "{{.Count}}", "two": "{{.Count}}", "few": "{{.Count}}", "other": "{{.Count}}"}, "d": "x"},
			[]string{`sl.json "a": placeholders {Nom}, English has {Name}`}},
		{"dropped placeholder and broken template", map[string]any{"a": "Hallo", "b": "{{if .addr}}{{.addr}}", "c": map[string]any{"one": "{{.Count}}", "two": "{{.Count}}", "few": "{{.Count}}", "other": "{{.Count}}"}, "d": "{{.x}"},
			[]string{`sl.json "a": placeholders {}, English has {Name}`, `sl.json "b": template: b:1: unexpected EOF`, `sl.json "d": template: d:1: bad character U+007D '}'`}},
		{"plural forms", map[string]any{"a": "{{.Name}}", "b": "{{.addr}}", "c": map[string]any{"one": "ena", "many": "{{.Count}}", "other": "{{.Count}} {{.Lines}}"}, "d": map[string]any{"other": "x"}},
			[]string{`sl.json "c": no "two" form (the language's plural rules use one, two, few, other)`, `sl.json "c": no "few" form (the language's plural rules use one, two, few, other)`,
				`sl.json "c": "many" form is never used (the language's plural rules use one, two, few, other)`, `sl.json "c" one: no {{.Count}}, English shows the number`,
				`sl.json "c" other: placeholder .Lines is not in English {Count}`, `sl.json "d": plural forms in one file and plain text in the other`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkTranslation(en, tt.tr, "sl", pluralsOf["sl"])
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestReadTranslationsBadJSON: a file that is not JSON is named with the
// line and column of the fault; the other files are still read.
func TestReadTranslationsBadJSON(t *testing.T) {
	fsys := fstest.MapFS{
		"tr/en.json": {Data: []byte(`{"a": "x"}`)},
		"tr/de.json": {Data: []byte("{\n  \"a\": \"x\",\n  \"b\" \"y\"\n}")},
	}
	files, problems := readTranslations(fsys, "tr")
	want := []string{`tr/de.json is not valid JSON: line 3, column 8: invalid character '"' after object key`}
	if !slices.Equal(problems, want) {
		t.Errorf("problems %q, want %q", problems, want)
	}
	if _, ok := files["en"]; !ok || len(files) != 1 {
		t.Errorf("files read %v, want en only", slices.Sorted(maps.Keys(files)))
	}
}

// TestStartLanguage: the wizard's language step and the Settings' language
// menu start on Env.Language; without it on the OS's language when the
// GUI has it, else English. Starting there switches nothing.
func TestStartLanguage(t *testing.T) {
	tests := []struct {
		name, env, locale, want string
	}{
		{"env wins over the OS", "fr", "de-AT", "Français"},
		{"env Slovenian", "sl", "en-US", "Slovenščina"},
		{"empty: the OS's", "", "de-AT", "Deutsch"},
		{"empty: the OS's, lower case", "", "SL", "Slovenščina"},
		{"empty: an OS language the GUI lacks", "", "ja-JP", "English"},
		{"empty: no OS locale", "", "", "English"},
		{"unknown code: the OS's", "it", "fr-CH", "Français"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := systemLocale
			systemLocale = func() string { return tt.locale }
			t.Cleanup(func() { systemLocale = old })
			a := test.NewTempApp(t)
			win := a.NewWindow("language")
			var set []string
			env := Env{Window: win, Language: tt.env, SetLanguage: func(c string) { set = append(set, c) },
				Spawn: inline, Do: inline}

			w := NewWizard(env, func(bool) {})
			win.SetContent(w.Content())
			if got := w.langGroup.Selected; got != tt.want {
				t.Errorf("wizard language step starts on %q, want %q", got, tt.want)
			}
			s := NewSettings(env)
			if got := s.langSel.Selected; got != tt.want {
				t.Errorf("Settings language menu starts on %q, want %q", got, tt.want)
			}
			if len(set) != 0 {
				t.Errorf("starting switched the language to %q", set)
			}
			s.langSel.SetSelected("English")
			w.langGroup.SetSelected("English")
			if tt.want != "English" && strings.Join(set, ",") != "en,en" {
				t.Errorf("choosing English then set %q, want en from both", set)
			}
		})
	}
}
