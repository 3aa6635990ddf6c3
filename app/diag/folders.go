package diag

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mesi/mconnect/connectors/connector"
	"github.com/mesi/mconnect/connectors/registry"
)

// folderState is one exchange folder as folders.json shows it.
type folderState struct {
	Role     string `json:"role"`
	Path     string `json:"path"`
	Exists   bool   `json:"exists"`
	Writable bool   `json:"writable"`
	// Pending counts the files waiting in the folder itself (orders not yet
	// read, or results the EHR has not yet picked up).
	Pending  int `json:"pending"`
	Archived int `json:"archived"`
	// Rejected counts the files in error/ (their .error notes not counted).
	Rejected int         `json:"rejected"`
	Notes    []errorNote `json:"errorNotes,omitempty"`
	Problems []string    `json:"problems,omitempty"`
}

// errorNote is one .error note of a rejected file.
type errorNote struct {
	Name     string    `json:"name"`
	Modified time.Time `json:"modified"`
	Text     string    `json:"text"`
}

// exchangeFolders lists the config's exchange folders with their role,
// each path once.
func (b *bundle) exchangeFolders() [][2]string {
	c := b.o.Config
	var out [][2]string
	seen := map[string]bool{}
	add := func(role, p string) {
		if p == "" {
			return
		}
		if k := filepath.Clean(p); !seen[k] {
			seen[k] = true
			out = append(out, [2]string{role, p})
		}
	}
	for _, e := range registry.Default.Endpoints(c) {
		if e.Kind == connector.EndpointFolder {
			add(e.Label, e.Value)
		}
	}
	return out
}

func (b *bundle) folders() error {
	if b.o.Config == nil {
		return fmt.Errorf("no config: the exchange folders are unknown")
	}
	out := []folderState{}
	for _, f := range b.exchangeFolders() {
		out = append(out, b.folder(f[0], f[1]))
	}
	if len(out) == 0 {
		b.cur.Note = "the connection uses no exchange folder"
	}
	return b.putJSON("folders.json", out)
}

// folder inspects one exchange folder. Problems are recorded in the
// result, not returned: one missing folder is a finding, not a failure.
func (b *bundle) folder(role, dir string) folderState {
	fs := folderState{Role: role, Path: dir}
	fi, err := os.Stat(dir)
	if err != nil {
		fs.Problems = append(fs.Problems, err.Error())
		return fs
	}
	if !fi.IsDir() {
		fs.Problems = append(fs.Problems, "not a folder")
		return fs
	}
	fs.Exists = true
	// The probe ends in .tmp: the folder watcher ignores such files.
	if f, err := os.CreateTemp(dir, ".mconnect-diag-*.tmp"); err != nil {
		fs.Problems = append(fs.Problems, fmt.Sprintf("not writable: %v", err))
	} else {
		fs.Writable = true
		f.Close()
		os.Remove(f.Name())
	}
	n, err := countFiles(dir, nil)
	if err != nil {
		fs.Problems = append(fs.Problems, err.Error())
	}
	fs.Pending = n
	if n, err := countFiles(filepath.Join(dir, "archive"), nil); err == nil {
		fs.Archived = n
	} else if !os.IsNotExist(err) {
		fs.Problems = append(fs.Problems, err.Error())
	}
	errDir := filepath.Join(dir, "error")
	var notes []os.DirEntry
	n, err = countFiles(errDir, func(e os.DirEntry) bool {
		if strings.HasSuffix(e.Name(), ".error") {
			notes = append(notes, e)
			return false
		}
		return true
	})
	if err != nil && !os.IsNotExist(err) {
		fs.Problems = append(fs.Problems, err.Error())
	}
	fs.Rejected = n
	fs.Notes = b.newestNotes(errDir, notes)
	return fs
}

// loadRejectedNames gives the redactor the names of the files in the
// exchange folders' error/ (the newest maxRejectedNames of each).
func (b *bundle) loadRejectedNames() int {
	if b.o.Config == nil {
		return 0
	}
	n := 0
	for _, f := range b.exchangeFolders() {
		ents, err := os.ReadDir(filepath.Join(f[1], "error"))
		if err != nil {
			continue
		}
		type named struct {
			name string
			mod  time.Time
		}
		var files []named
		for _, e := range ents {
			if fi, err := e.Info(); err == nil && e.Type().IsRegular() {
				files = append(files, named{e.Name(), fi.ModTime()})
			}
		}
		sort.Slice(files, func(i, j int) bool { return files[i].mod.After(files[j].mod) })
		if len(files) > maxRejectedNames {
			files = files[:maxRejectedNames]
		}
		for _, e := range files {
			b.red.addFile(e.name)
			n++
		}
	}
	return n
}

// countFiles counts the regular files in dir for which keep (nil: all)
// returns true.
func countFiles(dir string, keep func(os.DirEntry) bool) (int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".mconnect-diag-") {
			continue
		}
		if keep == nil || keep(e) {
			n++
		}
	}
	return n, nil
}

// newestNotes reads the newest MaxErrorNotes .error notes, redacted.
func (b *bundle) newestNotes(dir string, ents []os.DirEntry) []errorNote {
	var notes []errorNote
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			continue
		}
		notes = append(notes, errorNote{Name: e.Name(), Modified: fi.ModTime().UTC()})
	}
	sort.SliceStable(notes, func(i, j int) bool {
		if !notes[i].Modified.Equal(notes[j].Modified) {
			return notes[i].Modified.After(notes[j].Modified)
		}
		return notes[i].Name > notes[j].Name
	})
	if len(notes) > MaxErrorNotes {
		notes = notes[:MaxErrorNotes]
	}
	for i := range notes {
		notes[i].Text = b.readNote(filepath.Join(dir, notes[i].Name))
		notes[i].Name = b.red.fileName(i, notes[i].Name)
	}
	return notes
}

func (b *bundle) readNote(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read: %v)", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxNoteBytes+1))
	if err != nil {
		return fmt.Sprintf("(cannot read: %v)", err)
	}
	text := string(data)
	if len(data) > maxNoteBytes {
		text = string(data[:maxNoteBytes]) + "\n(cut)"
	}
	return b.red.text(text)
}
