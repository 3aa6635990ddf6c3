package hl7

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mesi/mconnect/app/domain"
)

// plusOne is the display zone of the readable-text tests.
var plusOne = time.FixedZone("UTC+1", 3600)

// TestReadableValues renders each value of testdata/readable/values.tsv by
// its data type (or field key) and compares the text.
func TestReadableValues(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("testdata", "readable", "values.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for line := 0; sc.Scan(); {
		line++
		row := sc.Text()
		if row == "" || strings.HasPrefix(row, "#") {
			continue
		}
		cols := strings.Split(row, "\t")
		if len(cols) != 3 {
			t.Fatalf("values.tsv:%d: %d columns, want 3", line, len(cols))
		}
		what, raw, want := cols[0], cols[1], cols[2]
		if strings.HasPrefix(want, `"`) {
			if want, err = strconv.Unquote(want); err != nil {
				t.Fatalf("values.tsv:%d: %v", line, err)
			}
		}
		field := parseField(raw, StandardDelimiters())
		var got string
		if strings.Contains(what, "-") {
			got = FieldText(what, field, plusOne)
		} else {
			got = Readable(field, DataType(what), plusOne)
		}
		if got != want {
			t.Errorf("values.tsv:%d: %s %q = %q, want %q", line, what, raw, got, want)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Errorf("only %d cases read", n)
	}
}

// TestReadableCap: a value over the display cap is cut on a character
// boundary and the cut is marked; one at the cap is kept whole.
func TestReadableCap(t *testing.T) {
	t.Parallel()
	at := strings.Repeat("ž", MaxTextRunes)
	if got := Readable(Field{{{at}}}, TypeST, nil); got != at {
		t.Errorf("value of exactly %d runes changed", MaxTextRunes)
	}
	long := strings.Repeat("ab ", 400) + "end"
	got := Readable(Field{{{long}}}, TypeFT, nil)
	if n := utf8.RuneCountInString(got); n > MaxTextRunes || n < MaxTextRunes-2 {
		t.Errorf("cut to %d runes", n)
	}
	if !strings.HasSuffix(got, "…") || strings.Contains(got, "end") || strings.HasSuffix(got, " …") {
		t.Errorf("cut not marked: ...%q", got[len(got)-12:])
	}
	// Many repetitions: the joined text is capped too.
	var f Field
	for range 300 {
		f = append(f, Repetition{{"Novak"}, {"Janez"}})
	}
	if got := Readable(f, TypeXPN, nil); utf8.RuneCountInString(got) != MaxTextRunes || !strings.HasSuffix(got, "…") {
		t.Errorf("300 names: %d runes", utf8.RuneCountInString(got))
	}
}

func TestFieldType(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]DataType{
		"PID-5": TypeXPN, "PID-11": TypeXAD, "PID-13": TypeXTN, "PID-10": TypeCE, "PID-3": TypeCX, "PID-39": TypeCWE,
		"PV1-3": TypePL, "PV1-7": TypeXCN, "PV1-44": TypeTS, "PV1-52": TypeXCN, "ORC-2": TypeEI, "ORC-7": TypeTQ,
		"ORC-7.4": TypeTS, "ORC-21": TypeXON, "ORC-31": TypeCWE, "OBR-4": TypeCE, "OBR-27": TypeTQ, "OBR-34": TypeNDL,
		"OBR-50": TypeCWE, "MSH-7": TypeTS, "NTE-3": TypeFT,
		"PID-40": "", "PV1-53": "", "ZDS-1": "", "PID": "", "PID-x": "", "PID-0": "",
	} {
		if got := FieldType(key); got != want {
			t.Errorf("FieldType(%q) = %q, want %q", key, got, want)
		}
	}
}

