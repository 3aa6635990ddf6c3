package folder

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"unicode/utf8"
)

// maxNameBytes is the longest file name the common filesystems take (ext4,
// NTFS, APFS: 255 bytes or UTF-16 units; bytes are the stricter count).
const maxNameBytes = 255

// noteSuffix is appended to a rejected file's name for its note.
const noteSuffix = ".error"

// maxExtBytes: a longer "extension" is not one, and is shortened with the rest.
const maxExtBytes = 16

// storedName is the i-th candidate name for name in the archive or error
// folder: name itself, then name-1, name-2 ... before the extension. When
// the candidate plus reserve bytes (the note suffix) would exceed 255
// bytes, the stem is cut (at a character boundary) and "~" and 8 hex digits
// of the full name's SHA-256 are added before the number and extension, so
// that the name stays recognisable, keeps its extension, and two long names
// with a common beginning do not meet.
func storedName(name string, i, reserve int) string {
	ext := filepath.Ext(name)
	if len(ext) > maxExtBytes || len(ext) == len(name) {
		ext = ""
	}
	stem := name[:len(name)-len(ext)]
	tag := ""
	if i > 0 {
		tag = fmt.Sprintf("-%d", i)
	}
	limit := maxNameBytes - reserve
	if len(stem)+len(tag)+len(ext) <= limit {
		return stem + tag + ext
	}
	sum := sha256.Sum256([]byte(name))
	hash := "~" + hex.EncodeToString(sum[:4])
	keep := limit - len(tag) - len(ext) - len(hash)
	if keep < 0 {
		keep = 0
	}
	for keep > 0 && keep < len(stem) && !utf8.RuneStart(stem[keep]) {
		keep--
	}
	return stem[:keep] + hash + tag + ext
}

// moveUnique moves src into dir under name (shortened to leave reserve
// bytes for a note suffix), or a numbered variant when taken, never
// replacing a file already there.
func moveUnique(src, dir, name string, reserve int) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for i := 0; i < 10000; i++ {
		dst := filepath.Join(dir, storedName(name, i, reserve))
		if _, err := os.Lstat(dst); err == nil {
			continue
		}
		if _, err := os.Lstat(dst + noteSuffix); err == nil {
			continue
		}
		// No directory fsync here: if a crash undoes the move, the file is
		// handed over again and the receiver recognises the duplicate.
		if err := os.Rename(src, dst); err != nil {
			return "", err
		}
		return dst, nil
	}
	return "", fmt.Errorf("no free name for %s in %s", name, dir)
}
