// Package words renders what the hub reports in codes (health, check
// results) as words for people. The English texts live here; the desktop
// passes a lookup that translates them (Fyne's lang), the command line
// uses them as they are.
package words

import (
	"bytes"
	"strings"
	"text/template"

	"github.com/mesi/mconnect/app/domain"
)

// Lookup returns the text of key in the person's language, falling back to
// the English template, rendered with data.
type Lookup func(key, english string, data map[string]any) string

// English renders the English template with data.
func English(_ string, english string, data map[string]any) string {
	if !strings.Contains(english, "{{") {
		return english
	}
	t, err := template.New("").Option("missingkey=zero").Parse(english)
	if err != nil {
		return english
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return english
	}
	return strings.ReplaceAll(b.String(), "<no value>", "")
}

// text is one health state's title and explanation.
type text struct{ title, text string }

// healthTexts are the English texts by area and code; {{.name}} is an
// argument of the report. The area is what kind of component reported.
var healthTexts = map[string]text{
	// any component
	"any.restarting": {"Stopped unexpectedly, restarting", "It is started again by itself (next try in {{.next}}). If this repeats, open Details and export diagnostics for support."},
	"any.starting":   {"Starting", ""},
	"any.stopped":    {"Stopped", ""},
	// the database
	"store.ready":               {"Database ready", "Orders and results are stored in {{.path}}."},
	"store.order-write-failed":  {"Database cannot store orders", "New orders are not accepted (the EHR is told to send them again). Check the free disk space and that the data folder is writable."},
	"store.result-write-failed": {"Database cannot store results", "Tablets are told to retry; nothing is lost. Check the free disk space and that the data folder is writable."},
	// the tablets' endpoint
	"device.listening":     {"Tablet endpoint listening", "Tablets reach the hub at {{.addr}}, encrypted (the certificate fingerprint is under About this hub)."},
	"device.plain-http":    {"Tablet endpoint without encryption", "The tablet endpoint on {{.addr}} serves plain HTTP: patient data crosses the network unencrypted. Turn plain HTTP off in Settings unless a tablet needs it."},
	"device.listen-failed": {"Tablet endpoint cannot listen", "Port {{.addr}} cannot be opened. Another program may use it; choose another port in Settings."},
	"device.stopped":       {"Tablet endpoint stopped", ""},
	// HL7 over MLLP
	"mllp.listening":         {"Listening for orders", "Waiting for the EHR on {{.addr}}."},
	"mllp.receiving":         {"Receiving orders", ""},
	"mllp.listen-failed":     {"Cannot listen for orders", "Port {{.addr}} cannot be opened. Is another program using it?"},
	"mllp.message-refused":   {"A message from the EHR was refused", "The EHR was told why (a negative acknowledgement). See Details."},
	"mllp.store-failed":      {"Orders cannot be stored", "The EHR is told to send them again later. Check the free disk space and that the data folder is writable."},
	"mllp.peer-refused":      {"Connection from an address not allowed", "{{.peer}} tried to connect but is not in the allow-list; add it in the connection's settings if it is the EHR."},
	"mllp.control-id-reused": {"The EHR reused a message number", "Message {{.control_id}} arrived again with other content; it was stored as a new order, nothing was dropped. Ask the EHR's vendor why message numbers repeat."},
	"mllp.charset-mismatch":  {"A message's character set was not what it said", "Message {{.control_id}} declared {{.declared}} but was written otherwise; it was read as {{.used}}. Check the names in that order and the EHR's MSH-18 setting."},
	"mllp.stopped":           {"Stopped", ""},
	// order files (GDT, WEDA's HL7 files)
	"files-in.watching":          {"Watching the order folder", "New order files are read from {{.folder}}."},
	"files-in.file-rejected":     {"An order file was rejected", "See the note beside {{.file}} in the error folder."},
	"files-in.file-refused":      {"An order file was rejected", "It was moved to the error folder with a note saying why."},
	"files-in.store-unavailable": {"Orders cannot be stored; files wait in the folder", "They are read again as soon as the database can be written."},
	"files-in.stopped":           {"Order folder not watched", "Watching {{.folder}} stopped; it is started again by itself."},
	// result files (GDT)
	"files-out.delivering":      {"Writing results to the GDT folder", "Results are written into {{.folder}}."},
	"files-out.ehr-not-reading": {"The EHR is not picking up result files", "Result files wait in {{.folder}}. Check that the EHR's GDT import is running."},
	"files-out.write-failed":    {"A result could not be written", "Writing into {{.folder}} failed. Check that the folder exists and is writable."},
	// the embedded FTP endpoint
	"ftp.listening":    {"FTP endpoint listening", "The EHR uploads order files to {{.addr}}."},
	"ftp.login-locked": {"FTP logins locked after wrong passwords", "{{.failures}} wrong user names or passwords from {{.ip}}: logins from there are refused until {{.until}}. If this is the EHR, check the FTP user and password in its settings."},
	// the outbox of a connection
	"outbox.ok":               {"{{.connection}}: delivering", "Results are delivered as they arrive."},
	"outbox.retrying":         {"{{.connection}}: retrying results ({{.retrying}})", "They could not be delivered yet and are sent again automatically."},
	"outbox.ehr-unreachable":  {"{{.connection}} does not answer", "Results waiting: {{.retrying}}. They are sent in order as soon as it answers; the next try is at {{.next}}."},
	"outbox.needs-attention":  {"Results for {{.connection}} need attention", "Refused by the EHR: {{.failed}}. Perhaps received twice (the hub stopped while sending them): {{.held}}. Open Results to resend or cancel them."},
	"outbox.store-unwritable": {"Delivery progress cannot be saved", "Results already received are safe; delivery to {{.connection}} resumes by itself when the database can be written again. Check the free disk space and that the data folder is writable."},
	"outbox.store-unreadable": {"The delivery queue cannot be read", "Delivery to {{.connection}} resumes by itself when it can. If this stays, export a diagnostic bundle for support."},
	// appointments read from a cloud EHR (HALO Connect, Leyr)
	"pull.idle":                {"Appointments are read from {{.ehr}} when a tablet asks", "No tablet has read its worklist since the hub started."},
	"pull.ok":                  {"Appointments read from {{.ehr}}", "{{.count}} appointments in the worklist window."},
	"pull.auth-refused":        {"{{.ehr}} refused the {{.credential}}", "Tablets see the worklist as last read, marked as possibly out of date. Correct the {{.credential}} in Settings; the hub does not try again before {{.next}}, so that a wrong key is not repeated."},
	"pull.site-offline":        {"The practice's HALO site is offline", "HALO Connect cannot reach the practice's server. Tablets see the worklist as last read, marked as possibly out of date. Check that the practice server and HALO Link run; the hub asks again at {{.next}}."},
	"pull.site-unreachable":    {"The practice's HALO site is unreachable", "HALO Connect has not heard from the practice's HALO Link for two minutes. Tablets see the worklist as last read, marked as possibly out of date; the hub asks again at {{.next}}."},
	"pull.site-not-found":      {"HALO Connect does not know the site", "Site {{.site}} is unknown to HALO Connect for this API key. Check the site ID (the practice's Halo GUID) in Settings."},
	"pull.queue-expired":       {"The practice's server did not take the query in time", "HALO Connect gave up waiting for the practice's server. Tablets see the worklist as last read; the hub asks again at {{.next}}."},
	"pull.query-failed":        {"The appointments query failed in the practice's database", "{{.error}} Check the query and its columns in Settings (see docs/CLOUD-SETUP.md)."},
	"pull.care-unit-not-found": {"Leyr does not know the care unit", "Care unit {{.careUnit}} is not available to this client. Check the care unit ID in Settings."},
	"pull.timeout":             {"{{.ehr}} does not answer in time", "No answer within {{.timeout}}. Tablets see the worklist as last read, marked as possibly out of date; the hub asks again at {{.next}}."},
	"pull.unreachable":         {"{{.ehr}} cannot be reached", "Check this computer's internet connection. Tablets see the worklist as last read, marked as possibly out of date; the hub asks again at {{.next}}."},
	"pull.server-error":        {"{{.ehr}} has a fault", "It answered with an error (HTTP {{.status}}). Tablets see the worklist as last read, marked as possibly out of date; the hub asks again at {{.next}}, less often while the fault lasts."},
	"pull.bad-answer":          {"{{.ehr}} answered something the hub cannot read", "Tablets see the worklist as last read, marked as possibly out of date; the hub asks again at {{.next}}. If this stays, export diagnostics for support."},
	"pull.too-large":           {"The answer of {{.ehr}} is too large", "It is over the limit of {{.limit}}. Narrow the window (windowBefore, windowAfter) or the query, or raise maxAnswerMB in Settings."},
	"pull.refused":             {"{{.ehr}} refused the request", "It answered HTTP {{.status}}: the settings ask for something it does not accept. See Details; the hub does not try again before {{.next}}."},
	"pull.rate-limited":        {"{{.ehr}} asks the hub to slow down", "It is asked again at {{.next}}; tablets see the worklist as last read."},
	"pull.rows-skipped":        {"{{.count}} appointments from {{.ehr}} could not be read", "{{.first}}. The other appointments are on the worklist; Details lists the rows."},
	"pull.rows-ok":             {"Every appointment from {{.ehr}} was read", ""},
	// the Integration API (appointments pushed by a cloud EHR)
	"integration.listening":        {"Integration API listening", "The EHR sends appointments to {{.url}}{{if .clients}} ({{.clients}} clients registered){{end}}."},
	"integration.listen-failed":    {"Integration API cannot listen", "Port {{.addr}} cannot be opened. Another program may use it; choose another port in the connection's settings."},
	"integration.tls-failed":       {"Integration API has no usable certificate", "The certificate {{.cert}} or its key cannot be read. Check both files, or remove them from the settings to use the hub's own certificate."},
	"integration.store-failed":     {"Appointments cannot be stored", "The EHR is told to send them again later. Check the free disk space and that the data folder is writable."},
	"integration.jwks-unreachable": {"The EHR's sign-in keys cannot be fetched", "{{.url}} does not answer. Tokens signed with keys fetched before keep working; new keys cannot be checked until it answers."},
	"integration.stopped":          {"Integration API stopped", ""},
	// results sent to a cloud EHR as JSON
	"results-out.delivering":        {"Sending results to the EHR", "Results are POSTed to {{.url}}."},
	"results-out.token-unavailable": {"No access token from the EHR", "Its token endpoint {{.url}} does not answer or fails. Results wait and are sent as soon as a token is had."},
	"results-out.token-refused":     {"The EHR refuses the hub's credentials", "Its token endpoint {{.url}} refused the client ID or secret (HTTP {{.status}}). Results wait; check the client ID, the secret in the keyring and the scopes in the connection's settings."},
	// the hub itself (no running hub)
	"hub.no-config":      {"Not configured yet", "No configuration file at {{.path}}."},
	"hub.invalid-config": {"Configuration is invalid", "Correct the configuration; see Details for what is wrong."},
	"hub.start-failed":   {"The hub could not start", "See Details for why."},
	"hub.not-running":    {"mCONNECT Hub is not running", ""},
	// GDT files (connectors/gdtfile)
	"files-in.read-leniently":  {"An order file was not quite GDT", "{{.file}} was accepted although it does not follow the GDT format exactly (Details say where). Nothing is missing; if this repeats, ask the EHR's vendor to fix its GDT export."},
	"files-out.transliterated": {"A name was written without some of its letters", "The EHR's character set lacks some letters of a result's patient name or text; they were written as the nearest plain letters (Details say which). The result reached the EHR."},
	// HL7 orders: texts over the limit
	"mllp.order-text-cut": {"An order's text was cut", "Message {{.control_id}} carried longer text than the hub keeps in {{.fields}}; the order was stored with the text cut. The full message is in the EHR."},
	// retention: the daily clean-up and the free disk space (app/retention)
	"retention.swept":        {"Old data cleaned up", "The last clean-up ({{.at}}) removed {{.orders}} finished orders, {{.results}} delivered results with their reports and {{.files}} archived files. Results that still need a person are kept."},
	"retention.sweep-failed": {"Old data could not be cleaned up", "Nothing was lost; the clean-up tries again on {{.next}}. See Details for why."},
	"disk.ok":                {"Enough free disk space", "{{.free}} free for the hub's data."},
	"disk.low":               {"The disk is almost full", "Only {{.free}} is free on the disk of {{.path}}. Free some space soon: when the disk is full, new orders and results cannot be stored."},
	"disk.unknown":           {"Free disk space cannot be read", "The hub cannot tell how much space is left on the disk of {{.path}}. See Details for why."},
}

