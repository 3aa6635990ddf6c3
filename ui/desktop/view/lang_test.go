package view

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"log"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"text/template"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"

	"github.com/mesi/mconnect/app/domain"
)

// pluralForms are the keys a plural text may have (go-i18n's CLDR names).
var pluralForms = []string{"zero", "one", "two", "few", "many", "other"}

// translationFile is one translations/*.json file as read for the checks.
type translationFile struct {
	code  string
	texts map[string]any
}

// readTranslations reads every *.json of dir in fsys, failing the test
// for a file that is not a JSON object of texts.
func readTranslations(t *testing.T, fsys fs.FS, dir string) map[string]translationFile {
	t.Helper()
	names, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]translationFile{}
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		var texts map[string]any
		if err := json.Unmarshal(raw, &texts); err != nil {
			t.Errorf("%s is not valid JSON: %v", name, jsonPlace(raw, err))
			continue
		}
		code := strings.TrimSuffix(path.Base(name), ".json")
		files[code] = translationFile{code: code, texts: texts}
	}
	return files
}

// placeholderRE finds the template fields a text uses: {{.Count}},
// {{if .addr}}, {{.a}} {{.b}} …
var placeholderRE = regexp.MustCompile(`\.([A-Za-z_][A-Za-z0-9_]*)`)

// placeholders returns the set of fields the actions of a text template
// name, or an error when the text is not a valid template.
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
// the plural forms for an object, or an error for anything else.
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
			return nil, fmt.Errorf("plural text has no \"other\" form")
		}
		return forms, nil
	default:
		return nil, fmt.Errorf("is %T, not text or plural forms", v)
	}
}

func sortedSet(set map[string]bool) string {
	return "{" + strings.Join(slices.Sorted(maps.Keys(set)), ", ") + "}"
}

