package hl7

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mesi/mconnect/app/domain"
)

// MaxTextRunes caps a readable value; a longer one is cut and ends in "…".
const MaxTextRunes = 500

// FieldText renders the value of the field (or component) at key — "PID-5",
// "ORC-7.4" — for people: by the data type FieldType gives, with the words of
// the HL7 table behind a coded field where the hub knows them (PID-8 "M" is
// "male"). Times without an offset are read in loc and every time is shown in
// loc (time.Local when nil).
func FieldText(key string, f Field, loc *time.Location) string {
	if words, ok := codeTables[key]; ok && len(f) == 1 {
		// The code is the first component; some senders add the table's
		// text and name as a CWE would ("F^Female^HL70001").
		if w, ok := words[strings.ToUpper(comps(f[0])(1))]; ok {
			return w
		}
	}
	return Readable(f, FieldType(key), loc)
}

// Readable renders a field value as text for people, reading it as the HL7
// data type typ: names as "Janez Novak", providers as "Janez Zdravnik
// (1234)", addresses as "12 Main St, 62701 Springfield, IL, US", phones with
// their use ("(217) 555-0100 (home)"), codes as "Black or African American
// (2054-5)", identifiers as "PL-N-1 (NEXTGEN)", times as "2024-03-15 09:30"
// in loc, locations as "AMB, room 101, bed 1", timing as "routine, start
// 2024-03-15 09:00". Repetitions are joined with "; ".
//
// It never fails: a type it does not know, and a value that does not read as
// its type, is shown as its text with the components joined by spaces. The
// result holds none of the message's separators (a literal one that an
// escape sequence produced excepted) and no control characters but line
// breaks in text types, and is cut to MaxTextRunes.
func Readable(f Field, typ DataType, loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	keepNL := typ == TypeFT || typ == TypeTX || typ == TypeST
	var out []string
	size := 0
	for _, r := range f {
		if size > 4*MaxTextRunes {
			break // already over the cap, whatever follows
		}
		s := ""
		if render := renderers[typ]; render != nil {
			s = render(r, loc)
		}
		if s == "" {
			s = plainRep(r, keepNL)
		}
		if s != "" {
			out = append(out, s)
			size += len(s) + 2
		}
	}
	return shorten(strings.Join(out, "; "), MaxTextRunes)
}

// renderers read one repetition as their type; "" means "show it plainly".
var renderers = map[DataType]func(Repetition, *time.Location) string{
	TypeCE: ceRep, TypeCWE: ceRep, TypeCNE: ceRep, TypeID: codeRep, TypeIS: codeRep,
	TypeDT: tsRep, TypeDTM: tsRep, TypeTS: tsRep,
	TypeCQ:  func(r Repetition, _ *time.Location) string { return cqText(comps(r)(1), subs(comp(r, 2))) },
	TypeCX:  func(r Repetition, _ *time.Location) string { return cxText(r) },
	TypeDLN: dlnText,
	TypeEI:  func(r Repetition, _ *time.Location) string { return eiText(comps(r)) },
	TypeEIP: func(r Repetition, _ *time.Location) string {
		return joinNonEmpty(", ", labelled("placer", eiText(subs(comp(r, 1)))), labelled("filler", eiText(subs(comp(r, 2)))))
	},
	TypeFC:  fcText,
	TypeHD:  func(r Repetition, _ *time.Location) string { return hdText(comps(r)) },
	TypeNDL: ndlText,
	TypePL:  func(r Repetition, _ *time.Location) string { return ReadLocation(r).String() },
	TypeSPS: func(r Repetition, _ *time.Location) string { return spsText(r) },
	TypeTQ:  tqText,
	TypeXAD: func(r Repetition, _ *time.Location) string { return xadText(r) },
	TypeXCN: func(r Repetition, _ *time.Location) string { return xcnPlain(r) },
	TypeXON: func(r Repetition, _ *time.Location) string { return xonText(comps(r)) },
	TypeXPN: func(r Repetition, _ *time.Location) string { return xpnText(r) },
	TypeXTN: func(r Repetition, _ *time.Location) string { return xtnText(comps(r)) },
}

