package setup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// document is a config file as generic JSON, edited key by key (dotted
// paths: "gdt.ftp.listen"). Numbers stay json.Number, so a value nobody
// touched is written back as it was read. Secrets typed by a person are
// held apart (pending) until the save stores them in the keyring; the
// JSON only ever holds the reference.
type document struct {
	root    map[string]any
	pending map[string]string // key → secret typed, not yet in the keyring
	numeric map[string]bool   // keys that held a number (stay numbers while edited)
}

func parseDocument(b []byte) (*document, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	if root == nil {
		return nil, fmt.Errorf("configuration: not a JSON object")
	}
	return &document{root: root, pending: map[string]string{}, numeric: map[string]bool{}}, nil
}

// get returns the value at key.
func (d *document) get(key string) (any, bool) {
	var cur any = d.root
	for _, part := range strings.Split(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// text returns the value at key as the text a field shows.
func (d *document) text(key string) string {
	v, _ := d.get(key)
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	case []any:
		var lines []string
		for _, e := range x {
			lines = append(lines, fmt.Sprint(e))
		}
		return strings.Join(lines, "\n")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (d *document) boolean(key string) bool {
	v, _ := d.get(key)
	b, _ := v.(bool)
	return b
}

// set puts v at key, creating the objects on the way.
func (d *document) set(key string, v any) {
	parts := strings.Split(key, ".")
	m := d.root
	for _, part := range parts[:len(parts)-1] {
		next, ok := m[part].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[part] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

// setText sets a field's text, keeping a number a number where the key
// held one and the text is a number.
func (d *document) setText(key, s string) {
	if old, ok := d.get(key); ok {
		if _, isNum := old.(json.Number); isNum {
			d.numeric[key] = true
		}
	}
	if d.numeric[key] {
		if _, err := json.Number(s).Float64(); err == nil {
			d.set(key, json.Number(s))
			return
		}
	}
	d.set(key, s)
}

// setList sets a list of strings from lines (empty lines dropped).
func (d *document) setList(key, text string) {
	list := []any{}
	for _, l := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == ',' }) {
		if l = strings.TrimSpace(l); l != "" {
			list = append(list, l)
		}
	}
	d.set(key, list)
}

// ehr is the EHR the document is for.
func (d *document) ehr() string { return d.text("ehr") }

// secretName is the keyring name a secret at key is stored under: the one
// its reference names, else one made from the EHR and the key.
func (d *document) secretName(key string) string {
	if ref := d.text(key); strings.HasPrefix(ref, "keyring:") && len(ref) > len("keyring:") {
		return strings.TrimPrefix(ref, "keyring:")
	}
	name := d.ehr() + "-" + strings.ReplaceAll(key, ".", "-")
	return strings.ToLower(name)
}

// setSecret records a typed secret and makes key a keyring reference;
// an empty value keeps the reference there was.
func (d *document) setSecret(key, value string) {
	if value == "" {
		delete(d.pending, key)
		return
	}
	name := d.secretName(key)
	d.pending[key] = value
	d.set(key, "keyring:"+name)
}

// pendingSecrets lists the typed secrets as keyring name → value, in key
// order.
func (d *document) pendingSecrets() (names, values []string) {
	keys := make([]string, 0, len(d.pending))
	for k := range d.pending {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		names = append(names, d.secretName(k))
		values = append(values, d.pending[k])
	}
	return names, values
}

// marshal writes the JSON (objects' keys sorted; the hub writes its own
// order when it saves).
func (d *document) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(d.root, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("configuration: encode: %w", err)
	}
	return append(b, '\n'), nil
}

// leaves lists the keys below prefix that hold a scalar or a list of
// scalars, in key order (the fields Settings shows for what the
// descriptor table does not describe).
func (d *document) leaves(prefix string) []string {
	v, ok := d.get(prefix)
	if !ok {
		return nil
	}
	var out []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			ks := make([]string, 0, len(x))
			for k := range x {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			for _, k := range ks {
				if strings.Contains(k, ".") {
					continue // a map key with a dot cannot be a dotted path
				}
				walk(key+"."+k, x[k])
			}
		case []any:
			for _, e := range x {
				if _, ok := e.(string); !ok {
					return
				}
			}
			out = append(out, key)
		default:
			out = append(out, key)
		}
	}
	walk(prefix, v)
	return out
}

// problemField returns the field a config problem is about: its key
// without list indexes ("hl7.whitelist[1]" → "hl7.whitelist").
func problemField(key string) string {
	if i := strings.IndexByte(key, '['); i >= 0 {
		key = key[:i]
	}
	return key
}
