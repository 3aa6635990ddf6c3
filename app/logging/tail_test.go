package logging

import (
	"io"
	"strings"
	"testing"
)

func TestTail(t *testing.T) {
	dir := t.TempDir()
	l, err := New(Options{Dir: dir, Level: "debug", MaxSizeMB: 1, MaxBackups: 1, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	l.WithField("order", "ord_1").Info("order accepted")
	l.Debug("details for support")
	l.WithField("connection", "birpis").Warn("EHR not reached")
	l.Error("database cannot be written")
	for i := 0; i < 300; i++ {
		l.WithField("n", i).Info("tick")
	}
	l.Close()

	tests := []struct {
		name  string
		q     TailQuery
		want  []string // messages, in order
		count int
	}{
		{"warnings and errors", TailQuery{Level: "warn"}, []string{"EHR not reached", "database cannot be written"}, 2},
		{"text in a field", TailQuery{Level: "debug", Text: "BIRPIS"}, []string{"EHR not reached"}, 1},
		{"debug shows debug", TailQuery{Level: "debug", Text: "support"}, []string{"details for support"}, 1},
		{"info hides debug", TailQuery{Text: "support"}, nil, 0},
		{"limit keeps the newest", TailQuery{Limit: 3}, []string{"tick", "tick", "tick"}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lines, err := Tail(dir, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(lines) != tc.count {
				t.Fatalf("%d lines: %+v", len(lines), lines)
			}
			for i, w := range tc.want {
				if lines[i].Message != w {
					t.Errorf("line %d = %q, want %q", i, lines[i].Message, w)
				}
			}
		})
	}
	lines, _ := Tail(dir, TailQuery{Limit: 1})
	if lines[0].Fields["n"] != "299" {
		t.Errorf("newest line %+v", lines[0])
	}
	if _, err := Tail(dir, TailQuery{Level: "loud"}); err == nil || !strings.Contains(err.Error(), "loud") {
		t.Errorf("bad level: %v", err)
	}
	if lines, err := Tail(t.TempDir(), TailQuery{}); err != nil || len(lines) != 0 {
		t.Errorf("no log: %v %v", lines, err)
	}
}
