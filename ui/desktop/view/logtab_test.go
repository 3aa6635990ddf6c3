package view

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/control"
)

func TestLogTab(t *testing.T) {
	api := &fakeAPI{logLines: []control.LogLine{
		{Time: testNow.Add(-time.Minute), Level: "info", Message: "order accepted", Fields: map[string]string{"order": "o-1"}},
		{Time: testNow, Level: "warning", Message: "EHR unreachable", Fields: map[string]string{"conn": "birpis"}},
	}}
	tt := newTabTest(t, api)
	l := newLogTab(tt.env)
	tt.win.SetContent(l.content())
	t.Cleanup(l.start())

	if l.list.Length() != 2 || !hasText(visibleLabels(l.content()), "2 lines") {
		t.Fatalf("%d lines", l.list.Length())
	}
	if got := logLineText(api.logLines[0]); got != testNow.Add(-time.Minute).Format("2006-01-02 15:04:05")+"  INFO  order accepted  order=o-1" {
		t.Errorf("line %q", got)
	}
	labels := visibleLabels(l.content())
	if w := findLabel(labels, "EHR unreachable"); w == nil || w.Importance != widget.WarningImportance {
		t.Error("a warning is not shown as one")
	}

	l.level.SetSelectedIndex(2)
	test.Type(l.text, "EHR")
	q := api.logQs[len(api.logQs)-1]
	if q.Level != "warn" || q.Text != "EHR" || q.Limit != logLimit {
		t.Errorf("query %+v", q)
	}
	if l.list.Length() != 1 {
		t.Errorf("filtered to %d lines", l.list.Length())
	}

	// Following the log only while on screen; paused, nothing is asked.
	n := len(api.logQs)
	l.poll()
	if len(api.logQs) != n {
		t.Error("the log was asked for while the tab is not on screen")
	}
	l.setActive(true)
	n = len(api.logQs)
	l.poll()
	if len(api.logQs) != n+1 {
		t.Error("no new lines asked for while on screen")
	}
	l.pause.SetChecked(true)
	n = len(api.logQs)
	l.poll()
	if len(api.logQs) != n {
		t.Error("the log was asked for while paused")
	}
	l.setActive(false)

	// Copy: the selected line, or every line shown.
	clip := fyne.CurrentApp().Clipboard()
	l.list.Select(0)
	test.Tap(l.copyBt)
	if got := clip.Content(); got != logLineText(l.lines[0]) {
		t.Errorf("copied %q", got)
	}
	l.list.UnselectAll()
	l.level.SetSelectedIndex(1)
	l.text.SetText("")
	test.Tap(l.copyBt)
	if got, want := clip.Content(), logLineText(api.logLines[0])+"\n"+logLineText(api.logLines[1]); got != want {
		t.Errorf("copied %q, want %q", got, want)
	}
}
