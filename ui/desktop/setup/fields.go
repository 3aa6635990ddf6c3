package setup

import (
	"strings"

	"fyne.io/fyne/v2/lang"
)

// fieldKind says how a config key is edited.
type fieldKind int

const (
	kindText      fieldKind = iota // free text
	kindID                         // a name or ID (single line)
	kindFolder                     // an absolute folder: picker + "Create"
	kindPort                       // a listen address; live "free?" check
	kindAddresses                  // IP addresses or CIDRs, one a line
	kindHostPort                   // the EHR's host:port
	kindURL                        // an http(s) URL
	kindSecret                     // password field → keyring reference
	kindChoice                     // one of a few values
	kindBool                       // on / off
	kindNumber                     // a number
)

// choice is one value of a kindChoice field and its words.
type choice struct {
	Value string
	Label func() string
}

// field describes one config key for the forms: label and hint (through
// lang, English defaults), how it is edited, its choices.
type field struct {
	Key     string // relative to the section ("ftp.listen") or full for the core
	Kind    fieldKind
	label   string // lang key suffix; the English default follows
	Label   string
	Hint    string
	Choices []choice
}

func (f field) labelText() string {
	if strings.HasPrefix(f.label, "raw.") {
		return f.Label
	}
	return lang.X("field."+f.label+".label", f.Label)
}

func (f field) hintText() string {
	if f.Hint == "" || strings.HasPrefix(f.label, "raw.") {
		return ""
	}
	return lang.X("field."+f.label+".hint", f.Hint)
}

func same(v string) func() string { return func() string { return v } }

var gdtVersions = []choice{
	{"02.10", same("GDT 2.1 (02.10)")},
	{"03.00", same("GDT 3.0 (03.00)")},
}

var gdtCharsets = []choice{
	{"auto", func() string {
		return lang.X("choice.charset.auto", "Automatic (read what each file declares; answer in the same)")
	}},
	{"cp437", same("CP437 (IBM PC)")},
	{"windows-1252", same("Windows-1252")},
	{"iso-8859-1", same("ISO-8859-1")},
	{"iso-8859-15", same("ISO-8859-15")},
	{"din66003", same("DIN 66003 (7 bit)")},
	{"utf-8", same("UTF-8")},
}

var hl7Charsets = []choice{
	{"", func() string {
		return lang.X("choice.charset.hl7auto", "Automatic (answer in the order's character set)")
	}},
	{"UNICODE UTF-8", same("UNICODE UTF-8")},
	{"8859/1", same("8859/1 (Latin-1)")},
	{"8859/2", same("8859/2 (Latin-2)")},
	{"WINDOWS-1250", same("WINDOWS-1250")},
}

var logLevels = []choice{
	{"debug", func() string { return lang.X("choice.log.debug", "Debug (everything, for support)") }},
	{"info", func() string { return lang.X("choice.log.info", "Normal") }},
	{"warn", func() string { return lang.X("choice.log.warn", "Warnings and errors") }},
	{"error", func() string { return lang.X("choice.log.error", "Errors only") }},
}

var ambiguousChoices = []choice{
	{"hold", func() string { return lang.X("choice.ambiguous.hold", "Hold: a person decides") }},
	{"resend", func() string { return lang.X("choice.ambiguous.resend", "Resend: the EHR removes duplicates") }},
}

