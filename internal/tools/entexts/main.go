// Command entexts writes the English translation file of a GUI package
// from its code: every lang.X / lang.XN call's key and English default
// with literal arguments in the package's .go files, and, with -health, the
// health and check texts of package words. Plural texts keep the "one" form already
// in the file; a new one starts as the "other" form with the counted word
// made singular, to be checked by a person.
//
//	go run ./internal/tools/entexts -dir ui/desktop/view -health
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/mesi/mconnect/ui/words"
)

func main() {
	dir := flag.String("dir", "", "package folder with the lang calls")
	out := flag.String("out", "", "translation file (default DIR/translations/en.json)")
	health := flag.Bool("health", false, "add the health and check texts of package words")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "entexts: -dir is required")
		os.Exit(2)
	}
	if *out == "" {
		*out = filepath.Join(*dir, "translations", "en.json")
	}
	if err := run(*dir, *out, *health); err != nil {
		fmt.Fprintln(os.Stderr, "entexts:", err)
		os.Exit(1)
	}
}

func run(dir, out string, health bool) error {
	old := map[string]any{}
	if raw, err := os.ReadFile(out); err == nil {
		if err := json.Unmarshal(raw, &old); err != nil {
			return fmt.Errorf("%s: %w", out, err)
		}
	}
	texts := map[string]any{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "lang" || (sel.Sel.Name != "X" && sel.Sel.Name != "XN") {
				return true
			}
			key, err1 := constString(call.Args[0])
			def, err2 := constString(call.Args[1])
			if err1 != nil || err2 != nil {
				return true // a lookup passing keys through (texts from codes)
			}
			if sel.Sel.Name == "XN" {
				one := singular(def)
				if m, ok := old[key].(map[string]any); ok {
					if s, ok := m["one"].(string); ok {
						one = s
					}
				}
				texts[key] = map[string]string{"one": one, "other": def}
			} else {
				texts[key] = def
			}
			return true
		})
	}
	if health {
		for k, v := range words.HealthTexts() {
			texts[k] = v
		}
		for k, v := range words.CheckTexts() {
			texts[k] = v
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(texts); err != nil {
		return err
	}
	return os.WriteFile(out, b.Bytes(), 0o644)
}

var counted = regexp.MustCompile(`(\{\{\.Count\}\} [a-z]+)s\b`)

func singular(s string) string { return counted.ReplaceAllString(s, "$1") }

func constString(e ast.Expr) (string, error) {
	switch v := e.(type) {
	case *ast.BasicLit:
		return strconv.Unquote(v.Value)
	case *ast.BinaryExpr:
		x, err := constString(v.X)
		if err != nil {
			return "", err
		}
		y, err := constString(v.Y)
		return x + y, err
	}
	return "", fmt.Errorf("not a literal")
}