// TestORMReadableText maps the held-out-style orders of testdata/readable and
// checks the texts a nurse reads on the tablet, and the assigned location.
func TestORMReadableText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		location domain.Location
		place    string
		text     map[string]string
	}{
		{"amb_room_bed_orm.hl7", domain.Location{PointOfCare: "AMB", Room: "101", Bed: "1"}, "AMB, room 101, bed 1",
			map[string]string{
				"PV1-3":  "AMB, room 101, bed 1",
				"PID-13": "(217) 555-0100 (home); janez.novak@example.com",
				"PID-14": "(217) 555-0199 (work)",
				"PID-11": "12 Main St, 62701 Springfield, IL, US",
				"PID-10": "Black or African American (2054-5)",
				"PID-5":  "Mr Janez Novak, MD",
				"PID-8":  "male",
				"PID-7":  "1970-01-31",
				"PV1-7":  "Janez Zdravnik (1234)",
				"ORC-12": "Janez Zdravnik (1234)",
				"ORC-2":  "PL-N-1 (NEXTGEN)",
				"PID-3":  "PL-N-1 (NEXTGEN, medical record number)",
				"ORC-7":  "routine, start 2024-09-18 11:00",
				"MSH-7":  "2024-09-18 10:15",
				"OBR-34": "Tom Tech (T1)",
				"NTE-3":  `Bring previous ECG \ results`,
			}},
		{"radunit_facility_orm.hl7", domain.Location{PointOfCare: "RADUnit01", Room: "Room01", Facility: "GHH",
			Building: "Main", Floor: "2"}, "RADUnit01, Room01, building Main, floor 2, GHH",
			map[string]string{
				"PID-5":  "Herr Ludwig van Beethoven, Dr. med.; Lulu Spitzname",
				"PID-3":  "4711 (GHH, patient internal identifier); S-1^2 (SSA, social security number)",
				"PID-11": "Bonngasse 20, Hinterhaus, 53111 Bonn, NRW, DE (home); Postfach 1&2, 1010 Wien, AT (mailing)",
				"PID-13": "+49 (228) 981750 ext. 12 (home, mobile); ludwig&co@example.de",
				"PID-29": "1827-03-26 16:00",
				"MSH-7":  "2025-01-02 07:30",
				"PV1-44": "2025-01-02 07:00",
				"PV1-45": "2025-01-03",
				"PV1-7":  "Prof. Rita Röntgen (0815)",
				"ORC-8":  "placer P-1 (RIS), filler F-1 (PACS)",
				"ORC-21": "Gemeinschaftspraxis Haydn (GHH-ORG)",
				"OBR-4":  "Chest X-ray (XR-CHEST)",
				"OBR-13": "Pain\nsince Monday",
				"OBR-15": "Blood venous (BLDV), draw slowly, Left arm (LA)",
				"OBR-46": "ABC",
			}},
		{"description_only_orm.hl7", domain.Location{Description: "Oak Ridge Big Name Location"}, "Oak Ridge Big Name Location",
			map[string]string{
				"PV1-3":  "Oak Ridge Big Name Location",
				"PID-13": "(555) 0101 (home); unformatted; 555-0199 (fax)",
				"PID-15": "Spanish",
				"ORC-12": "Dora Doc (7); Ben Backup (8)",
				"ORC-2":  "EPIC",
				"ORC-14": "ask for the ward",
				"OBR-6":  "2024-03-01 18:00",
				"OBR-27": "start 2024-03-01 18:00",
				"MSH-7":  "2024-03-01 17:00",
			}},
	}
	m := testMapper(false)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			_, orders, err := m.Decode(readTestdata(t, filepath.Join("readable", tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			o := orders[0]
			if o.Visit.AssignedLocation != tt.location || o.Visit.AssignedLocation.String() != tt.place {
				t.Errorf("location %+v %q, want %+v %q", o.Visit.AssignedLocation, o.Visit.AssignedLocation.String(), tt.location, tt.place)
			}
			for key, want := range tt.text {
				if got := fieldTextOf(o, key); got != want {
					t.Errorf("%s text = %q, want %q", key, got, want)
				}
			}
		})
	}
}

func fieldTextOf(o domain.Order, key string) string {
	for _, f := range o.Fields {
		if f.Key == key {
			return f.Text
		}
	}
	return "(absent)"
}

