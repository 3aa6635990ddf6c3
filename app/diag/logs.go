package diag

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// maxLogRead bounds what is read of one (decompressed) log file.
const maxLogRead = 512 << 20

// logFile is one log file found in DATA/logs, with the warning and error
// lines found while copying it.
type logFile struct {
	path    string
	name    string
	modTime time.Time
	current bool
	errs    []string
}

// findLogs lists the current log file and the rotated ones (plain or
// gzipped), newest first.
func findLogs(dir string) ([]logFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("logs folder: %w", err)
	}
	var out []logFile
	for _, e := range ents {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, "mconnect") || !(strings.HasSuffix(n, ".log") || strings.HasSuffix(n, ".log.gz")) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, logFile{path: filepath.Join(dir, n), name: n, modTime: fi.ModTime(), current: n == "mconnect.log"})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].current != out[j].current {
			return out[i].current
		}
		if !out[i].modTime.Equal(out[j].modTime) {
			return out[i].modTime.After(out[j].modTime)
		}
		return out[i].name > out[j].name
	})
	return out, nil
}

// logs copies the log files, newest first, redacted line by line, until
// MaxLogBytes are copied; the file that crosses the cap is cut to its
// newest lines.
func (b *bundle) logs() error {
	dir := filepath.Join(b.o.DataDir, "logs")
	files, err := findLogs(dir)
	if err != nil {
		b.logErr = err
		return err
	}
	if len(files) == 0 {
		b.logErr = fmt.Errorf("no log files in %s", dir)
		return b.logErr
	}
	left := b.o.MaxLogBytes
	var errs []error
	skipped := 0
	for i := range files {
		f := &files[i]
		if left <= 0 {
			skipped++
			continue
		}
		data, err := b.readLog(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
			if len(data) == 0 {
				continue
			}
		}
		if int64(len(data)) > left {
			cut := len(data) - int(left)
			if nl := bytes.IndexByte(data[cut:], '\n'); nl >= 0 {
				cut += nl + 1
			} else {
				cut = len(data)
			}
			data = data[cut:]
			b.cur.Note = "the oldest lines were left out (size cap)"
			left = 0
		} else {
			left -= int64(len(data))
		}
		if err := b.put("logs/"+strings.TrimSuffix(f.name, ".gz"), data); err != nil {
			return err
		}
	}
	if skipped > 0 {
		b.cur.Note = fmt.Sprintf("the oldest lines and %d older log files left out (size cap %d bytes)", skipped, b.o.MaxLogBytes)
	}
	b.logFiles = files
	return errors.Join(errs...)
}

// readLog reads one log file, decompressing a rotated .gz, redacting each
// line and collecting the warning and error lines into f.errs.
func (b *bundle) readLog(f *logFile) ([]byte, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var r io.Reader = fh
	if strings.HasSuffix(f.name, ".gz") {
		zr, err := gzip.NewReader(fh)
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	br := bufio.NewReader(io.LimitReader(r, maxLogRead))
	var out bytes.Buffer
	for {
		line, rerr := br.ReadBytes('\n')
		if len(line) > 0 {
			clean, problem := b.logLine(bytes.TrimRight(line, "\r\n"))
			out.Write(clean)
			out.WriteByte('\n')
			if problem != "" {
				f.errs = append(f.errs, problem)
			}
		}
		if rerr == io.EOF {
			return out.Bytes(), nil
		}
		if rerr != nil {
			return out.Bytes(), fmt.Errorf("read: %w", rerr)
		}
	}
}

// logLine redacts one log line. A JSON line is redacted field by field;
// any other line as text. For a warning or error line it also returns the
// line as errors.txt shows it.
func (b *bundle) logLine(line []byte) (clean []byte, problem string) {
	var m map[string]any
	if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &m) != nil {
		return []byte(b.red.text(string(line))), ""
	}
	m = b.red.value("", m).(map[string]any)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return []byte(b.red.text(string(line))), ""
	}
	clean = bytes.TrimRight(buf.Bytes(), "\n")
	switch lvl, _ := m["level"].(string); lvl {
	case "warning", "warn", "error", "fatal", "panic":
		problem = humanLine(m)
	}
	return clean, problem
}

// humanLine formats a decoded log line as "time level msg key=value ...".
func humanLine(m map[string]any) string {
	var s strings.Builder
	t, _ := m["time"].(string)
	lvl, _ := m["level"].(string)
	msg, _ := m["msg"].(string)
	fmt.Fprintf(&s, "%s %-7s %s", t, lvl, msg)
	for _, k := range sortedKeys(m) {
		switch k {
		case "time", "level", "msg":
			continue
		}
		v := m[k]
		var vs string
		if str, ok := v.(string); ok {
			vs = str
			if strings.ContainsAny(vs, " \t\"=") {
				vs = fmt.Sprintf("%q", vs)
			}
		} else {
			enc, _ := json.Marshal(v)
			vs = string(enc)
		}
		fmt.Fprintf(&s, " %s=%s", k, vs)
	}
	return oneLine(s.String())
}

// errorLines writes the newest warning and error lines of the copied logs,
// oldest first.
func (b *bundle) errorLines() error {
	if b.logFiles == nil {
		if b.logErr != nil {
			return fmt.Errorf("no logs to read: %w", b.logErr)
		}
		return errors.New("no logs to read")
	}
	var lines []string
	for i := len(b.logFiles) - 1; i >= 0; i-- {
		lines = append(lines, b.logFiles[i].errs...)
	}
	if len(lines) > MaxErrorLines {
		lines = lines[len(lines)-MaxErrorLines:]
	}
	var s strings.Builder
	fmt.Fprintf(&s, "# the newest %d warning and error lines of the logs, oldest first\n", len(lines))
	for _, l := range lines {
		s.WriteString(l)
		s.WriteByte('\n')
	}
	return b.put("errors.txt", []byte(s.String()))
}
