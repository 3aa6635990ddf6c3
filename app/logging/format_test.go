package logging

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

type action string

type stringer struct{}

func (stringer) String() string { return "a stringer, with spaces" }

type panicker struct{}

func (*panicker) Error() string { panic("boom") }

// formatCases are entries as the hub logs them, and some it should not.
var formatCases = []struct {
	name   string
	level  logrus.Level
	msg    string
	fields logrus.Fields
}{
	{"order accepted", logrus.InfoLevel, "order accepted", logrus.Fields{"connection": "birpis", "order": "ord_01J", "placer": "ORD-1",
		"patient": "P 1", "action": "new", "duplicate": false, "control_id": "exrawzm21185"}},
	{"no fields", logrus.WarnLevel, "hub stopped", nil},
	{"empty message", logrus.InfoLevel, "", logrus.Fields{"a": "b"}},
	{"quotes and unicode", logrus.ErrorLevel, `say "hi" <b>&</b>`, logrus.Fields{"name": "Čšž 日本", "path": `C:\data\x.gdt`,
		"newline": "a\nb", "empty": "", "bad utf-8": "\xff", "sep": "\u2028"}},
	{"numbers", logrus.DebugLevel, "n", logrus.Fields{"int": -3, "int64": int64(1) << 40, "uint": uint(7), "u64": uint64(9),
		"i32": int32(-1), "u32": uint32(5), "float": 1.5e-7, "f32": float32(0.25), "u8": uint8(200), "dur": 1500 * time.Millisecond}},
	{"errors and stringers", logrus.WarnLevel, "x", logrus.Fields{"error": errors.New("store: open: no such file"),
		"wrapped": fmt.Errorf("a: %w", io.EOF), "stringer": stringer{}, "nil": nil, "bytes": []byte("raw bytes")}},
	{"named types", logrus.InfoLevel, "x", logrus.Fields{"action": action("cancel"), "level2": logrus.WarnLevel}},
	{"clashing keys", logrus.InfoLevel, "x", logrus.Fields{"msg": "field msg", "level": 3, "time": "t", "logrus_error": "e"}},
	{"other types", logrus.InfoLevel, "x", logrus.Fields{"map": map[string]int{"a": 1}, "slice": []string{"a", "b"}, "time": time.Unix(0, 0)}},
	{"a panicking error", logrus.InfoLevel, "x", logrus.Fields{"err": (*panicker)(nil)}},
	{"a refused field", logrus.InfoLevel, "x", logrus.Fields{"f": func() {}, "ok": "yes"}},
}

// formatterPair is a line formatter and the logrus formatter whose bytes
// it writes, as New sets them up.
type formatterPair struct {
	name string
	fast lineFormatter
	slow logrus.Formatter
}

func formatterPairs() []formatterPair {
	return []formatterPair{
		{"json", &jsonLines{}, &logrus.JSONFormatter{}},
		{"text", newTextLines(), &logrus.TextFormatter{FullTimestamp: true, DisableColors: true}},
	}
}

// TestLinesMatchLogrus: the line formatters write what logrus's own
// formatters write, byte for byte, whatever the fields.
func TestLinesMatchLogrus(t *testing.T) {
	l := logrus.New()
	at := time.Date(2026, 12, 1, 20, 30, 5, 123456789, time.FixedZone("CET", 3600))
	for _, c := range formatCases {
		t.Run(c.name, func(t *testing.T) {
			e := l.WithFields(c.fields)
			e.Time, e.Level, e.Message = at, c.level, c.msg
			for _, f := range formatterPairs() {
				if c.name == "a panicking error" && f.name == "json" {
					continue // logrus's JSON formatter panics too
				}
				want, err := f.slow.Format(e)
				if err != nil {
					t.Fatal(err)
				}
				got, err := f.fast.appendLine([]byte("kept|"), e)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != "kept|"+string(want) {
					t.Errorf("%s:\n got %s\nwant kept|%s", f.name, got, want)
				}
			}
		})
	}
}

func FuzzLines(f *testing.F) {
	f.Add("order accepted", "placer", "ORD 1", int64(3), true)
	f.Add(`"<x>"`, "msg", "\xff\u2028", int64(-1), false)
	l := logrus.New()
	f.Fuzz(func(t *testing.T, msg, key, val string, n int64, b bool) {
		e := l.WithFields(logrus.Fields{key: val, key + "n": n, key + "b": b})
		e.Time, e.Level, e.Message = time.Unix(n%(1<<40), 0).UTC(), logrus.InfoLevel, msg
		for _, p := range formatterPairs() {
			want, err := p.slow.Format(e)
			if err != nil {
				return
			}
			got, err := p.fast.appendLine(nil, e)
			if err != nil || string(got) != string(want) {
				t.Fatalf("got %s (%v)\nwant %s", got, err, want)
			}
		}
	})
}

func BenchmarkLines(b *testing.B) {
	l := logrus.New()
	c := formatCases[0]
	e := l.WithFields(c.fields)
	e.Time, e.Level, e.Message = time.Now(), c.level, c.msg
	for _, f := range formatterPairs() {
		b.Run(f.name+"/logrus", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.slow.Format(e); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(f.name+"/lines", func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				buf, _ = f.fast.appendLine(buf[:0], e)
			}
		})
	}
}
