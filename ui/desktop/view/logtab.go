package view

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mesi/mconnect/app/control"
)

// logLimit is how many of the newest log lines the Log tab shows.
const logLimit = 2000

// logEvery is how often the Log tab asks for new lines while it is on
// screen and not paused. Tests of Start set it to 0 and call poll.
var logEvery = 2 * time.Second

var logLevels = []string{"debug", "info", "warn", "error"}

// logTab is the Log tab: the newest lines of the hub's log, filtered by
// level and text, following the log while it is on screen unless paused;
// a line or every line shown can be copied for support. Patient data is
// never in the log above debug level, so it shows only when the hub logs
// at debug level. Its widgets are touched only on Fyne's goroutine.
type logTab struct {
	env *tabEnv

	level   *widget.Select
	text    *widget.Entry
	pause   *widget.Check
	copyBt  *widget.Button
	count   *widget.Label
	message *messageBox
	list    *widget.List
	root    fyne.CanvasObject

	lines    []control.LogLine
	selected int
	seq      int
	active   bool // the tab is on screen
	stopPoll func()
}

func newLogTab(env *tabEnv) *logTab {
	l := &logTab{env: env, selected: -1, stopPoll: func() {}}
	labels := make([]string, len(logLevels))
	for i, lv := range logLevels {
		labels[i] = txtLogLevel(lv)
	}
	l.level = widget.NewSelect(labels, nil)
	l.level.SetSelectedIndex(1)
	l.level.OnChanged = func(string) { l.reload() }
	l.text = widget.NewEntry()
	l.text.SetPlaceHolder(txtLogFilter())
	l.text.OnChanged = func(string) { l.reload() }
	l.pause = widget.NewCheck(txtLogPause(), func(on bool) {
		if !on {
			l.reload()
		}
	})
	l.copyBt = widget.NewButtonWithIcon(txtLogCopy(), theme.ContentCopyIcon(), l.copyLines)
	l.count = widget.NewLabel("")
	l.count.SizeName = theme.SizeNameCaptionText
	l.message = newMessageBox()
	l.list = widget.NewList(func() int { return len(l.lines) }, func() fyne.CanvasObject {
		lb := widget.NewLabel("")
		lb.TextStyle.Monospace = true
		lb.SizeName = theme.SizeNameCaptionText
		lb.Truncation = fyne.TextTruncateEllipsis
		return lb
	}, func(id widget.ListItemID, obj fyne.CanvasObject) {
		if id < 0 || id >= len(l.lines) {
			return
		}
		lb := obj.(*widget.Label)
		ln := l.lines[id]
		switch ln.Level {
		case "error", "fatal", "panic":
			lb.Importance = widget.DangerImportance
		case "warning", "warn":
			lb.Importance = widget.WarningImportance
		default:
			lb.Importance = widget.MediumImportance
		}
		lb.SetText(logLineText(ln))
	})
	l.list.OnSelected = func(id widget.ListItemID) {
		l.selected = id
		l.copyBt.SetText(txtLogCopyLine())
	}
	l.list.OnUnselected = func(widget.ListItemID) {
		l.selected = -1
		l.copyBt.SetText(txtLogCopy())
	}
	top := container.NewVBox(
		container.NewBorder(nil, nil, container.NewHBox(widget.NewLabel(txtLogShow()), l.level), nil, l.text),
		container.NewHBox(l.pause, l.copyBt, layout.NewSpacer(), l.count),
		l.message.root)
	l.root = container.NewBorder(top, nil, nil, nil, l.list)
	return l
}

func (l *logTab) content() fyne.CanvasObject { return l.root }

// start loads the log once; the tab follows it only while on screen.
func (l *logTab) start() (cancel func()) {
	l.reload()
	return func() { l.setActive(false) }
}

// setActive starts or stops following the log: it is asked for only while
// the tab is on screen, so a Dashboard hidden in the tray costs nothing.
func (l *logTab) setActive(on bool) {
	if on == l.active {
		return
	}
	l.active = on
	l.stopPoll()
	l.stopPoll = func() {}
	if !on || l.env.api == nil {
		return
	}
	l.reload()
	if logEvery <= 0 {
		return
	}
	ticker := time.NewTicker(logEvery)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ticker.C:
				l.env.post(l.poll)
			case <-done:
				return
			}
		}
	}()
	l.stopPoll = func() { ticker.Stop(); close(done) }
}

// poll asks for new lines unless paused.
func (l *logTab) poll() {
	if l.active && !l.pause.Checked {
		l.reload()
	}
}

func (l *logTab) query() control.LogQuery {
	return control.LogQuery{Level: logLevels[max(l.level.SelectedIndex(), 0)], Text: strings.TrimSpace(l.text.Text),
		Limit: logLimit}
}

func (l *logTab) reload() {
	if l.env.api == nil {
		l.message.info(txtNoHub())
		l.copyBt.Disable()
		return
	}
	q := l.query()
	l.seq++
	seq := l.seq
	call(l.env, func(ctx context.Context, api control.API) ([]control.LogLine, error) {
		return api.LogTail(ctx, q)
	}, func(lines []control.LogLine, err error) {
		if seq != l.seq {
			return
		}
		if err != nil {
			l.message.problem(err)
			l.root.Refresh()
			return // keep what is shown
		}
		if len(lines) == 0 {
			l.message.info(txtLogNone())
		} else {
			l.message.clear()
		}
		atEnd := l.selected < 0
		l.lines = lines
		l.count.SetText(txtLogCount(len(lines)))
		if l.selected >= len(lines) {
			l.list.UnselectAll()
		}
		l.list.Refresh()
		if atEnd && len(lines) > 0 {
			l.list.ScrollToBottom()
		}
		l.root.Refresh()
	})
}

// logLineText is one line as the tab shows and copies it.
func logLineText(ln control.LogLine) string {
	var b strings.Builder
	b.WriteString(ln.Time.Local().Format("2006-01-02 15:04:05"))
	b.WriteString("  ")
	b.WriteString(strings.ToUpper(ln.Level))
	b.WriteString("  ")
	b.WriteString(ln.Message)
	for _, k := range slices.Sorted(maps.Keys(ln.Fields)) {
		b.WriteString("  ")
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(ln.Fields[k])
	}
	return b.String()
}

// copyLines puts the selected line, or every line shown, on the clipboard.
func (l *logTab) copyLines() {
	var text string
	if l.selected >= 0 && l.selected < len(l.lines) {
		text = logLineText(l.lines[l.selected])
	} else {
		parts := make([]string, len(l.lines))
		for i, ln := range l.lines {
			parts[i] = logLineText(ln)
		}
		text = strings.Join(parts, "\n")
	}
	if a := fyne.CurrentApp(); a != nil {
		a.Clipboard().SetContent(text)
	}
}