func ceRep(r Repetition, _ *time.Location) string { return ceText(comps(r)) }

// codeRep reads a coded value sent with its text, as a CWE would be
// ("F^Female^HL70001"); a bare code is shown plainly.
func codeRep(r Repetition, _ *time.Location) string {
	if len(r) < 2 {
		return ""
	}
	return ceText(comps(r))
}

func tsRep(r Repetition, loc *time.Location) string { return timeText(comps(r)(1), loc) }

// parts reads numbered parts (components or subcomponents) counting from 1;
// a missing part is "".
type parts func(i int) string

// comps reads the components of r, each with its subcomponents (if any)
// joined by spaces, cleaned to one line.
func comps(r Repetition) parts {
	return func(i int) string {
		if i < 1 || i > len(r) {
			return ""
		}
		return plainComp(r[i-1], false)
	}
}

// subs reads the subcomponents of a component, cleaned to one line.
func subs(c Component) parts {
	return func(i int) string {
		if i < 1 || i > len(c) {
			return ""
		}
		return clean(c[i-1], false)
	}
}

func comp(r Repetition, i int) Component {
	if i < 1 || i > len(r) {
		return nil
	}
	return r[i-1]
}

func plainRep(r Repetition, keepNL bool) string {
	var out []string
	for _, c := range r {
		if s := plainComp(c, keepNL); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

func plainComp(c Component, keepNL bool) string {
	if len(c) == 1 {
		return clean(c[0], keepNL)
	}
	var out []string
	for _, s := range c {
		if s = clean(s, keepNL); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// clean trims s and turns runs of white space and control characters into
// one space (line breaks into one "\n" when keepNL).
func clean(s string, keepNL bool) string {
	simple := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			simple = false
			break
		}
	}
	if simple && !strings.Contains(s, "  ") {
		return strings.TrimSpace(s)
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s))
	pending := rune(0) // ' ' or '\n' waiting to be written before the next character
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			if keepNL {
				pending = '\n'
			} else if pending == 0 {
				pending = ' '
			}
		case unicode.IsSpace(r) || unicode.IsControl(r):
			if pending == 0 {
				pending = ' '
			}
		default:
			if pending != 0 && b.Len() > 0 {
				b.WriteRune(pending)
			}
			pending = 0
			b.WriteRune(r)
		}
	}
	return b.String()
}

// shorten cuts s to at most n runes, marking the cut with "…".
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i < len(s) && count < n-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	return strings.TrimRightFunc(s[:i], unicode.IsSpace) + "…"
}

func joinNonEmpty(sep string, vals ...string) string {
	out := vals[:0:0]
	for _, v := range vals {
		if v != "" {
			out = append(out, v)
		}
	}
	return strings.Join(out, sep)
}

// withDetails writes "main (d1, d2)", or the details alone without a main.
func withDetails(main string, details ...string) string {
	d := joinNonEmpty(", ", details...)
	switch {
	case main == "":
		return d
	case d == "":
		return main
	}
	return main + " (" + d + ")"
}

func labelled(label, v string) string {
	if v == "" {
		return ""
	}
	return label + " " + v
}

// word looks code up in a table of meanings; an unknown code stays itself.
func word(table map[string]string, code string) string {
	if w, ok := table[strings.ToUpper(code)]; ok {
		return w
	}
	return code
}

// timeText renders an HL7 TS/DTM/DT value to the precision it was sent
// with: "2024", "2024-03", "2024-03-15", "2024-03-15 09:30",
// "2024-03-15 09:30:15". A value with a time of day is shown in loc (after
// converting from its own offset); a date alone is never shifted. A value
// that is not a time is shown as sent.
func timeText(s string, loc *time.Location) string {
	t, err := ParseTime(s, loc)
	if err != nil || t.IsZero() {
		return s
	}
	body := s
	if i := strings.IndexAny(body, "+-."); i >= 0 {
		body = body[:i]
	}
	switch len(body) {
	case 4:
		return t.Format("2006")
	case 6:
		return t.Format("2006-01")
	case 8:
		return t.Format("2006-01-02")
	}
	return FormatLocalTime(t, loc)
}