// sectionFields are the keys each connector section's page shows, in
// order: only what a clinic has to decide. Everything else keeps the
// example's value (Settings shows it too).
var sectionFields = map[string][]field{
	"hl7": {
		{Key: "resultHost", Kind: kindHostPort, label: "hl7.resultHost", Label: "EHR address for results", Hint: "Host name or IP address and port where the EHR receives results, e.g. 192.168.1.20:2576."},
		{Key: "whitelist", Kind: kindAddresses, label: "hl7.whitelist", Label: "Addresses allowed to send orders", Hint: "One IP address a line (or a small network like 192.168.1.20/32). Filled in from the EHR address above."},
		{Key: "listen", Kind: kindPort, label: "hl7.listen", Label: "Port for orders", Hint: "The EHR sends orders to this port of this computer, e.g. :2575."},
		{Key: "receivingApp", Kind: kindID, label: "hl7.receivingApp", Label: "EHR application name", Hint: "The name the EHR expects in results (MSH-5)."},
		{Key: "charset", Kind: kindChoice, label: "hl7.charset", Label: "Character set of results", Hint: "Automatic answers in the character set of each order; choose one only when the EHR asks for it.", Choices: hl7Charsets},
	},
	"weda": {
		{Key: "inboundDir", Kind: kindFolder, label: "weda.inboundDir", Label: "Folder for orders", Hint: "The folder WEDA writes HL7 order files into."},
		{Key: "resultURL", Kind: kindURL, label: "weda.resultURL", Label: "WEDA address for results", Hint: "The https address WEDA gave for results."},
		{Key: "token", Kind: kindSecret, label: "weda.token", Label: "WEDA API token", Hint: "Kept in this computer's keyring, never in the configuration file. Leave empty to keep the stored one."},
		{Key: "charset", Kind: kindChoice, label: "weda.charset", Label: "Character set of results", Hint: "Automatic answers in the character set of each order.", Choices: hl7Charsets},
	},
	"gdt": {
		{Key: "inboundDir", Kind: kindFolder, label: "gdt.inboundDir", Label: "Folder for orders", Hint: "The folder the EHR writes GDT order files into."},
		{Key: "resultDir", Kind: kindFolder, label: "gdt.resultDir", Label: "Folder for results", Hint: "The folder the EHR reads result files from."},
		{Key: "pdfDir", Kind: kindFolder, label: "gdt.pdfDir", Label: "Folder for PDF reports", Hint: "Where the PDF reports go (often the same as results)."},
		{Key: "ehrId", Kind: kindID, label: "gdt.ehrId", Label: "EHR's GDT ID", Hint: "As set in the EHR's device settings (field 8316)."},
		{Key: "hubId", Kind: kindID, label: "gdt.hubId", Label: "Hub's GDT ID", Hint: "The ID the EHR knows this hub by (field 8315)."},
		{Key: "version", Kind: kindChoice, label: "gdt.version", Label: "GDT version", Hint: "As set in the EHR.", Choices: gdtVersions},
		{Key: "charset", Kind: kindChoice, label: "gdt.charset", Label: "Character set", Hint: "Automatic reads what each file declares (or recognises UTF-8) and answers in the same; choose one only when the EHR's files say nothing.", Choices: gdtCharsets},
		{Key: "ftp.enabled", Kind: kindBool, label: "gdt.ftp.enabled", Label: "EHR sends files over FTP", Hint: "Turn on when the EHR runs on another computer and uploads its files to this hub."},
		{Key: "ftp.listen", Kind: kindPort, label: "gdt.ftp.listen", Label: "FTP port", Hint: "e.g. 0.0.0.0:2121"},
		{Key: "ftp.user", Kind: kindID, label: "gdt.ftp.user", Label: "FTP user name"},
		{Key: "ftp.password", Kind: kindSecret, label: "gdt.ftp.password", Label: "FTP password", Hint: "Kept in this computer's keyring. Leave empty to keep the stored one."},
	},
	"halo": {
		{Key: "baseURL", Kind: kindURL, label: "halo.baseURL", Label: "HALO Connect address"},
		{Key: "siteId", Kind: kindID, label: "halo.siteId", Label: "HALO site ID", Hint: "The practice's site ID from HALO Connect."},
		{Key: "apiKey", Kind: kindSecret, label: "halo.apiKey", Label: "HALO API key", Hint: "Kept in this computer's keyring. Leave empty to keep the stored one."},
	},
	"leyr": {
		{Key: "baseURL", Kind: kindURL, label: "leyr.baseURL", Label: "Leyr address"},
		{Key: "careUnitId", Kind: kindID, label: "leyr.careUnitId", Label: "Care unit ID"},
		{Key: "clientId", Kind: kindID, label: "leyr.clientId", Label: "Leyr client ID"},
		{Key: "clientSecret", Kind: kindSecret, label: "leyr.clientSecret", Label: "Leyr client secret", Hint: "Kept in this computer's keyring. Leave empty to keep the stored one."},
	},
	"join":      pushFields("join"),
	"ziplanerx": pushFields("ziplanerx"),
}

func pushFields(s string) []field {
	return []field{
		{Key: "api.listen", Kind: kindPort, label: s + ".api.listen", Label: "Port for appointments", Hint: "The EHR sends appointments to this port of this computer, e.g. :8444."},
		{Key: "results.url", Kind: kindURL, label: s + ".results.url", Label: "Address for results", Hint: "{externalId} is replaced by the appointment's ID."},
		{Key: "results.tokenURL", Kind: kindURL, label: s + ".results.tokenURL", Label: "Sign-in address (OAuth token)"},
		{Key: "results.clientId", Kind: kindID, label: s + ".results.clientId", Label: "Client ID"},
		{Key: "results.clientSecret", Kind: kindSecret, label: s + ".results.clientSecret", Label: "Client secret", Hint: "Kept in this computer's keyring. Leave empty to keep the stored one."},
	}
}

// coreFields are the core keys the forms show with words of their own.
var coreFields = map[string][]field{
	"hub": {
		{Key: "hub.name", Kind: kindID, label: "hub.name", Label: "Hub name", Hint: "Shown to tablets when they look for a hub."},
		{Key: "hub.dataDir", Kind: kindFolder, label: "hub.dataDir", Label: "Data folder", Hint: "Database, reports and logs."},
	},
	"device": {
		{Key: "device.listen", Kind: kindPort, label: "device.listen", Label: "Port for tablets", Hint: "Tablets connect to this port, e.g. :8443."},
		{Key: "device.discovery", Kind: kindBool, label: "device.discovery", Label: "Tablets find the hub by themselves", Hint: "Announces the hub on the local network (mDNS). Off: tablets pair with the QR code."},
	},
	"log": {
		{Key: "log.level", Kind: kindChoice, label: "log.level", Label: "Log detail", Choices: logLevels},
	},
	"delivery": {
		{Key: "delivery.ambiguous", Kind: kindChoice, label: "delivery.ambiguous", Label: "Results in doubt after a crash", Choices: ambiguousChoices},
	},
}

// tabletFields are the wizard's tablet endpoint page.
var tabletFields = []field{coreFields["hub"][0], coreFields["device"][0], coreFields["device"][1]}

// fieldsFor returns the described fields of a section with full keys.
func fieldsFor(section string) []field {
	if fs, ok := coreFields[section]; ok {
		return fs
	}
	var out []field
	for _, f := range sectionFields[section] {
		f.Key = section + "." + f.Key
		out = append(out, f)
	}
	return out
}

// guessField describes a key the table does not: a secret when it holds
// a reference, else by its value.
func guessField(key string, v any) field {
	f := field{Key: key, Kind: kindText, label: "raw." + key, Label: key}
	switch x := v.(type) {
	case bool:
		f.Kind = kindBool
	case []any:
		f.Kind = kindAddresses
	case string:
		if strings.HasPrefix(x, "keyring:") || strings.HasPrefix(x, "env:") {
			f.Kind = kindSecret
		}
	default:
		if _, ok := v.(interface{ Float64() (float64, error) }); ok {
			f.Kind = kindNumber
		}
	}
	return f
}
