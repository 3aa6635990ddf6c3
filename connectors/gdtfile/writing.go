package gdtfile

import (
	"bytes"
	"fmt"
	"strconv"
)

// stillBeingWritten tells from the content whether a GDT file looks like
// its writer is not done yet, and says why ("" when it looks complete):
//
//   - the record length (8100) promises more bytes than the file has,
//     counted as written or, where LF-only lines have prefixes counting
//     CR LF (their CRs were lost), with every line end as CR LF; a file
//     short of exactly its final line end is complete (real EHRs leave it
//     out, and no writer pauses there), or
//   - there is no 8100 and the last line has no line end.
//
// Content that does not begin like a GDT line (binary, text) is never waited
// for.
//
// A file that looks incomplete is waited for (folder.Incomplete, bounded by
// Options.IncompleteWait) instead of being rejected as truncated; once it
// has stayed unchanged that long it is parsed as it is. An 8100 smaller than
// the file (a wrong count, characters counted instead of bytes, two records
// in one file) is not a sign of a writer at work and is left to the parser.
func stillBeingWritten(data []byte) string {
	n := len(data)
	if n == 0 {
		return ""
	}
	bom := 0
	if bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		bom = 3
	}
	if !gdtStart(data[bom:]) {
		return "" // not GDT at all: nothing to wait for, the parser says why
	}
	noEOL := data[n-1] != '\n'
	declared, ok := recordLength(data[bom:])
	if !ok {
		if noEOL {
			return "the last line has no line end yet"
		}
		return ""
	}
	sizes := []int{n, n - bom}
	if lfLinesCountCRLF(data[bom:]) {
		// CRs lost in transfer: the writer counted them.
		crlf := n + bytes.Count(data, []byte("\n")) - bytes.Count(data, []byte("\r\n"))
		sizes = append(sizes, crlf, crlf-bom)
	}
	for _, size := range sizes {
		if declared <= size || (noEOL && declared == size+2) {
			return ""
		}
	}
	return fmt.Sprintf("8100 says %d bytes, the file has %d so far", declared, n)
}

// lfLinesCountCRLF reports whether a line ending with LF only has a length
// prefix counting CR LF (a file whose CRs were lost on the way), as opposed
// to a file whose prefixes count LF.
func lfLinesCountCRLF(data []byte) bool {
	for rest := data; len(rest) > 0; {
		j := bytes.IndexByte(rest, '\n')
		if j < 0 {
			return false
		}
		line := rest[:j+1]
		rest = rest[j+1:]
		if len(line) < 8 || line[len(line)-2] == '\r' {
			continue
		}
		if v, err := strconv.Atoi(string(line[:3])); err == nil {
			return v == len(line)+1 // else LF counted (or wrong): not CR LF
		}
	}
	return false
}

// gdtStart reports whether data begins like a GDT line: a 3-digit length
// and a 4-digit field ID (as far as there are bytes yet).
func gdtStart(data []byte) bool {
	for i := 0; i < 7 && i < len(data); i++ {
		if data[i] < '0' || data[i] > '9' {
			return false
		}
	}
	return len(data) > 0
}

// recordLength finds the 8100 value in the first lines (it is the second
// line in practice), reading lines by their line ends, not their prefixes.
func recordLength(data []byte) (int, bool) {
	rest := data
	for i := 0; i < 6 && len(rest) > 0; i++ {
		line := rest
		if j := bytes.IndexByte(rest, '\n'); j >= 0 {
			line, rest = rest[:j], rest[j+1:]
		} else {
			rest = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) < 8 || string(line[3:7]) != "8100" {
			continue
		}
		v, err := strconv.Atoi(string(bytes.TrimSpace(line[7:])))
		if err != nil || v < 0 {
			return 0, false
		}
		return v, true
	}
	return 0, false
}