// FormatLocalTime writes t in loc for people: "2024-03-15 09:30", with
// seconds when they are not zero (time.Local when loc is nil).
func FormatLocalTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	t = t.In(loc)
	if t.Second() != 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04")
}

// ceText reads CE/CWE/CNE: "text (identifier)", the alternate pair when the
// first is empty, CWE-9 original text as the last resort.
func ceText(p parts) string {
	code, text := p(1), p(2)
	if code == "" && text == "" {
		code, text = p(4), p(5)
	}
	if text == "" {
		text = p(9)
	}
	switch {
	case text == "":
		return code
	case strings.EqualFold(text, code):
		return text
	}
	return withDetails(text, code)
}

// hdText reads HD: the namespace ID, with the universal ID after it.
func hdText(p parts) string {
	ns, uid := p(1), p(2)
	if ns == "" {
		return uid
	}
	return withDetails(ns, uid)
}

// hdShort reads HD as one name: the namespace ID, else the universal ID.
func hdShort(p parts) string {
	if v := p(1); v != "" {
		return v
	}
	return p(2)
}

// eiText reads EI: "entity ID (namespace or universal ID)".
func eiText(p parts) string {
	id := p(1)
	if id == "" {
		return ""
	}
	ns := p(2)
	if ns == "" {
		ns = p(3)
	}
	return withDetails(id, ns)
}

// identifierTypes are common HL7 table 0203 identifier type codes.
var identifierTypes = map[string]string{
	"AN": "account number", "DL": "driver's licence", "EI": "employee number", "HC": "health card number",
	"JHN": "jurisdictional health number", "MA": "Medicaid number", "MC": "Medicare number",
	"MR": "medical record number", "NH": "national health plan number", "NI": "national identifier",
	"NPI": "national provider identifier", "PI": "patient internal identifier", "PN": "person number",
	"PPN": "passport number", "PRN": "provider number", "PT": "patient external identifier",
	"SS": "social security number", "VN": "visit number",
}

// cxText reads CX: "ID (authority, type)".
func cxText(r Repetition) string {
	p := comps(r)
	id := p(1)
	if id == "" {
		return ""
	}
	auth := hdShort(subs(comp(r, 4)))
	if auth == "" {
		auth = hdShort(subs(comp(r, 6)))
	}
	typ := p(5)
	if typ != "" {
		typ = word(identifierTypes, typ)
	}
	return withDetails(id, auth, typ)
}

// familyName reads FN (v2.4+: surname&own surname prefix&own surname&...;
// v2.3: family name&last name prefix): the surname, with a v2.3 prefix
// ("van") put before it.
func familyName(c Component) string {
	p := subs(c)
	surname, prefix := p(1), p(2)
	if surname == "" {
		var rest []string
		for i := 2; i <= len(c); i++ {
			rest = append(rest, p(i))
		}
		return joinNonEmpty(" ", rest...)
	}
	if prefix != "" && p(3) == "" && !hasFold(surname, prefix) {
		return prefix + " " + surname
	}
	return surname
}

func hasFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// nameText writes a person's name as people write it: prefix, given,
// middle, family, suffix, then the degree after a comma.
func nameText(prefix, given, middle, family, suffix, degree string) string {
	n := joinNonEmpty(" ", prefix, given, middle, family, suffix)
	if degree == "" || n == "" {
		return n
	}
	return n + ", " + degree
}

// xpnText reads XPN: family^given^middle^suffix^prefix^degree.
func xpnText(r Repetition) string {
	p := comps(r)
	return nameText(p(5), p(2), p(3), familyName(comp(r, 1)), p(4), p(6))
}

// xcnPlain reads XCN: ID^family^given^middle^suffix^prefix^degree as
// "Janez Zdravnik (1234)".
func xcnPlain(r Repetition) string {
	p := comps(r)
	return withDetails(nameText(p(6), p(3), p(4), familyName(comp(r, 2)), p(5), p(7)), p(1))
}

