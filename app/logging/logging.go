// Package logging sets up the hub's logger (logrus): JSON lines to a
// rotating file in the data folder (lumberjack) for support, readable text
// to stderr for people.
//
// A hook scrubs every field whose name suggests a secret (token, password,
// secret, code, authorization ...) before anything is written. Patient
// names and birth dates are never logged at info level by the hub's code;
// order and patient IDs are.
package logging

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"
	"gopkg.in/natefinch/lumberjack.v2"
)

// FileName is the log file's name inside the logs folder.
const FileName = "mconnect.log"

// Options configure New.
type Options struct {
	Dir        string // the logs folder; empty: no file
	Level      string // debug, info, warn, error
	MaxSizeMB  int
	MaxBackups int
	Stderr     io.Writer // nil: os.Stderr; io.Discard for none
}

// Logger is the hub's logger and the file it writes, closed by Close.
type Logger struct {
	*logrus.Logger
	file *lumberjack.Logger
	out  []*lineBuffer // flushed and stopped by Close
}

// New returns a logger writing JSON to Dir/mconnect.log (rotated) and text to Stderr.
func New(o Options) (*Logger, error) {
	lvl, err := logrus.ParseLevel(o.Level)
	if err != nil {
		lvl = logrus.InfoLevel
	}
	l := logrus.New()
	l.SetLevel(lvl)
	stderr := o.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	l.SetOutput(io.Discard)
	l.SetFormatter(discardFormatter{})
	l.AddHook(redactHook{})
	errBuf := newLineBuffer(stderr)
	l.AddHook(&writerHook{w: errBuf, f: newTextLines()})
	out := &Logger{Logger: l, out: []*lineBuffer{errBuf}}
	if o.Dir != "" {
		if err := os.MkdirAll(o.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("logging: create %s: %w", o.Dir, err)
		}
		probe := filepath.Join(o.Dir, ".write-test")
		if err := os.WriteFile(probe, nil, 0o600); err != nil {
			return nil, fmt.Errorf("logging: the logs folder %s is not writable: %w", o.Dir, err)
		}
		os.Remove(probe)
		out.file = &lumberjack.Logger{
			Filename:   filepath.Join(o.Dir, FileName),
			MaxSize:    max(o.MaxSizeMB, 1),
			MaxBackups: max(o.MaxBackups, 1),
			Compress:   true,
		}
		fileBuf := newLineBuffer(out.file)
		out.out = append(out.out, fileBuf)
		l.AddHook(&writerHook{w: fileBuf, f: &jsonLines{}})
	}
	return out, nil
}

// Path returns the log file's path ("" without a file).
func (l *Logger) Path() string {
	if l.file == nil {
		return ""
	}
	return l.file.Filename
}

// Close flushes and closes the log file.
func (l *Logger) Close() error {
	for _, b := range l.out {
		b.close()
	}
	if l.file == nil {
		return nil
	}
	return l.file.Close()
}

type writerHook struct {
	w *lineBuffer
	f lineFormatter
}

// lines are the buffers lines are formatted in, kept for the next line.
var lines = sync.Pool{New: func() any { return new([]byte) }}

func (h *writerHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h *writerHook) Fire(e *logrus.Entry) error {
	bp := lines.Get().(*[]byte)
	b, err := h.f.appendLine((*bp)[:0], e)
	if err == nil {
		// A warning or worse is written at once (the lines before it too);
		// the rest within lineFlushEvery.
		err = h.w.write(b, e.Level <= logrus.WarnLevel)
	}
	if cap(b) <= 64<<10 {
		*bp = b[:0]
		lines.Put(bp)
	}
	return err
}

// sensitive reports whether a field name suggests a secret.
func sensitive(key string) bool {
	if v, ok := sensitiveKeys.Load(key); ok {
		return v.(bool)
	}
	v := isSensitive(key)
	sensitiveKeys.Store(key, v)
	return v
}

// sensitiveKeys remembers sensitive's answer for each field name seen (a
// program's field names are a small set; every line asks for each).
var sensitiveKeys sync.Map

func isSensitive(key string) bool {
	k := strings.ToLower(key)
	for _, s := range []string{"token", "password", "passwd", "secret", "authorization", "apikey", "api_key", "pairingcode", "code_plain"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// redactHook replaces the values of sensitive fields before any writer sees them.
type redactHook struct{}

func (redactHook) Levels() []logrus.Level { return logrus.AllLevels }

func (redactHook) Fire(e *logrus.Entry) error {
	var redacted logrus.Fields
	for k := range e.Data {
		if sensitive(k) {
			if redacted == nil {
				redacted = make(logrus.Fields, len(e.Data))
				for k2, v2 := range e.Data {
					redacted[k2] = v2
				}
			}
			redacted[k] = "[redacted]"
		}
	}
	if redacted != nil {
		e.Data = redacted
	}
	return nil
}
