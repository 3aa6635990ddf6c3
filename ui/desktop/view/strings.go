package view

import (
	"embed"
	"time"

	"fyne.io/fyne/v2/lang"

	"github.com/mesi/mconnect/app/domain"
)

// Every text the GUI shows is produced here, through lang.X with an English
// default, so that translations (German, French, Slovenian) are JSON files
// added to translations/ and nothing else changes. translations/en.json
// repeats the defaults; a test keeps both in step.

//go:embed translations
var translationsFS embed.FS

// addTranslations registers the embedded translation files with Fyne's
// lang package (which keeps them for the whole process), one file at a time
// (see loadTranslations).
func addTranslations() error { return loadTranslations(translationsFS, "translations") }

func txtWindowTitle() string   { return lang.X("window.title", "mCONNECT Hub") }
func txtTrayOpen() string      { return lang.X("tray.open", "Open Dashboard") }
func txtTrayQuit() string      { return lang.X("tray.quit", "Quit") }
func txtAllOK() string         { return lang.X("status.allOK", "All connections OK") }
func txtNoComponents() string  { return lang.X("status.starting", "Waiting for the hub to report") }
func txtNotStarted() string    { return lang.X("status.notStarted", "mCONNECT Hub is not running") }
func txtNotConfigured() string { return lang.X("status.notConfigured", "Not set up yet") }

func txtProblems(n int) string {
	return lang.XN("status.problems", "{{.Count}} problems", n, map[string]any{"Count": n})
}

func txtComponentCount(n int) string {
	return lang.XN("status.components", "{{.Count}} components", n, map[string]any{"Count": n})
}

func txtUpdated(at string) string {
	return lang.X("status.updated", "updated {{.Time}}", map[string]any{"Time": at})
}

func txtSeverity(s domain.Severity) string {
	switch s {
	case domain.SeverityOK:
		return lang.X("severity.ok", "OK")
	case domain.SeverityWarning:
		return lang.X("severity.warning", "Warning")
	default:
		return lang.X("severity.error", "Error")
	}
}

func txtConnections() string { return lang.X("section.connections", "Connections") }
func txtNoHealth() string {
	return lang.X("connections.none", "No components have reported yet.")
}
func txtLastMessage(at string) string {
	return lang.X("connections.lastMessage", "Last message: {{.Time}}", map[string]any{"Time": at})
}
func txtNever() string { return lang.X("time.never", "never") }
func txtLastError(msg string) string {
	return lang.X("connections.lastError", "Last error: {{.Error}}", map[string]any{"Error": msg})
}

func txtAbout() string       { return lang.X("section.about", "About this hub") }
func txtVersion() string     { return lang.X("about.version", "Version") }
func txtHubName() string     { return lang.X("about.hubName", "Hub name") }
func txtConfigFile() string  { return lang.X("about.configFile", "Configuration file") }
func txtDataFolder() string  { return lang.X("about.dataFolder", "Data folder") }
func txtLANEndpoint() string { return lang.X("about.lanEndpoint", "Address for tablets") }
func txtTLSFingerprint() string {
	return lang.X("about.tlsFingerprint", "Certificate fingerprint (SHA-256)")
}
func txtNotSet() string { return lang.X("about.notSet", "not set") }

func txtProblemTitle() string {
	return lang.X("problem.title", "The hub could not start")
}

func txtFirstRunTitle() string {
	return lang.X("firstRun.title", "No configuration yet")
}

func txtFirstRunText() string {
	return lang.X("firstRun.text",
		"mCONNECT Hub is not connected to the practice software (EHR) yet, and tablets cannot reach it. "+
			"Set up the connection: choose your EHR, fill in what it needs, and mCONNECT Hub checks it before saving.")
}

func txtFirstRunSetup() string { return lang.X("firstRun.setup", "Set up the EHR connection…") }
func txtFirstRunIT() string {
	return lang.X("firstRun.it", "For IT: the configuration file can also be written by hand or by a script, then used at the next start:")
}

func txtFirstRunCommands(path string) string {
	return lang.X("firstRun.commands",
		"mconnect config example --ehr <id> > {{.Path}}\nmconnect serve --config {{.Path}}",
		map[string]any{"Path": path})
}

func txtFirstRunIDs() string {
	return lang.X("firstRun.ids",
		"<id> is one of: bestpractice, birpis, doctolib, hipokrat, iris, isoz, join, nextgen, tomedo, vena, webdoc, weda, ziplanerx. "+
			"Check the folders, ports and addresses in the file before starting. "+
			"mCONNECT Hub uses a file saved at this path the next time it starts.")
}