// cnnText reads CNN (subcomponents of NDL-1):
// ID&family&given&middle&suffix&prefix&degree.
func cnnText(p parts) string {
	return withDetails(nameText(p(6), p(3), p(4), p(2), p(5), p(7)), p(1))
}

// xonText reads XON: "organization name (ID)".
func xonText(p parts) string {
	id := p(10)
	if id == "" {
		id = p(3)
	}
	if p(1) == "" {
		return ""
	}
	return withDetails(p(1), id)
}

// addressTypes are HL7 table 0190 address types.
var addressTypes = map[string]string{
	"B": "business", "BA": "bad address", "BDL": "birth delivery location", "BI": "billing",
	"BR": "residence at birth", "C": "current or temporary", "F": "country of origin", "H": "home",
	"L": "legal address", "M": "mailing", "N": "birth name", "O": "office", "P": "permanent",
	"RH": "registry home",
}

// xadText reads XAD: street, other designation, "postal code city", state,
// country, and the address type when it is a known one:
// "12 Main St, 62701 Springfield, IL, US (home)".
func xadText(r Repetition) string {
	p := comps(r)
	street := subs(comp(r, 1))(1)
	if street == "" {
		sp := subs(comp(r, 1))
		street = joinNonEmpty(" ", sp(2), sp(3))
	}
	a := joinNonEmpty(", ", street, p(2), joinNonEmpty(" ", p(5), p(3)), p(4), p(6))
	if a == "" {
		return ""
	}
	if t, ok := addressTypes[strings.ToUpper(p(7))]; ok {
		return withDetails(a, t)
	}
	return a
}

// HL7 table 0201 telecommunication use codes and 0202 equipment types.
var (
	telecomUses = map[string]string{
		"ASN": "answering service", "BPN": "beeper", "EMR": "emergency", "NET": "e-mail",
		"ORN": "other home", "PRN": "home", "PRS": "personal", "VHN": "vacation home", "WPN": "work",
	}
	telecomEquipment = map[string]string{
		"BP": "beeper", "CP": "mobile", "FX": "fax", "MD": "modem", "TDD": "text phone", "TTY": "teletypewriter",
		"X.400": "X.400",
	}
)

// xtnText reads XTN: the number (or the v2.5 parts: +country (area) local
// ext.), the e-mail address, then the use and equipment in words:
// "(217) 555-0100 (home)", "041 123 456 (other home, mobile)".
func xtnText(p parts) string {
	num := p(1)
	if num == "" {
		cc := p(5)
		if cc != "" && !strings.HasPrefix(cc, "+") {
			cc = "+" + cc
		}
		area := p(6)
		if area != "" {
			area = "(" + area + ")"
		}
		num = joinNonEmpty(" ", cc, area, p(7), labelled("ext.", p(8)))
		if p(7) == "" {
			num = ""
		}
	}
	email := p(4)
	main := joinNonEmpty(", ", num, email)
	if main == "" {
		return ""
	}
	use := p(2)
	switch {
	case strings.EqualFold(use, "NET") && email != "":
		use = "" // the address says it is one
	case use != "":
		use = word(telecomUses, use)
	}
	equip := telecomEquipment[strings.ToUpper(p(3))]
	return withDetails(main, use, equip, p(9))
}

// cqText reads CQ: "quantity units" (units CE, its identifier first).
func cqText(qty string, units parts) string {
	u := units(1)
	if u == "" {
		u = units(2)
	}
	if qty == "" {
		return ""
	}
	return joinNonEmpty(" ", qty, u)
}

// fcText reads FC: "class (from date)".
func fcText(r Repetition, loc *time.Location) string {
	p := comps(r)
	if p(1) == "" {
		return ""
	}
	return withDetails(p(1), labelled("from", timeText(p(2), loc)))
}

// dlnText reads DLN: "number (issuing state, valid until date)".
func dlnText(r Repetition, loc *time.Location) string {
	p := comps(r)
	if p(1) == "" {
		return ""
	}
	return withDetails(p(1), p(2), labelled("valid until", timeText(p(3), loc)))
}

