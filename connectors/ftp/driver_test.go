package ftp

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesi/mconnect/internal/testfs"
)

// TestSymlinkedFolderRefused: a folder inside the root that is a symbolic
// link to a folder outside must not be usable by any command.
func TestSymlinkedFolderRefused(t *testing.T) {
	t.Parallel()
	e := startServer(t, nil)
	outside := filepath.Join(filepath.Dir(e.root), "outside")
	os.MkdirAll(filepath.Join(outside, "sub"), 0o755)
	os.WriteFile(filepath.Join(outside, "secret.gdt"), []byte("secret"), 0o644)
	os.WriteFile(filepath.Join(outside, "sub", "deep.gdt"), []byte("deep"), 0o644)
	if err := os.Symlink(outside, filepath.Join(e.root, "linkdir")); err != nil {
		t.Fatal(err)
	}
	// A link inside the root to a folder inside the root stays usable.
	os.MkdirAll(filepath.Join(e.root, "real"), 0o755)
	os.Symlink(filepath.Join(e.root, "real"), filepath.Join(e.root, "alias"))
	// A real folder inside the root with a link out of it.
	os.Symlink(outside, filepath.Join(e.root, "real", "up"))
	// A dangling link whose target would be created outside.
	os.Symlink(filepath.Join(outside, "new.gdt"), filepath.Join(e.root, "dangling.gdt"))
	os.WriteFile(filepath.Join(e.root, "mine.gdt"), []byte("mine"), 0o644)

	before := snapshot(t, outside)
	c := dial(t, e.addr)
	for _, p := range []string{"linkdir/x.gdt", "/linkdir/x.gdt", "linkdir/sub/x.gdt", "alias/up/x.gdt", "real/up/x.gdt", "dangling.gdt"} {
		if err := c.Stor(p, strings.NewReader("evil")); err == nil {
			t.Errorf("STOR %s accepted", p)
		}
	}
	for _, p := range []string{"linkdir/secret.gdt", "linkdir/sub/deep.gdt", "real/up/secret.gdt", "alias/up/secret.gdt"} {
		if r, err := c.Retr(p); err == nil {
			b, _ := io.ReadAll(r)
			r.Close()
			t.Errorf("RETR %s gave %q", p, b)
		}
		if _, err := c.FileSize(p); err == nil {
			t.Errorf("SIZE %s answered", p)
		}
		if err := c.Delete(p); err == nil {
			t.Errorf("DELE %s accepted", p)
		}
		if err := c.Rename(p, "stolen.gdt"); err == nil {
			t.Errorf("RNFR %s accepted", p)
		}
	}
	if err := c.Rename("mine.gdt", "linkdir/mine.gdt"); err == nil {
		t.Error("RNTO into the linked folder accepted")
	}
	for _, p := range []string{"linkdir", "linkdir/sub", "real/up"} {
		if entries, err := c.List(p); err == nil && len(entries) > 0 {
			t.Errorf("LIST %s listed %d entries", p, len(entries))
		}
		if names, err := c.NameList(p); err == nil && len(names) > 0 {
			t.Errorf("NLST %s listed %v", p, names)
		}
		if err := c.ChangeDir(p); err == nil {
			t.Errorf("CWD %s accepted", p)
			c.ChangeDir("/")
		}
		if err := c.MakeDir(p + "/new"); err == nil {
			t.Errorf("MKD %s/new accepted", p)
		}
	}
	// The listing of the root does not show links that lead outside.
	names, err := c.NameList("/")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(names, ",")
	if strings.Contains(got, "linkdir") || strings.Contains(got, "dangling") {
		t.Errorf("root listing %v shows links that lead outside", names)
	}
	if !strings.Contains(got, "alias") {
		t.Errorf("root listing %v lacks the link that stays inside", names)
	}
	if after := snapshot(t, outside); after != before {
		t.Errorf("outside folder changed:\nbefore %s\nafter  %s", before, after)
	}
	if _, err := os.Stat(filepath.Join(e.root, "mine.gdt")); err != nil {
		t.Error("mine.gdt moved")
	}
	// Through the inside link the upload works and lands in the real folder.
	if err := c.Stor("alias/ok.gdt", strings.NewReader("ok")); err != nil {
		t.Fatalf("STOR through an inside link: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(e.root, "real", "ok.gdt")); string(b) != "ok" {
		t.Errorf("real/ok.gdt = %q", b)
	}
}

// snapshot lists a folder tree with sizes, to see it unchanged.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b.WriteString(rel)
		if !fi.IsDir() {
			b.WriteString("=")
			data, _ := os.ReadFile(p)
			b.Write(data)
		}
		b.WriteString(";")
		return nil
	})
	return b.String()
}

func TestResolveFollowsEveryComponent(t *testing.T) {
	t.Parallel()
	base := testfs.TempDir(t)
	root := filepath.Join(base, "in")
	outside := filepath.Join(base, "elsewhere")
	os.MkdirAll(filepath.Join(root, "a", "b"), 0o755)
	os.MkdirAll(outside, 0o755)
	os.Symlink(outside, filepath.Join(root, "a", "out"))
	os.Symlink(filepath.Join(root, "a"), filepath.Join(root, "toa"))
	os.Symlink("../..", filepath.Join(root, "a", "b", "rel"))
	d := &driver{s: &Server{opts: Options{Root: root}}}
	for _, tc := range []struct {
		path string
		want string // "" = refused
	}{
		{"a/b/new.gdt", filepath.Join(root, "a", "b", "new.gdt")},
		{"toa/b/new.gdt", filepath.Join(root, "toa", "b", "new.gdt")},
		{"a/out", ""},
		{"a/out/new.gdt", ""},
		{"toa/out/x/y.gdt", ""},
		{"a/b/rel", filepath.Join(root, "a", "b", "rel")}, // ../.. from a/b is the root itself
		{"a/b/rel/in/x", filepath.Join(root, "a", "b", "rel", "in", "x")},
		{"missing/deeper/x.gdt", filepath.Join(root, "missing", "deeper", "x.gdt")},
	} {
		got, err := d.resolve(tc.path)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("resolve(%q) = %s, want refused", tc.path, got)
		case tc.want != "" && (err != nil || got != tc.want):
			t.Errorf("resolve(%q) = %q, %v; want %s", tc.path, got, err, tc.want)
		}
	}
}