// checkTranslation compares one language's texts with English and returns
// the problems, one line each, missing keys first (listed together so the
// keys to add are quick to find).
func checkTranslation(en, tr translationFile, plurals []string) []string {
	var problems, missing, extra []string
	for _, key := range slices.Sorted(maps.Keys(en.texts)) {
		if _, ok := tr.texts[key]; !ok {
			missing = append(missing, key)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(tr.texts)) {
		if _, ok := en.texts[key]; !ok {
			extra = append(extra, key)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("%s.json lacks %d keys of en.json:\n\t%s", tr.code, len(missing), strings.Join(missing, "\n\t")))
	}
	if len(extra) > 0 {
		problems = append(problems, fmt.Sprintf("%s.json has %d keys en.json lacks (renamed or removed?):\n\t%s", tr.code, len(extra), strings.Join(extra, "\n\t")))
	}
	for _, key := range slices.Sorted(maps.Keys(tr.texts)) {
		enV, ok := en.texts[key]
		if !ok {
			continue
		}
		place := fmt.Sprintf("%s.json %q", tr.code, key)
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
		forms, err := textForms(tr.texts[key])
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", place, err))
			continue
		}
		_, enPlural := enV.(map[string]any)
		_, trPlural := tr.texts[key].(map[string]any)
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
// en.json: the same keys, the same placeholders, templates that parse, the
// plural forms the language needs.
func TestTranslationsMatchEnglish(t *testing.T) {
	t.Parallel()
	files := readTranslations(t, translationsFS, "translations")
	en, ok := files["en"]
	if !ok {
		t.Fatal("translations/en.json is missing")
	}
	byCode := map[string]Language{}
	for _, l := range Languages() {
		byCode[l.Code] = l
	}
	for _, code := range slices.Sorted(maps.Keys(files)) {
		l, ok := byCode[code]
		if !ok {
			t.Errorf("translations/%s.json has no entry in languages (strings_lang.go): add its own name and plural categories", code)
			continue
		}
		for _, p := range checkTranslation(en, files[code], l.plurals) {
			t.Error(p)
		}
	}
	for code := range byCode {
		if _, ok := files[code]; !ok {
			t.Errorf("languages (strings_lang.go) lists %q but translations/%s.json does not exist", code, code)
		}
	}
	if len(files) < 4 {
		t.Errorf("found %d translation files, want at least en, de, fr, sl", len(files))
	}
}

// TestCheckTranslationFindsProblems: the checks themselves, on texts made
// to be wrong.
func TestCheckTranslationFindsProblems(t *testing.T) {
	t.Parallel()
	en := translationFile{code: "en", texts: map[string]any{
		"a":     "Hello {{.Name}}",
		"b":     "Reachable{{if .addr}} ({{.addr}}){{end}}.",
		"c":     map[string]any{"one": "{{.Count}} line", "other": "{{.Count}} lines"},
		"d":     "plain",
		"e":     "Results: {{.Waiting}}",
		"extra": "only English",
	}}
	tests := []struct {
		name  string
		texts map[string]any
		want  []string // substrings, one per expected problem
	}{
		{"missing key listed", map[string]any{"a": "Hallo {{.Name}}", "b": "Erreichbar{{if .addr}} ({{.addr}}){{end}}.", "c": map[string]any{"one": "{{.Count}} Zeile", "other": "{{.Count}} Zeilen"}, "d": "x", "e": "Ergebnisse: {{.Waiting}}"},
			[]string{"lacks 1 keys of en.json:\n\textra"}},
		{"unknown key", map[string]any{"a": "Hallo {{.Name}}", "b": "{{if .addr}}{{.addr}}{{end}}", "c": map[string]any{"one": "{{.Count}}", "other": "{{.Count}}"}, "d": "x", "e": "{{.Waiting}}", "extra": "x", "zzz": "x"},
			[]string{"keys en.json lacks (renamed or removed?):\n\tzzz"}},
		{"renamed placeholder", map[string]any{"a": "Hallo {{.Nom}}", "b": "{{if .addr}}{{.addr}}{{end}}", "c": map[string]any{"one": "{{.Count}}", "other": "{{.Count}}"}, "d": "x", "e": "{{.Waiting}}", "extra": "x"},
			[]string{`"a": placeholders {Nom}, English has {Name}`}},
		{"dropped placeholder and broken template", map[string]any{"a": "Hallo", "b": "{{if .addr}}{{.addr}}", "c": map[string]any{"one": "{{.Count}}", "other": "{{.Count}}"}, "d": "x", "e": "{{.Waiting}", "extra": "x"},
			[]string{`"a": placeholders {}, English has {Name}`, `"b": template: b:1: unexpected EOF`, `"e": template: e:1: bad character`}},
		{"plural problems", map[string]any{"a": "{{.Name}}", "b": "{{if .addr}}{{.addr}}{{end}}", "c": map[string]any{"one": "eine Zeile", "two": "{{.Count}}", "other": "{{.Count}} {{.Lines}}"}, "d": map[string]any{"other": "x"}, "e": "{{.Waiting}}", "extra": "x"},
			[]string{`"c" one: no {{.Count}}`, `"c": "two" form is never used`, `"c" other: placeholder .Lines is not in English {Count}`, `"d": plural forms in one file and plain text`}},
		{"missing plural form", map[string]any{"a": "{{.Name}}", "b": "{{if .addr}}{{.addr}}{{end}}", "c": map[string]any{"other": "{{.Count}}"}, "d": "x", "e": "{{.Waiting}}", "extra": "x"},
			[]string{`"c": no "one" form`}},
		{"not text", map[string]any{"a": 3.0, "b": "{{if .addr}}{{.addr}}{{end}}", "c": map[string]any{"one": "{{.Count}}", "lots": "{{.Count}}"}, "d": "x", "e": "{{.Waiting}}", "extra": "x"},
			[]string{`"a": is float64, not text`, `"c": plural form "lots" is not one of`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := checkTranslation(en, translationFile{code: "xx", texts: tt.texts}, []string{"one", "other"})
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, w) }) {
					t.Errorf("no problem mentions %q; got:\n%s", w, strings.Join(got, "\n"))
				}
			}
		})
	}
}

// TestBrokenTranslationFileSkipped: a translation file that cannot be read
// is named in the error, with line and column, and leaves English, the other
// files and the chosen language working.
func TestBrokenTranslationFileSkipped(t *testing.T) {
	// Not parallel: the language is process-wide.
	t.Cleanup(func() { _ = SetLanguage("") })
	if err := SetLanguage("de"); err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"lang/ia.json":   {Data: []byte("{\n  \"test.lang.loaded\": \"ne\"\n  \"tab.worklist\": \"x\"\n}\n")},
		"lang/io.json":   {Data: []byte(`{"test.lang.loaded": "ŝargita"}`)},
		"lang/notes.txt": {Data: []byte("not a translation")},
	}
	err := loadTranslations(fsys, "lang")
	if err == nil {
		t.Fatal("loadTranslations accepted lang/ia.json, which is not JSON")
	}
	if want := "ui: translation lang/ia.json: line 3, column 3: invalid character"; !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "io.json") {
		t.Errorf("error = %q, want only %q…", err, want)
	}
	if got := lang.X("tab.worklist", "Worklist"); got != "Arbeitsliste" {
		t.Errorf("after loading, the chosen German is gone: %q", got)
	}
	setLocalizer("io") // the file after the broken one
	if got := lang.X("test.lang.loaded", "not loaded"); got != "ŝargita" {
		t.Errorf("io text after a broken file = %q, want %q", got, "ŝargita")
	}
	setLocalizer("en")
	if got := lang.X("tab.worklist", "?"); got != "Worklist" {
		t.Errorf("English after a broken file = %q, want Worklist", got)
	}

	if err := loadTranslations(fstest.MapFS{"lang/notes.txt": {}}, "lang"); err == nil || !strings.Contains(err.Error(), "no *.json files in lang") {
		t.Errorf("a folder without translations: %v, want an error saying so", err)
	}
}

