package view

import "fyne.io/fyne/v2/lang"

// Texts of the Log tab; see strings.go.

func txtTabLog() string { return lang.X("tab.log", "Log") }

func txtLogLevel(lv string) string {
	switch lv {
	case "debug":
		return lang.X("log.level.debug", "Everything (debug)")
	case "warn":
		return lang.X("log.level.warn", "Warnings and errors")
	case "error":
		return lang.X("log.level.error", "Errors only")
	default:
		return lang.X("log.level.info", "Normal")
	}
}
func txtLogShow() string     { return lang.X("log.show", "Show") }
func txtLogFilter() string   { return lang.X("log.filter", "Filter by text") }
func txtLogPause() string    { return lang.X("log.pause", "Pause") }
func txtLogCopy() string     { return lang.X("log.copy", "Copy all shown") }
func txtLogCopyLine() string { return lang.X("log.copyLine", "Copy selected line") }
func txtLogNone() string     { return lang.X("log.none", "No log lines match.") }
func txtLogCount(n int) string {
	return lang.XN("log.count", "{{.Count}} lines", n, map[string]any{"Count": n})
}
