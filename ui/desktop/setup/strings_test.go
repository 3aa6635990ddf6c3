package setup

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// englishTexts collects every lang.X key with its English default from
// the package's sources, and the descriptor table's labels and hints.
func englishTexts(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok || len(c.Args) < 2 {
				return true
			}
			sel, ok := c.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "X" && sel.Sel.Name != "XN") {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "lang" {
				return true
			}
			k, ok1 := c.Args[0].(*ast.BasicLit)
			v, ok2 := c.Args[1].(*ast.BasicLit)
			if ok1 && ok2 {
				key, _ := strconv.Unquote(k.Value)
				def, _ := strconv.Unquote(v.Value)
				out[key] = def
			}
			return true
		})
	}
	add := func(fs []field) {
		for _, f := range fs {
			out["field."+f.label+".label"] = f.Label
			if f.Hint != "" {
				out["field."+f.label+".hint"] = f.Hint
			}
		}
	}
	for _, fs := range sectionFields {
		add(fs)
	}
	for _, fs := range coreFields {
		add(fs)
	}
	return out
}

// TestEnglishTexts keeps translations/en.json the same as the defaults in
// the code (-update rewrites it).
func TestEnglishTexts(t *testing.T) {
	want := englishTexts(t)
	path := filepath.Join("translations", "en.json")
	if *update {
		b, _ := json.MarshalIndent(want, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	var diff []string
	for k, v := range want {
		if got[k] != v {
			diff = append(diff, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diff = append(diff, k+" (not in the code)")
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Fatalf("en.json differs from the code for %d keys (run with -update): %s", len(diff), strings.Join(diff, ", "))
	}
	if len(want) < 100 {
		t.Fatalf("only %d texts found; the collector is broken", len(want))
	}
}