// spsText reads SPS: specimen source, additives, free text, body site, site
// modifier, collection method, role — each a CE in subcomponents.
func spsText(r Repetition) string {
	out := make([]string, 0, len(r))
	for i := 1; i <= len(r); i++ {
		if i == 3 {
			out = append(out, comps(r)(3))
			continue
		}
		out = append(out, ceText(subs(comp(r, i))))
	}
	return joinNonEmpty(", ", out...)
}

// ndlText reads NDL: the person (CNN), from/to times and the location parts.
func ndlText(r Repetition, loc *time.Location) string {
	p := comps(r)
	who := cnnText(subs(comp(r, 1)))
	when := joinNonEmpty(" ", labelled("from", timeText(p(2), loc)), labelled("to", timeText(p(3), loc)))
	where := domain.Location{PointOfCare: p(4), Room: p(5), Bed: p(6), Facility: hdShort(subs(comp(r, 7))),
		Building: p(10), Floor: p(11)}.String()
	return joinNonEmpty(", ", who, when, where)
}

// priorities are HL7 table 0027 priority codes (TQ-6, OBR-5).
var priorities = map[string]string{
	"A": "as soon as possible", "C": "callback", "P": "pre-op", "PRN": "as needed", "R": "routine",
	"S": "stat", "T": "timing critical",
}

// tqText reads TQ as far as it means something to people: priority, start,
// end, repeat interval, duration, quantity (when not 1), number of
// occurrences, condition and text: "routine, start 2024-03-15 09:00".
func tqText(r Repetition, loc *time.Location) string {
	p := comps(r)
	qty := ""
	if q := subs(comp(r, 1)); q(1) != "" && q(1) != "1" {
		qty = "quantity " + cqText(q(1), func(i int) string { return q(i + 1) })
	}
	prio := ""
	if v := p(6); v != "" {
		prio = word(priorities, v)
	}
	interval := subs(comp(r, 2))
	occ := ""
	if v := p(12); v != "" {
		occ = v + " times"
	}
	return joinNonEmpty(", ",
		prio,
		labelled("start", timeText(p(4), loc)),
		labelled("end", timeText(p(5), loc)),
		labelled("repeat", joinNonEmpty(" at ", interval(1), interval(2))),
		labelled("duration", p(3)),
		qty, occ, p(7), p(8))
}

// ReadLocation reads a PL (person location) repetition into its parts:
// point of care^room^bed^facility^status^person location type^building^
// floor^description.
func ReadLocation(r Repetition) domain.Location {
	p := comps(r)
	return domain.Location{PointOfCare: p(1), Room: p(2), Bed: p(3), Facility: hdShort(subs(comp(r, 4))),
		Building: p(7), Floor: p(8), Description: p(9)}
}

// codeTables give words for the coded fields a person meets on the tablet
// (HL7 tables 0001 sex, 0004 patient class, 0007 admission type, 0119 order
// control, 0038 order status, 0027 priority); a code not listed is shown as sent.
var codeTables = map[string]map[string]string{
	"PID-8": {"A": "ambiguous", "F": "female", "M": "male", "N": "not applicable", "O": "other", "U": "unknown",
		"W": "female", "D": "diverse"},
	"PV1-4": {"A": "accident", "C": "elective", "E": "emergency", "L": "labor and delivery", "N": "newborn",
		"R": "routine", "U": "urgent"},
	"PV1-2": {"B": "obstetrics", "C": "commercial account", "E": "emergency", "I": "inpatient", "N": "not applicable",
		"O": "outpatient", "P": "pre-admit", "R": "recurring patient", "U": "unknown"},
	"ORC-1": {"CA": "cancel order", "DC": "discontinue order", "NW": "new order", "XO": "change order",
		"SC": "status changed", "HD": "hold order", "RL": "release hold", "OC": "order cancelled", "RE": "observations to follow"},
	"ORC-5": {"A": "some results available", "CA": "cancelled", "CM": "completed", "DC": "discontinued",
		"ER": "error, order not found", "HD": "on hold", "IP": "in process", "RP": "replaced", "SC": "scheduled"},
	"OBR-5": priorities, "ORC-7.6": priorities, "OBR-27.6": priorities,
}
