// Command tempdir-rewrite puts testfs.TempDir(t) in place of t.TempDir() in
// the test files of the packages given, adding the import, so that their
// tests pass under Wine (internal/testfs, docs/WINDOWS.md). It is
// idempotent; scripts/wine-tempdir.sh runs it over the packages that
// scripts/wine.sh runs.
//
//	go run ./internal/tools/tempdir-rewrite [-check] DIR...
//
// With -check it changes nothing and fails when a file still calls
// t.TempDir().
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const importPath = "github.com/mesi/mconnect/internal/testfs"

func main() {
	check := flag.Bool("check", false, "report files that still call TempDir on a test; change nothing")
	flag.Parse()
	n, err := run(flag.Args(), *check, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tempdir-rewrite:", err)
		os.Exit(1)
	}
	if *check && n > 0 {
		fmt.Fprintf(os.Stderr, "tempdir-rewrite: %d file(s) still call TempDir on a test: run scripts/wine-tempdir.sh\n", n)
		os.Exit(1)
	}
}

// run rewrites (or with check, lists) the test files of dirs and returns
// how many needed it.
func run(dirs []string, check bool, out io.Writer) (int, error) {
	count := 0
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
		if err != nil {
			return count, err
		}
		for _, path := range files {
			src, err := os.ReadFile(path)
			if err != nil {
				return count, err
			}
			res, changed, err := rewrite(path, src)
			if err != nil {
				return count, err
			}
			if !changed {
				continue
			}
			count++
			fmt.Fprintln(out, path)
			if check {
				continue
			}
			if err := os.WriteFile(path, res, 0o644); err != nil {
				return count, err
			}
		}
	}
	return count, nil
}

// testTypes are the parameter types whose TempDir is replaced.
var testTypes = map[string]bool{"*testing.T": true, "*testing.B": true, "*testing.F": true, "testing.TB": true}

// rewrite returns src with every X.TempDir() on a test parameter X
// replaced by testfs.TempDir(X) and the import added.
func rewrite(path string, src []byte) ([]byte, bool, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		return nil, false, err
	}
	if f.Name.Name == "testfs" {
		return src, false, nil
	}
	names := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if ft, ok := n.(*ast.FuncType); ok && ft.Params != nil {
			for _, p := range ft.Params.List {
				if testTypes[exprString(p.Type)] {
					for _, id := range p.Names {
						names[id.Name] = true
					}
				}
			}
		}
		return true
	})
	type edit struct {
		start, end int
		text       string
	}
	var edits []edit
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) != 0 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "TempDir" {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok || !names[id.Name] {
			return true
		}
		edits = append(edits, edit{fset.Position(call.Pos()).Offset, fset.Position(call.End()).Offset, "testfs.TempDir(" + id.Name + ")"})
		return true
	})
	if len(edits) == 0 {
		return src, false, nil
	}
	if !hasImport(f) {
		edits = append(edits, importEdit(fset, f, src))
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].start > edits[j].start })
	out := append([]byte(nil), src...)
	for _, e := range edits {
		out = append(out[:e.start:e.start], append([]byte(e.text), out[e.end:]...)...)
	}
	formatted, err := format.Source(out)
	if err != nil {
		return nil, false, fmt.Errorf("%s: after the rewrite: %w", path, err)
	}
	return formatted, true, nil
}

func hasImport(f *ast.File) bool {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == importPath {
			return true
		}
	}
	return false
}

// importEdit adds the import as the last line of the first import block
// (the module's own imports), or as a block after the package clause.
func importEdit(fset *token.FileSet, f *ast.File, src []byte) (e struct {
	start, end int
	text       string
}) {
	line := strconv.Quote(importPath)
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		if gd.Rparen.IsValid() {
			off := fset.Position(gd.Rparen).Offset
			// Own group unless the block's last import is already of this module.
			last, _ := strconv.Unquote(gd.Specs[len(gd.Specs)-1].(*ast.ImportSpec).Path.Value)
			text := "\n\t" + line + "\n"
			if strings.HasPrefix(last, "github.com/mesi/mconnect/") {
				text = "\t" + line + "\n"
			}
			if !bytes.HasSuffix(bytes.TrimRight(src[:off], " \t"), []byte("\n")) {
				text = "\n" + text
			}
			e.start, e.end, e.text = off, off, text
			return e
		}
		// import "x" on one line: make it a block.
		start, end := fset.Position(gd.Pos()).Offset, fset.Position(gd.End()).Offset
		spec := string(src[fset.Position(gd.Specs[0].Pos()).Offset:end])
		e.start, e.end, e.text = start, end, "import (\n\t"+spec+"\n\n\t"+line+"\n)"
		return e
	}
	off := fset.Position(f.Name.End()).Offset
	e.start, e.end, e.text = off, off, "\n\nimport "+line+"\n"
	return e
}

func exprString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.StarExpr:
		return "*" + exprString(x.X)
	case *ast.SelectorExpr:
		return exprString(x.X) + "." + x.Sel.Name
	case *ast.Ident:
		return x.Name
	}
	return ""
}