// TestSetLanguage: the chosen language applies to the texts from now on,
// "" follows the system again, an unknown code is refused.
func TestSetLanguage(t *testing.T) {
	// Not parallel: the language is process-wide.
	t.Cleanup(func() { _ = SetLanguage("") }) // after the environment is restored
	before := lang.X("tab.worklist", "Worklist")
	followsEnv := runtime.GOOS != "windows" && runtime.GOOS != "darwin"
	if followsEnv {
		t.Setenv("LANGUAGE", "")
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LC_ALL", "fr_FR.UTF-8")
	}

	tests := []struct {
		code, key, english, want string
	}{
		{"de", "tab.worklist", "Worklist", "Arbeitsliste"},
		{"DE", "tab.worklist", "Worklist", "Arbeitsliste"},
		{"fr", "tab.worklist", "Worklist", "Liste de travail"},
		{"sl", "tab.worklist", "Worklist", "Delovni seznam"},
		{"en", "tab.worklist", "Worklist", "Worklist"},
		{"de", "Cancel", "Cancel", "Abbrechen"}, // Fyne's own texts follow too
	}
	for _, tt := range tests {
		if err := SetLanguage(tt.code); err != nil {
			t.Fatalf("SetLanguage(%q): %v", tt.code, err)
		}
		if got := lang.X(tt.key, tt.english); got != tt.want {
			t.Errorf("after SetLanguage(%q): %s = %q, want %q", tt.code, tt.key, got, tt.want)
		}
	}

	// Slovenian plural categories reach the Slovenian texts.
	if err := SetLanguage("sl"); err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]string{1: "1 tablica", 2: "2 tablici", 3: "3 tablice", 5: "5 tablic", 101: "101 tablica"} {
		if got := txtTabletCount(n); got != want {
			t.Errorf("sl: %d tablets = %q, want %q", n, got, want)
		}
	}

	err := SetLanguage("it")
	if err == nil || !strings.Contains(err.Error(), `"it"`) || !strings.Contains(err.Error(), "en, de, fr, sl") {
		t.Errorf(`SetLanguage("it") = %v, want an error naming "it" and the languages`, err)
	}
	if got := lang.X("tab.worklist", "Worklist"); got != "Delovni seznam" {
		t.Errorf("a refused code changed the language: %q", got)
	}

	if err := SetLanguage(""); err != nil {
		t.Fatal(err)
	}
	want := before
	if followsEnv {
		want = "Liste de travail" // LC_ALL above
	}
	if got := lang.X("tab.worklist", "Worklist"); got != want {
		t.Errorf(`after SetLanguage(""): %q, want the system's language: %q`, got, want)
	}
}

func TestLanguages(t *testing.T) {
	t.Parallel()
	got := Languages()
	var names []string
	for _, l := range got {
		names = append(names, l.Code+"="+l.Name)
	}
	if want := "en=English de=Deutsch fr=Français sl=Slovenščina"; strings.Join(names, " ") != want {
		t.Errorf("Languages() = %s, want %s", strings.Join(names, " "), want)
	}
	got[0].Name = "changed"
	if Languages()[0].Name != "English" {
		t.Error("Languages returns the package's own slice")
	}
}

