package logging

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/mesi/mconnect/internal/jsonstr"
	"github.com/sirupsen/logrus"
)

// lineFormatter appends one entry's line to b.
type lineFormatter interface {
	appendLine(b []byte, e *logrus.Entry) ([]byte, error)
}

// The line formatters write exactly the bytes of logrus's JSONFormatter
// and TextFormatter (FullTimestamp, no colours), without the copy of the
// fields, the reflection of encoding/json and the buffer of every line:
// the hub writes a line per order received. An entry they cannot write
// so (a field of another type, a field named like a fixed key, a caller)
// goes to logrus's formatter. Tested byte for byte against it.

// jsonLines writes the log file's JSON lines.
type jsonLines struct{ slow logrus.JSONFormatter }

// textLines writes the readable lines for stderr.
type textLines struct{ slow logrus.TextFormatter }

func newTextLines() *textLines {
	return &textLines{slow: logrus.TextFormatter{FullTimestamp: true, DisableColors: true}}
}

// plainEntry reports whether e can be written by the fast paths: no
// caller, no field the fixed keys would rename, no field logrus refused
// (its hidden err), and at most 16 fields; keys returns them sorted.
func plainEntry(e *logrus.Entry, keys []string) ([]string, bool) {
	if e.Caller != nil || len(e.Data) > cap(keys) || entryErr(e) != "" {
		return nil, false
	}
	for k := range e.Data {
		switch k {
		case logrus.FieldKeyTime, logrus.FieldKeyMsg, logrus.FieldKeyLevel, logrus.FieldKeyLogrusError:
			return nil, false
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, true
}

// entryErr is the note logrus keeps of fields it refused (functions).
func entryErr(e *logrus.Entry) string {
	if entryErrField < 0 {
		return ""
	}
	return reflect.ValueOf(e).Elem().Field(entryErrField).String()
}

// entryErrField is the index of logrus.Entry's err (a string), -1 if it
// has none: looked up once, not by name for every line.
var entryErrField = func() int {
	f, ok := reflect.TypeFor[logrus.Entry]().FieldByName("err")
	if !ok || len(f.Index) != 1 || f.Type.Kind() != reflect.String {
		return -1
	}
	return f.Index[0]
}()

func (f *jsonLines) appendLine(b []byte, e *logrus.Entry) ([]byte, error) {
	var kb [16]string
	keys, ok := plainEntry(e, kb[:0])
	start := len(b)
	if ok {
		b = append(b, '{')
		fixed := [3]string{logrus.FieldKeyLevel, logrus.FieldKeyMsg, logrus.FieldKeyTime} // sorted
		fi, ki := 0, 0
		for n := 0; fi < len(fixed) || ki < len(keys); n++ {
			if n > 0 {
				b = append(b, ',')
			}
			if ki == len(keys) || (fi < len(fixed) && fixed[fi] < keys[ki]) {
				b = jsonstr.Append(b, fixed[fi])
				b = append(b, ':')
				switch fixed[fi] {
				case logrus.FieldKeyLevel:
					b = jsonstr.Append(b, e.Level.String())
				case logrus.FieldKeyMsg:
					b = jsonstr.Append(b, e.Message)
				default:
					var tb [40]byte
					b = jsonstr.Append(b, string(e.Time.AppendFormat(tb[:0], time.RFC3339)))
				}
				fi++
				continue
			}
			b = jsonstr.Append(b, keys[ki])
			b = append(b, ':')
			if b, ok = appendJSONValue(b, e.Data[keys[ki]]); !ok {
				break
			}
			ki++
		}
		if ok {
			return append(b, '}', '\n'), nil
		}
	}
	line, err := f.slow.Format(e)
	if err != nil {
		return b[:start], err
	}
	return append(b[:start], line...), nil
}

// appendJSONValue appends v as encoding/json writes it, for the types it
// knows (ok false for any other: a named type could have a marshaller).
func appendJSONValue(b []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return jsonstr.Append(b, v), true
	case error:
		return jsonstr.Append(b, v.Error()), true
	case bool:
		return strconv.AppendBool(b, v), true
	case int:
		return strconv.AppendInt(b, int64(v), 10), true
	case int64:
		return strconv.AppendInt(b, v, 10), true
	case int32:
		return strconv.AppendInt(b, int64(v), 10), true
	case uint:
		return strconv.AppendUint(b, uint64(v), 10), true
	case uint64:
		return strconv.AppendUint(b, v, 10), true
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), true
	}
	return b, false
}

