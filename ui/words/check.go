package words

import (
	"strings"

	"github.com/mesi/mconnect/connectors/connector"
)

// checkTexts are the English texts of connection test outcomes, by code;
// {{.name}} is an argument of the outcome.
var checkTexts = map[string]string{
	"reachable":        "Reachable{{if .addr}} ({{.addr}}){{end}}{{if .url}} ({{.url}}){{end}}{{if .status}}, answered {{.status}}{{end}}.",
	"refused":          "Nothing answers at {{.addr}}: the EHR or its interface may be off, or the port is wrong.",
	"timeout":          "No answer in time{{if .addr}} from {{.addr}}{{end}}{{if .url}} from {{.url}}{{end}}: a firewall may block it, or the address is wrong.",
	"unreachable":      "Cannot be reached{{if .addr}} ({{.addr}}){{end}}{{if .url}} ({{.url}}){{end}}: check the address and the network.",
	"http-status":      "Answered with an error ({{.status}}): the address may be wrong; see Details.",
	"auth-refused":     "The credentials were refused ({{.status}}): enter them again in Settings.",
	"writable":         "The folder {{.folder}} exists and can be written{{if .free}}; {{.free}} free{{end}}.",
	"not-writable":     "The folder {{.folder}} cannot be written: check its permissions.",
	"missing":          "The folder {{.folder}} does not exist: create it, or choose another in Settings.",
	"disk-nearly-full": "The disk of {{.folder}} is nearly full ({{.free}} free): free some space.",
	"listening":        "Listening on {{.addr}}.",
	"not-listening":    "Nothing listens on {{.addr}}: the hub's endpoint is not running.",
	"token":            "Credentials accepted{{if .expires}}; the access token is valid for {{.expires}}{{end}}.",
}

// Check returns the words for one connection test outcome: what was
// checked and what came of it. An unknown code shows the code and its
// detail, never nothing.
func Check(what string, r connector.CheckResult, lookup Lookup) string {
	if lookup == nil {
		lookup = English
	}
	t, ok := checkTexts[r.Code]
	if !ok {
		s := r.Code
		if r.Detail != "" {
			s += ": " + r.Detail
		}
		return what + ": " + s
	}
	data := make(map[string]any, len(r.Args))
	for k, v := range r.Args {
		data[k] = v
	}
	text := lookup("outcome."+r.Code, t, data)
	if what = strings.TrimSpace(what); what != "" {
		return what + ": " + text
	}
	return text
}

// CheckTexts returns every check key with its English text, for
// translation files and their tests.
func CheckTexts() map[string]string {
	out := make(map[string]string, len(checkTexts))
	for k, t := range checkTexts {
		out["outcome."+k] = t
	}
	return out
}
