package main

import (
	"strings"
	"testing"
)

func TestRewrite(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"own group", `package p

import (
	"testing"

	"github.com/mesi/mconnect/app/store"
)

func TestX(t *testing.T) { _ = t.TempDir(); _ = store.Open }
func BenchmarkX(b *testing.B) { dir := b.TempDir(); _ = dir }
`, `package p

import (
	"testing"

	"github.com/mesi/mconnect/app/store"
	"github.com/mesi/mconnect/internal/testfs"
)

func TestX(t *testing.T)      { _ = testfs.TempDir(t); _ = store.Open }
func BenchmarkX(b *testing.B) { dir := testfs.TempDir(b); _ = dir }
`},
		{"standard library only", `package p

import (
	"os"
	"testing"
)

func helper(tb testing.TB) string { return tb.TempDir() + os.TempDir() }
`, `package p

import (
	"os"
	"testing"

	"github.com/mesi/mconnect/internal/testfs"
)

func helper(tb testing.TB) string { return testfs.TempDir(tb) + os.TempDir() }
`},
		{"one import", `package p

import "testing"

func TestX(t *testing.T) {
	t.Run("a", func(t *testing.T) { _ = t.TempDir() })
}
`, `package p

import (
	"testing"

	"github.com/mesi/mconnect/internal/testfs"
)

func TestX(t *testing.T) {
	t.Run("a", func(t *testing.T) { _ = testfs.TempDir(t) })
}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := rewrite("x_test.go", []byte(tt.src))
			if err != nil || !changed {
				t.Fatalf("rewrite: changed %v, %v", changed, err)
			}
			if string(got) != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
			again, changed, err := rewrite("x_test.go", got)
			if err != nil || changed || string(again) != string(got) {
				t.Fatalf("second run changed the file (%v, %v)", changed, err)
			}
		})
	}
}

func TestRewriteLeavesOtherTempDirs(t *testing.T) {
	src := `package p

import "testing"

type env struct{}

func (env) TempDir() string { return "" }

func TestX(t *testing.T) { var e env; _ = e.TempDir() }
`
	got, changed, err := rewrite("x_test.go", []byte(src))
	if err != nil || changed || string(got) != src {
		t.Fatalf("changed %v err %v:\n%s", changed, err, got)
	}
	if !strings.Contains(src, "e.TempDir()") {
		t.Fatal("bad fixture")
	}
}