// Area names the kind of component a health report comes from: "device",
// "store", "outbox", "mllp", "files-in", "files-out", "ftp", "pull",
// "integration", "results-out", "hub" or the component itself.
func Area(component string) string {
	switch {
	case component == "device", component == "store", component == "hub", component == "config":
		if component == "config" {
			return "hub"
		}
		return component
	case strings.HasSuffix(component, "/outbox"):
		return "outbox"
	case strings.HasSuffix(component, "/gdt-in"), strings.HasSuffix(component, "/files-in"):
		return "files-in"
	case strings.HasSuffix(component, "/gdt-out"):
		return "files-out"
	case strings.HasSuffix(component, "/ftp"):
		return "ftp"
	case strings.HasSuffix(component, "/pull"), strings.HasSuffix(component, "/pull-rows"):
		return "pull"
	case strings.HasSuffix(component, "/integration"):
		return "integration"
	case strings.HasSuffix(component, "/results"):
		return "results-out"
	case strings.HasPrefix(component, "conn:") && !strings.Contains(component, "/"):
		return "mllp"
	}
	return component
}

// HealthKey is the translation key of a report's texts (without the
// ".title"/".text" suffix).
func HealthKey(h domain.Health) string {
	k := Area(h.Component) + "." + h.Code
	if _, ok := healthTexts[k]; ok {
		return "health." + k
	}
	if _, ok := healthTexts["any."+h.Code]; ok {
		return "health.any." + h.Code
	}
	return "health." + k
}

// Health returns the title and the explanation of a report in the words of
// lookup (nil: English). An unknown code shows the code and the component,
// never nothing.
func Health(h domain.Health, lookup Lookup) (title, explanation string) {
	if lookup == nil {
		lookup = English
	}
	key := HealthKey(h)
	t, ok := healthTexts[strings.TrimPrefix(key, "health.")]
	if !ok {
		return h.Component + ": " + h.Code, h.Detail
	}
	data := make(map[string]any, len(h.Args))
	for k, v := range h.Args {
		data[k] = v
	}
	title = lookup(key+".title", t.title, data)
	if t.text != "" {
		explanation = lookup(key+".text", t.text, data)
	}
	return title, explanation
}

// HealthTexts returns every key with its English text, for translation
// files and their tests.
func HealthTexts() map[string]string {
	out := make(map[string]string, 2*len(healthTexts))
	for k, t := range healthTexts {
		out["health."+k+".title"] = t.title
		if t.text != "" {
			out["health."+k+".text"] = t.text
		}
	}
	return out
}
