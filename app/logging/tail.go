package logging

import (
	"bufio"
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

// Line is one entry of the log file.
type Line struct {
	Time    time.Time         `json:"time"`
	Level   string            `json:"level"`
	Message string            `json:"msg"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// TailQuery filters the log's end.
type TailQuery struct {
	// Level is the lowest level shown (debug, info, warn, error; empty: info).
	Level string
	// Text keeps lines whose message or fields contain it (any case).
	Text string
	// Limit is how many of the newest matching lines (default 200, at most 5000).
	Limit int
}

// tailBytes is how much of the file's end is read.
const tailBytes = 4 << 20

var levels = map[string]int{"trace": 0, "debug": 1, "info": 2, "warning": 3, "warn": 3, "error": 4, "fatal": 5, "panic": 6}

// Tail returns the newest lines of dir/mconnect.log that match q, oldest
// first. A missing log is no lines.
func Tail(dir string, q TailQuery) ([]Line, error) {
	min, ok := levels[strings.ToLower(q.Level)]
	if q.Level == "" {
		min, ok = levels["info"], true
	}
	if !ok {
		return nil, fmt.Errorf("log level %q is not one of debug, info, warn, error", q.Level)
	}
	if q.Limit <= 0 {
		q.Limit = 200
	}
	if q.Limit > 5000 {
		q.Limit = 5000
	}
	f, err := os.Open(filepath.Join(dir, FileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > tailBytes {
		if _, err := f.Seek(-tailBytes, io.SeekEnd); err != nil {
			return nil, fmt.Errorf("log: %w", err)
		}
	}
	text := strings.ToLower(q.Text)
	var out []Line
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue // the cut first line, or not JSON
		}
		l := Line{Fields: map[string]string{}}
		for k, v := range m {
			s := fmt.Sprint(v)
			switch k {
			case "time":
				l.Time, _ = time.Parse(time.RFC3339, s)
			case "level":
				l.Level = s
			case "msg":
				l.Message = s
			default:
				l.Fields[k] = s
			}
		}
		if levels[l.Level] < min {
			continue
		}
		if text != "" && !strings.Contains(strings.ToLower(sc.Text()), text) {
			continue
		}
		if len(l.Fields) == 0 {
			l.Fields = nil
		}
		out = append(out, l)
		if len(out) > 2*q.Limit {
			out = append(out[:0:0], out[len(out)-q.Limit:]...)
		}
	}
	if len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}