// TestEveryTextRenders shows every text of every language through Fyne's
// lang, as the GUI does: plural texts for counts 0 to 120 and the millions
// (so the plural categories in languages match go-i18n's rules), the others
// with every placeholder set. Fyne logs a missing plural form or a failing
// template instead of failing, so the log is watched.
func TestEveryTextRenders(t *testing.T) {
	// Not parallel: the language and the standard logger are process-wide.
	t.Cleanup(func() { _ = SetLanguage("") })
	var logged bytes.Buffer
	out, flags := log.Writer(), log.Flags()
	log.SetOutput(&logged)
	log.SetFlags(0)
	t.Cleanup(func() { log.SetOutput(out); log.SetFlags(flags) })

	files := readTranslations(t, translationsFS, "translations")
	en := files["en"]
	counts := []int{1000000, 2000000, 1000001}
	for n := 0; n <= 120; n++ {
		counts = append(counts, n)
	}
	for _, l := range Languages() {
		if err := SetLanguage(l.Code); err != nil {
			t.Fatal(err)
		}
		for _, key := range slices.Sorted(maps.Keys(en.texts)) {
			if _, ok := files[l.Code].texts[key]; !ok {
				continue // TestTranslationsMatchEnglish lists it
			}
			forms, err := textForms(en.texts[key])
			if err != nil {
				t.Fatalf("en.json %q: %v", key, err)
			}
			names, err := placeholders(key, forms["other"])
			if err != nil {
				t.Fatalf("en.json %q: %v", key, err)
			}
			data := map[string]any{}
			for name := range names {
				data[name] = "«" + name + "»"
			}
			var shown []string
			if _, plural := en.texts[key].(map[string]any); plural {
				for _, n := range counts {
					data["Count"] = n
					got := lang.XN(key, forms["other"], n, data)
					if names["Count"] && !strings.Contains(got, strconv.Itoa(n)) {
						t.Errorf("%s %q for %d: %q does not show the number", l.Code, key, n, got)
					}
					shown = append(shown, got)
				}
			} else {
				shown = append(shown, lang.X(key, forms["other"], data))
			}
			for _, got := range shown {
				if strings.TrimSpace(got) == "" || strings.Contains(got, "<no value>") {
					t.Errorf("%s %q renders as %q", l.Code, key, got)
				}
			}
			if logged.Len() > 0 {
				t.Errorf("%s %q: Fyne logged:\n%s", l.Code, key, logged.String())
				logged.Reset()
			}
		}
	}
}

// FuzzJSONPlace: whatever a translation file holds, the place given for its
// JSON error is inside the file and the cause is kept.
func FuzzJSONPlace(f *testing.F) {
	for _, seed := range []string{`{"a": "b"}`, "{\n  \"a\": \"b\"\n  \"c\": 1\n}", `{"a": 3}`, `["x"]`, "", "{\"ä\":\n\"ö\"", "\n\n}"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var v map[string]string
		err := json.Unmarshal(raw, &v)
		if err == nil {
			return
		}
		got := jsonPlace(raw, err)
		if !strings.HasSuffix(got.Error(), err.Error()) {
			t.Fatalf("jsonPlace(%q) = %q lost the cause %q", raw, got, err)
		}
		var line, col int
		if _, scanErr := fmt.Sscanf(got.Error(), "line %d, column %d:", &line, &col); scanErr == nil {
			if line < 1 || line > 1+bytes.Count(raw, []byte("\n")) || col < 0 {
				t.Fatalf("jsonPlace(%q) = %q: place outside the file", raw, got)
			}
		}
	})
}

// TestEveryLanguageFitsTheWindow opens every tab of the Dashboard in every
// language: the longer German and French words must not make it wider than
// the window. With MCONNECT_RENDER_DIR set, each tab is saved as a PNG.
func TestEveryLanguageFitsTheWindow(t *testing.T) {
	// Not parallel: the language is process-wide.
	t.Cleanup(func() { _ = SetLanguage("") })
	for _, l := range Languages() {
		t.Run(l.Code, func(t *testing.T) {
			if err := SetLanguage(l.Code); err != nil {
				t.Fatal(err)
			}
			base := test.NewTempApp(t)
			s := Start(&trayApp{plainApp: plainApp{App: base}}, newFakeHub(fullInfo, health("store", domain.SeverityOK)),
				TraySupport{Host: true}, Options{Tray: true, Log: quietLog(), API: sampleAPI()})
			defer s.Stop()
			s.Window().Resize(DashboardSize)
			tabs, ok := s.Window().Content().(*container.AppTabs)
			if !ok {
				t.Fatalf("window content is %T, want tabs", s.Window().Content())
			}
			if got, want := tabs.Items[0].Text, lang.X("tab.worklist", "Worklist"); got != want || (l.Code != "en" && got == "Worklist") {
				t.Fatalf("first tab %q, want the %s word %q", got, l.Name, want)
			}
			for i, it := range tabs.Items {
				tabs.SelectIndex(i)
				if w := tabs.MinSize().Width; w > DashboardSize.Width {
					t.Errorf("tab %q needs %.0f wide, more than the window's %.0f", it.Text, w, DashboardSize.Width)
				}
				if dir := os.Getenv("MCONNECT_RENDER_DIR"); dir != "" {
					savePNG(t, filepath.Join(dir, fmt.Sprintf("dashboard-%s-%d.png", l.Code, i)), s.Window().Canvas().Capture())
				}
			}
		})
	}
}