func txtNoTray(reason string) string {
	return lang.X("notice.noTray",
		"No tray icon: {{.Reason}}. Keep this window open (or minimised): closing it stops mCONNECT Hub, after asking.",
		map[string]any{"Reason": reason})
}

func txtNoTrayAttached(reason string) string {
	return lang.X("notice.noTrayAttached",
		"No tray icon: {{.Reason}}. This window shows the hub that runs as a service; closing it leaves the hub running.",
		map[string]any{"Reason": reason})
}

func txtNoTrayHere() string { return lang.X("notice.noTrayHere", "this system has no tray") }

func txtNoTrayHost() string {
	return lang.X("notice.noTrayHost",
		"This desktop may not show tray icons. Closing this window quits mCONNECT Hub.")
}

// formatTime shows t as a time of day when it is today, else with its date.
func formatTime(t, now time.Time) string {
	if t.IsZero() {
		return txtNever()
	}
	t = t.In(now.Location())
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	if y1 == y2 && m1 == m2 && d1 == d2 {
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04")
}

func txtTrayPair() string   { return lang.X("tray.pair", "Pair a tablet…") }
func txtTrayExport() string { return lang.X("tray.export", "Export diagnostics…") }
func txtTrayTablets(online, total int) string {
	return lang.X("tray.tablets", "Tablets online: {{.Online}} of {{.Total}}", map[string]any{"Online": online, "Total": total})
}
func txtTrayResults(waiting, needPerson int) string {
	if needPerson > 0 {
		return lang.X("tray.resultsAttention", "Results: {{.Waiting}} waiting, {{.Attention}} need a person",
			map[string]any{"Waiting": waiting, "Attention": needPerson})
	}
	return lang.X("tray.results", "Results waiting to be sent: {{.Waiting}}", map[string]any{"Waiting": waiting})
}
func txtQuitTitle() string { return lang.X("quit.title", "Quit mCONNECT Hub?") }
func txtQuitText() string {
	return lang.X("quit.text", "Tablets and the EHR will not be served until mCONNECT Hub is started again.")
}
func txtQuitConfirm() string { return lang.X("quit.confirm", "Quit") }
func txtCloseTitle() string  { return lang.X("close.title", "Keep mCONNECT Hub running?") }
func txtCloseText() string {
	return lang.X("close.text",
		"This desktop shows no tray icon, so closing the window would stop the hub: tablets and the EHR would not be served. Minimise the window to keep it running.")
}
func txtCloseMinimise() string { return lang.X("close.minimise", "Minimise") }
func txtNotifyMany(n int) string {
	return lang.X("notify.many", "mCONNECT Hub: {{.Count}} things need your attention", map[string]any{"Count": n})
}
func txtNotifyManyText() string {
	return lang.X("notify.manyText", "Open the Dashboard to see what happened and what to do.")
}
func txtExportTitle() string { return lang.X("export.title", "Export diagnostics") }
func txtExportText() string {
	return lang.X("export.text",
		"A support bundle holds the hub's health, settings (without passwords), log and database statistics. Send it to MESI support when asked.")
}
func txtExportPatientData() string {
	return lang.X("export.patientData", "Include patient data (names, orders, results) — only if support asks for it")
}
func txtExportChoose() string  { return lang.X("export.choose", "Choose file…") }
func txtExportRunning() string { return lang.X("export.running", "Writing the support bundle…") }
func txtExportFailed() string {
	return lang.X("export.failed", "The support bundle could not be written")
}
func txtExportDone(path string) string {
	return lang.X("export.done", "The support bundle was saved as {{.Path}}.", map[string]any{"Path": path})
}
func txtExportMissing(parts string) string {
	return lang.X("export.missing", "Left out because they could not be read: {{.Parts}}.", map[string]any{"Parts": parts})
}
func txtTrayUpdate(v string) string {
	return lang.X("tray.update", "Version {{.Version}} is available…", map[string]any{"Version": v})
}
func txtUpdateTitle(v, date string) string {
	return lang.X("update.title", "mCONNECT Hub {{.Version}} is available ({{.Date}})", map[string]any{"Version": v, "Date": date})
}
func txtUpdateDownload() string { return lang.X("update.download", "Download page") }
func txtUpdateHow() string {
	return lang.X("update.how", "mCONNECT Hub does not install updates by itself: your IT installs the new version; settings, tablets and data are kept.")
}
func txtStorage(free, total, data string) string {
	return lang.X("about.storage", "Disk: {{.Free}} free of {{.Total}}; the hub's data: {{.Data}}",
		map[string]any{"Free": free, "Total": total, "Data": data})
}
func txtNextSweep(at string) string {
	return lang.X("about.nextSweep", "Old data is cleaned up next at {{.Time}} (finished orders and delivered results after 90 days by default).",
		map[string]any{"Time": at})
}