// TestNoSeparatorsInOrders is the check on every appointment the hub builds
// from the ORMs in the repository's testdata and in the real-world corpus
// (../shared/corpus/real/hl7): no structured value (patient name, address,
// IDs, provider, location parts ...) and no field's text holds a ^ & or ~,
// unless the message itself carried that character as data (an escape
// sequence such as \T\); every field that has a value has a text.
func TestNoSeparatorsInOrders(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	sets := []struct {
		name  string
		globs []string
	}{
		{"testdata", []string{
			filepath.Join(root, "connectors", "hl7", "testdata", "*.hl7"),
			filepath.Join(root, "connectors", "hl7", "testdata", "readable", "*.hl7"),
			filepath.Join(root, "connectors", "hl7net", "testdata", "*.hl7"),
			filepath.Join(root, "testdata", "orders", "*.hl7"),
		}},
		{"real corpus", []string{filepath.Join(root, "..", "shared", "corpus", "real", "hl7", "*.hl7")}},
	}
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			t.Parallel()
			var files []string
			for _, g := range set.globs {
				m, err := filepath.Glob(g)
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, m...)
			}
			if set.name == "real corpus" && len(files) == 0 {
				t.Skipf("real corpus not present at %s", filepath.Dir(set.globs[0]))
			}
			mapped, orders := 0, 0
			for _, file := range files {
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				mp := testMapper(strings.Contains(filepath.Base(file), "weda"))
				msg, got, err := mp.Decode(data)
				if err != nil {
					continue // not an ORM the hub takes (ORU, ADT, reply codes, malformed): nothing is shown
				}
				mapped++
				orders += len(got)
				literals := literalSeparators(msg)
				for _, o := range got {
					for _, bad := range separatorLeaks(o, literals) {
						t.Errorf("%s: %s", filepath.Base(file), bad)
					}
				}
			}
			t.Logf("%d files, %d mapped to %d orders", len(files), mapped, orders)
			if mapped == 0 {
				t.Errorf("no file of %s mapped to an order", set.name)
			}
		})
	}
}

func blankOrSeparator(r rune) bool {
	return r == '^' || r == '&' || r == '~' || unicode.IsSpace(r) || unicode.IsControl(r)
}

// moduleRoot is the repository root: the folder above with go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("go.mod not found above the package")
		}
		dir = up
	}
}

// literalSeparators lists the values of a message (after escapes were
// resolved) that hold a ^ & or ~ as data: escaped in the message, or
// ordinary characters where the message declared other delimiters.
func literalSeparators(m *Message) []string {
	var out []string
	for _, s := range m.Segments {
		for i, f := range s.Fields {
			if s.Name == "MSH" && i <= 2 {
				continue // the delimiters themselves
			}
			for _, r := range f {
				for _, c := range r {
					for _, v := range c {
						if strings.ContainsAny(v, "^&~") {
							out = append(out, v, clean(v, false), clean(v, true))
						}
					}
				}
			}
		}
	}
	return out
}

// separatorLeaks walks every string of the order a person sees and reports
// those holding a separator that is not part of a literal value. Not
// walked: Meta (values for the answer), Field.Value (kept exactly) and
// Visit.Location (PV1-3 as received, for the answer).
func separatorLeaks(o domain.Order, literals []string) []string {
	var out []string
	check := func(path, s string) {
		rest := s
		for _, l := range literals {
			rest = strings.ReplaceAll(rest, l, "")
		}
		if strings.ContainsAny(rest, "^&~") {
			out = append(out, path+" = "+strconv.Quote(s))
		}
	}
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			check(path, v.String())
		case reflect.Struct:
			tp := v.Type()
			for i := range v.NumField() {
				name := path + "." + tp.Field(i).Name
				switch name {
				case "Order.Meta", "Order.Visit.Location":
					continue
				}
				walk(name, v.Field(i))
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(path+"["+strconv.Itoa(i)+"]", v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(path+"["+k.String()+"]", v.MapIndex(k))
			}
		}
	}
	for _, f := range o.Fields {
		path := "Fields[" + f.Key + "]"
		check(path+".Text", f.Text)
		if strings.TrimFunc(f.Value, blankOrSeparator) != "" && f.Text == "" {
			out = append(out, path+" has a value but no text")
		}
	}
	o.Fields = nil
	walk("Order", reflect.ValueOf(o))
	check("Order.Visit.AssignedLocation.String()", o.Visit.AssignedLocation.String())
	return out
}
