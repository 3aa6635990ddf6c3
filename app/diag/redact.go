package diag

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mesi/mconnect/app/domain"
)

// Replacement texts. They are fixed strings so support can tell a removed
// value from an empty one.
const (
	redactedSecret  = "[redacted]"
	redactedPatient = "[patient data removed]"
	redactedFile    = "[file name removed]"
)

// secretKey reports whether a key name suggests a secret. The list is a
// superset of app/logging's: the bundle re-checks what the logger wrote.
func secretKey(key string) bool {
	k := strings.ToLower(key)
	for _, s := range []string{"token", "password", "passwd", "secret", "authorization", "apikey", "api_key", "api-key", "credential", "pairingcode", "code_plain", "cookie"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// notSecretKeys are config keys named like a secret that hold none: the
// name of the HTTP header carrying WEDA's token is needed to debug it.
// pairingCodeTTL is a duration.
var notSecretKeys = map[string]bool{"tokenheader": true, "pairingcodettl": true}

// patientKey reports whether a key name suggests personal data of a
// patient. IDs (patientId, orderId, resultId) are kept: support needs them
// to follow an order, and they mean nothing outside the clinic.
func patientKey(key string) bool {
	k := strings.ToLower(key)
	switch k {
	case "hostname", "filename", "file_name", "connection", "ehr":
		return false
	}
	for _, s := range []string{"name", "birth", "dob", "address", "street", "city", "zip", "postal", "postcode", "phone", "mobile", "email", "e-mail", "mail"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// isSecretRef reports whether v is a secret reference (keyring:NAME,
// env:VAR): the config's way of naming a secret without holding it.
func isSecretRef(v string) bool {
	for _, p := range []string{"keyring:", "env:"} {
		if strings.HasPrefix(v, p) && len(v) > len(p) && !strings.ContainsAny(v, " \t\r\n") {
			return true
		}
	}
	return false
}

var (
	// keyValueSecret finds key=value, key: value and "key":"value" pairs
	// whose key names a secret, in free text (URLs, error messages).
	keyValueSecret = regexp.MustCompile(`(?i)((?:access_?|api_?|auth_?|refresh_?|bearer_?)?(?:token|password|passwd|secret|apikey|api_key|api-key)["']?\s*[:=]\s*["']?)([^"'\s,;&}\]]+)`)
	// bearer finds HTTP Authorization values.
	bearer = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}`)
	// urlUserinfo finds credentials in URLs (scheme://user:pass@host).
	urlUserinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:)([^\s@/]+)@`)

	// hl7PID is an HL7 PID segment: everything after PID-3 (the patient
	// identifiers) goes. A segment ends at CR, LF or their escaped forms.
	hl7PID = regexp.MustCompile(`\bPID\|((?:[^|\r\n\\]|\\[^rn])*\|(?:[^|\r\n\\]|\\[^rn])*\|(?:[^|\r\n\\]|\\[^rn])*)\|(?:[^\r\n\\]|\\[^rn])*`)
	// hl7Person are segments about people other than the patient (next of
	// kin, guarantor, insured): only the set ID is kept.
	hl7Person = regexp.MustCompile(`\b(NK1|GT1|IN1|IN2)\|((?:[^|\r\n\\]|\\[^rn])*)(?:\|(?:[^\r\n\\]|\\[^rn])*)?`)
	// gdtPerson is a GDT line (LLL length, FFFF field) holding a name,
	// birth date, insurance number or address (3100-3107), postcode/city
	// (3112/3113), phone (3618/3626) or e-mail (3619/3633). The patient
	// number (3000) is kept.
	gdtPerson = regexp.MustCompile(`(^|[^0-9])([0-9]{3})(310[0-7]|311[23]|3618|3619|3626|3633)([^\r\n"\\]*)`)
	// email is an e-mail address.
	email = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
)

// redactor removes secrets always and patient data unless keepPatient.
type redactor struct {
	keepPatient bool
	// known are names, birth dates and contacts of the store's patients,
	// removed wherever they appear as a word (see addPatient).
	known map[string]bool
	// files are the names of rejected files (EHRs name order files after
	// the patient), removed wherever they appear, longest first.
	files []string
}

// text scrubs free text: secrets in key=value pairs, bearer tokens and URL
// credentials; unless patient data is kept, HL7 PID/NK1/GT1/IN1 segments
// after the identifiers, GDT name/birth date/address/phone/e-mail lines and
// e-mail addresses.
func (r redactor) text(s string) string {
	s = urlUserinfo.ReplaceAllString(s, "${1}"+redactedSecret+"@")
	s = bearer.ReplaceAllString(s, "${1} "+redactedSecret)
	s = keyValueSecret.ReplaceAllString(s, "${1}"+redactedSecret)
	if r.keepPatient {
		return s
	}
	s = hl7PID.ReplaceAllString(s, "PID|${1}|"+redactedPatient)
	s = hl7Person.ReplaceAllString(s, "${1}|${2}|"+redactedPatient)
	s = gdtPerson.ReplaceAllString(s, "${1}${2}${3}"+redactedPatient)
	s = email.ReplaceAllString(s, redactedPatient)
	for _, f := range r.files {
		s = strings.ReplaceAll(s, f, redactedFile)
	}
	return r.knownWords(s)
}

// maxRejectedNames bounds how many rejected file names the redactor looks
// for (the newest of each folder's error/).
const maxRejectedNames = 1000

// addFile adds a rejected file's name, and the name without its
// extensions, to the names removed from text.
func (r *redactor) addFile(name string) {
	name = strings.TrimSuffix(name, ".error")
	for _, n := range []string{name, strings.SplitN(name, ".", 2)[0]} {
		if utf8.RuneCountInString(n) < 4 || slices.Contains(r.files, n) {
			continue
		}
		r.files = append(r.files, n)
	}
	sort.SliceStable(r.files, func(i, j int) bool { return len(r.files[i]) > len(r.files[j]) })
}

// fileName is the name a rejected file is shown under in the bundle: its
// position and extensions (".gdt.error"), unless patient data is kept.
func (r redactor) fileName(i int, name string) string {
	if r.keepPatient {
		return name
	}
	ext := ""
	if k := strings.IndexByte(name, '.'); k > 0 {
		ext = name[k:]
	}
	return fmt.Sprintf("rejected-%d%s", i+1, ext)
}

// value scrubs a decoded JSON value in place of its key: a secret key's
// value goes (a secret reference stays, it is no secret), a patient key's
// value goes unless kept, strings are scrubbed as text, objects and arrays
// recursively.
func (r redactor) value(key string, v any) any {
	if key != "" && secretKey(key) && !notSecretKeys[strings.ToLower(key)] {
		if s, ok := v.(string); ok && isSecretRef(s) {
			return s
		}
		if v == nil || v == "" {
			return v
		}
		return redactedSecret
	}
	if key != "" && !r.keepPatient && patientKey(key) {
		if v == nil || v == "" {
			return v
		}
		return redactedPatient
	}
	switch t := v.(type) {
	case string:
		return r.text(t)
	case map[string]any:
		for k, e := range t {
			t[k] = r.value(k, e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = r.value(key, e)
		}
		return t
	}
	return v
}

// configValue scrubs a decoded config: secrets go (references stay), URLs
// lose credentials. The config holds no patient data, so names (hub name,
// group names, FTP user) are kept.
func (r redactor) configValue(key string, v any) any {
	if key != "" && secretKey(key) && !notSecretKeys[strings.ToLower(key)] {
		if s, ok := v.(string); ok && (isSecretRef(s) || s == "") {
			return s
		}
		return redactedSecret
	}
	switch t := v.(type) {
	case string:
		if u, err := url.Parse(t); err == nil && u.User != nil {
			if _, has := u.User.Password(); has {
				u.User = url.UserPassword(u.User.Username(), redactedSecret)
				t = u.String()
			}
		}
		return redactor{keepPatient: true}.text(t)
	case map[string]any:
		for k, e := range t {
			t[k] = r.configValue(k, e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = r.configValue(key, e)
		}
		return t
	}
	return v
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// maxKnownOrders is how many of the newest orders lend their patients'
// names, birth dates and contacts to the dictionary of known values.
const maxKnownOrders = 10000

// addPatient adds p's names, birth date and contacts to the dictionary of
// known patient values, which text removes wherever they stand as a whole
// word (an EHR's error answer quoting a name, a free-text reason).
func (r *redactor) addPatient(p domain.Patient) {
	if r.known == nil {
		r.known = map[string]bool{}
	}
	add := func(s string) {
		s = strings.TrimSpace(s)
		if utf8.RuneCountInString(s) < 2 {
			return
		}
		for _, v := range []string{s, strings.ToUpper(s)} {
			r.known[v] = true
			for _, part := range strings.FieldsFunc(v, func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsDigit(c) }) {
				if utf8.RuneCountInString(part) >= 2 && !allDigits(part) {
					r.known[part] = true
				}
			}
		}
	}
	n := p.Name
	for _, s := range []string{n.Family, n.Given, n.Middle, p.Email, p.Address.Street, p.Address.City} {
		add(s)
	}
	for _, ph := range p.Phones {
		add(ph.Number)
	}
	if d, err := time.Parse("2006-01-02", p.BirthDate); err == nil {
		for _, layout := range []string{"2006-01-02", "20060102", "02012006", "02.01.2006", "2.1.2006", "01/02/2006", "02/01/2006"} {
			r.known[d.Format(layout)] = true
		}
	} else {
		add(p.BirthDate)
	}
}

// wordRune is a rune that belongs to a word in the dictionary lookup:
// letters, digits, and the '-' and '.' inside double names and dates.
func wordRune(c rune) bool {
	return unicode.IsLetter(c) || unicode.IsDigit(c) || c == '-' || c == '.' || c == '/' || c == '+'
}

func allDigits(s string) bool {
	for _, c := range s {
		if !unicode.IsDigit(c) {
			return false
		}
	}
	return true
}

// knownWords replaces every word of s found in the dictionary, whole or as
// a part between '-', '.', '/' or '+'.
func (r redactor) knownWords(s string) string {
	if len(r.known) == 0 {
		return s
	}
	var out strings.Builder
	i := 0
	for i < len(s) {
		c, size := utf8.DecodeRuneInString(s[i:])
		if !wordRune(c) {
			out.WriteString(s[i : i+size])
			i += size
			continue
		}
		j := i
		for j < len(s) {
			c, size := utf8.DecodeRuneInString(s[j:])
			if !wordRune(c) {
				break
			}
			j += size
		}
		out.WriteString(r.word(s[i:j]))
		i = j
	}
	return out.String()
}

// word replaces a known word, else its known parts.
func (r redactor) word(w string) string {
	if r.known[w] || r.known[strings.TrimRight(w, ".-/+")] {
		return redactedPatient
	}
	if !strings.ContainsAny(w, "-./+") {
		return w
	}
	var out strings.Builder
	start := 0
	for k := 0; k <= len(w); k++ {
		if k == len(w) || strings.IndexByte("-./+", w[k]) >= 0 {
			part := w[start:k]
			if r.known[part] {
				out.WriteString(redactedPatient)
			} else {
				out.WriteString(part)
			}
			if k < len(w) {
				out.WriteByte(w[k])
			}
			start = k + 1
		}
	}
	return out.String()
}