func (f *textLines) appendLine(b []byte, e *logrus.Entry) (out []byte, err error) {
	var kb [16]string
	keys, ok := plainEntry(e, kb[:0])
	start := len(b)
	if ok {
		var tb [40]byte
		// time= is always first: the other keys are preceded by a space.
		b = appendTextQuoted(append(b, "time="...), string(e.Time.AppendFormat(tb[:0], time.RFC3339)))
		b = appendTextString(b, "level", e.Level.String())
		if e.Message != "" {
			b = appendTextString(b, "msg", e.Message)
		}
		for _, k := range keys {
			if b, ok = appendTextValue(b, k, e.Data[k]); !ok {
				break
			}
		}
		if ok {
			return append(b, '\n'), nil
		}
	}
	line, err := f.slow.Format(e)
	if err != nil {
		return b[:start], err
	}
	return append(b[:start], line...), nil
}

func appendTextKey(b []byte, k string) []byte {
	b = append(b, ' ')
	b = append(b, k...)
	return append(b, '=')
}

func appendTextString(b []byte, k, s string) []byte {
	return appendTextQuoted(appendTextKey(b, k), s)
}

// appendTextQuoted appends s, quoted as Go quotes when it has a byte
// outside logrus's list.
func appendTextQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !safeTextByte(s[i]) {
			return strconv.AppendQuote(b, s)
		}
	}
	return append(b, s...)
}

// appendTextValue appends k=v as logrus's TextFormatter does; ok false
// when v's method panicked (logrus then writes a note of the panic).
func appendTextValue(b []byte, k string, v any) (out []byte, ok bool) {
	defer func() {
		if recover() != nil {
			out, ok = b, false
		}
	}()
	switch v := v.(type) {
	case string:
		return appendTextString(b, k, v), true
	case []byte:
		return appendTextString(b, k, string(v)), true
	case bool:
		return append(appendTextKey(b, k), strconv.FormatBool(v)...), true
	case error:
		return appendTextString(b, k, v.Error()), true
	case fmt.Stringer:
		return appendTextString(b, k, v.String()), true
	case int:
		return strconv.AppendInt(appendTextKey(b, k), int64(v), 10), true
	case int64:
		return strconv.AppendInt(appendTextKey(b, k), v, 10), true
	case int32:
		return strconv.AppendInt(appendTextKey(b, k), int64(v), 10), true
	case uint:
		return strconv.AppendUint(appendTextKey(b, k), uint64(v), 10), true
	case uint64:
		return strconv.AppendUint(appendTextKey(b, k), v, 10), true
	case float64:
		return strconv.AppendFloat(appendTextKey(b, k), v, 'g', -1, 64), true
	case int8, int16, uint8, uint16, uint32, uintptr, float32:
		return b, false // rare: logrus's own formatter
	}
	return appendTextString(b, k, fmt.Sprint(v)), true
}

// safeTextByte is logrus's list of bytes written without quotes.
func safeTextByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '/', '@', '^', '+':
		return true
	}
	return false
}

// discardFormatter formats nothing: the logger's own output is discarded
// (the hooks write the lines), so logrus need not format each entry for it.
type discardFormatter struct{}

func (discardFormatter) Format(*logrus.Entry) ([]byte, error) { return nil, nil }
