package view

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mesi/mconnect/ui/words"
)

// TestEnglishFileMatchesDefaults keeps translations/en.json and the English
// defaults in strings*.go identical, so that translators work from the same
// texts the application shows.
func TestEnglishFileMatchesDefaults(t *testing.T) {
	t.Parallel()
	raw, err := translationsFS.ReadFile("translations/en.json")
	if err != nil {
		t.Fatal(err)
	}
	var en map[string]any
	if err := json.Unmarshal(raw, &en); err != nil {
		t.Fatalf("en.json: %v", err)
	}

	fset := token.NewFileSet()
	files, err := filepath.Glob("strings*.go")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		inspectTexts(t, fset, f, en, used)
	}
	if len(used) < 20 {
		t.Fatalf("found only %d texts in strings.go; is the parser still looking at the right calls?", len(used))
	}
	for _, k := range slices.Sorted(maps.Keys(en)) {
		if !used[k] && !strings.HasPrefix(k, "health.") && !strings.HasPrefix(k, "outcome.") { // health texts: TestHealthTextsInEnglishFile
			t.Errorf("en.json key %q is not used in strings.go", k)
		}
	}
}

// inspectTexts records the lang.X / lang.XN calls of f in used and checks
// each against en.
func inspectTexts(t *testing.T, fset *token.FileSet, f *ast.File, en map[string]any, used map[string]bool) {
	t.Helper()
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || len(call.Args) < 2 {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "lang" || (sel.Sel.Name != "X" && sel.Sel.Name != "XN") {
			return true
		}
		key, fallback := constString(t, call.Args[0]), constString(t, call.Args[1])
		used[key] = true
		var want string
		switch v := en[key].(type) {
		case string:
			want = v
		case map[string]any:
			want, _ = v["other"].(string)
		default:
			t.Errorf("%s: key %q missing from en.json", fset.Position(call.Pos()), key)
			return true
		}
		if want != fallback {
			t.Errorf("%s: key %q: en.json has %q, code has %q", fset.Position(call.Pos()), key, want, fallback)
		}
		return true
	})
}

// constString evaluates a string literal or a + concatenation of literals.
func constString(t *testing.T, e ast.Expr) string {
	t.Helper()
	switch v := e.(type) {
	case *ast.BasicLit:
		s, err := strconv.Unquote(v.Value)
		if err != nil {
			t.Fatal(err)
		}
		return s
	case *ast.BinaryExpr:
		return constString(t, v.X) + constString(t, v.Y)
	}
	t.Fatalf("lang call argument %T is not a constant string: keep keys and defaults literal", e)
	return ""
}

func TestPluralTexts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		got, want string
	}{
		{txtProblems(1), "1 problem"},
		{txtProblems(2), "2 problems"},
		{txtComponentCount(0), "0 components"},
		{txtComponentCount(1), "1 component"},
		{txtComponentCount(14), "14 components"},
		{txtNoTray("no bus"), "No tray icon: no bus. Keep this window open (or minimised): closing it stops mCONNECT Hub, after asking."},
		{txtFirstRunCommands("/etc/m.json"), "mconnect config example --ehr <id> > /etc/m.json\nmconnect serve --config /etc/m.json"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestFormatTime(t *testing.T) {
	t.Parallel()
	loc := time.FixedZone("CET", 3600)
	now := time.Date(2026, 3, 4, 15, 30, 0, 0, loc)
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"zero", time.Time{}, "never"},
		{"today", time.Date(2026, 3, 4, 9, 5, 7, 0, loc), "09:05:07"},
		{"today in UTC shows local", time.Date(2026, 3, 4, 8, 5, 7, 0, time.UTC), "09:05:07"},
		{"yesterday", time.Date(2026, 3, 3, 23, 59, 0, 0, loc), "2026-03-03 23:59"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := formatTime(tc.at, now); got != tc.want {
				t.Errorf("formatTime = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestHealthTextsInEnglishFile keeps the health texts rendered from codes
// (ui/words) in translations/en.json, so that translators see them.
func TestHealthTextsInEnglishFile(t *testing.T) {
	raw, err := translationsFS.ReadFile("translations/en.json")
	if err != nil {
		t.Fatal(err)
	}
	var en map[string]any
	if err := json.Unmarshal(raw, &en); err != nil {
		t.Fatalf("en.json: %v", err)
	}
	all := words.HealthTexts()
	for k, v := range words.CheckTexts() {
		all[k] = v
	}
	for k, v := range all {
		if got, _ := en[k].(string); got != v {
			t.Errorf("en.json %q = %q, want %q", k, got, v)
		}
	}
}

// TestNoKeySharedWithSetup: Fyne's lang has one table for the process, so
// a key both this package and the setup screens define would show one of
// the two texts in both places.
func TestNoKeySharedWithSetup(t *testing.T) {
	var mine, theirs map[string]any
	raw, err := translationsFS.ReadFile("translations/en.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &mine); err != nil {
		t.Fatal(err)
	}
	raw, err = os.ReadFile(filepath.Join("..", "setup", "translations", "en.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &theirs); err != nil {
		t.Fatal(err)
	}
	for k := range mine {
		if _, ok := theirs[k]; ok {
			t.Errorf("key %q is defined by both ui/desktop/view and ui/desktop/setup", k)
		}
	}
}
