package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Section is one connector's config section ("hl7", "gdt", ...), owned by
// the connector package that uses it.
type Section interface {
	// ApplyDefaults fills the values left empty.
	ApplyDefaults()
	// Validate reports every problem through ck, with keys relative to the
	// section ("listen", "ftp.user"); ck prefixes the section's key.
	Validate(ck *Checker)
}

// Schema tells the config which connector sections exist and which an EHR
// uses. The connector registry implements it; tests may use a small one.
type Schema interface {
	// SectionsFor returns the section keys the EHR's profile uses (of those
	// this build provides), or an error for an unknown EHR.
	SectionsFor(ehr string) ([]string, error)
	// NewSection returns an empty section of the given key for the EHR,
	// ready to be decoded into; ok is false for a key no connector owns.
	NewSection(ehr, key string) (s Section, ok bool)
}

// coreKeys are the top-level keys that are not connector sections.
var coreKeys = map[string]bool{"ehr": true, "hub": true, "log": true, "device": true, "delivery": true, "update": true, "groups": true, "retention": true}

// decode reads the top-level object key by key, so that every error keeps
// its line and column in the whole file, decodes the core keys into the
// Config and keeps the others for the sections.
func decode(data []byte, schema Schema) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, describeJSONError(data, 0, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("line 1: the file must hold one JSON object")
	}
	type raw struct {
		off int64
		msg json.RawMessage
	}
	core := map[string]raw{}
	sections := map[string]raw{}
	var order []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, describeJSONError(data, 0, err)
		}
		key, _ := tok.(string)
		var msg json.RawMessage
		if err := dec.Decode(&msg); err != nil {
			return nil, describeJSONError(data, 0, err)
		}
		// The value ends at InputOffset; it starts len(msg) bytes before.
		r := raw{off: dec.InputOffset() - int64(len(msg)), msg: msg}
		if _, dup := core[key]; dup {
			return nil, fmt.Errorf("%s: the key appears twice", key)
		}
		if _, dup := sections[key]; dup {
			return nil, fmt.Errorf("%s: the key appears twice", key)
		}
		if coreKeys[key] {
			core[key] = r
		} else {
			sections[key] = r
			order = append(order, key)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, describeJSONError(data, 0, err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("unexpected content after the JSON object")
	}
	var c Config
	strict := func(key string, r raw, into any) error {
		d := json.NewDecoder(bytes.NewReader(r.msg))
		d.DisallowUnknownFields()
		if err := d.Decode(into); err != nil {
			k := badKey(r.msg, into, err)
			err = describeJSONError(data, r.off, err)
			if k != "" {
				// A value its type refused (a duration that is none):
				// encoding/json does not say which key held it.
				err = fmt.Errorf("%s: %w", k, err)
			}
			return prefixKey(key, err)
		}
		return nil
	}
	targets := map[string]any{"ehr": &c.EHR, "hub": &c.Hub, "log": &c.Log, "device": &c.Device, "delivery": &c.Delivery, "update": &c.Update, "groups": &c.Groups, "retention": &c.Retention}
	for _, k := range []string{"ehr", "hub", "log", "device", "delivery", "update", "groups", "retention"} {
		if r, ok := core[k]; ok {
			if err := strict(k, r, targets[k]); err != nil {
				return nil, err
			}
		}
	}
	c.Hub.LegacyAutostart = nil
	var probs []Problem
	for _, k := range order {
		if schema == nil {
			probs = append(probs, Problem{Key: k, Problem: "unknown key (check its spelling against docs/CONFIG.md)"})
			continue
		}
		sec, ok := schema.NewSection(c.EHR, k)
		if !ok {
			probs = append(probs, Problem{Key: k, Problem: "unknown key (check its spelling against docs/CONFIG.md)"})
			continue
		}
		if err := strict(k, sections[k], sec); err != nil {
			return nil, err
		}
		if c.Sections == nil {
			c.Sections = map[string]Section{}
		}
		c.Sections[k] = sec
	}
	if len(probs) > 0 {
		return nil, &ValidationError{Problems: probs}
	}
	return &c, nil
}

// badKey finds the key of msg (an object decoded into into) whose value
// failed with err when err names no key itself: each key is decoded alone
// into a fresh value of into's type, and the first, in the file's order,
// that fails is it. "" when err names its key or none fails alone.
func badKey(msg json.RawMessage, into any, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) || strings.HasPrefix(err.Error(), "json: unknown field") {
		return ""
	}
	t := reflect.TypeOf(into)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return ""
	}
	d := json.NewDecoder(bytes.NewReader(msg))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if d.Decode(&v) != nil {
			return ""
		}
		one, merr := json.Marshal(map[string]json.RawMessage{k: v})
		if merr != nil {
			return ""
		}
		if json.Unmarshal(one, reflect.New(t.Elem()).Interface()) != nil {
			return k
		}
	}
	return ""
}

// prefixKey puts the top-level key before a decoding error that does not
// name its field yet.
func prefixKey(key string, err error) error {
	if strings.HasPrefix(err.Error(), key) {
		return err
	}
	return fmt.Errorf("%s.%w", key, err)
}

// validateSections checks that exactly the EHR's sections are present and
// lets each validate itself.
func (c *Config) validateSections(schema Schema, ck *Checker) {
	if schema == nil {
		return
	}
	want, err := schema.SectionsFor(c.EHR)
	if err != nil {
		return // reported on "ehr"
	}
	wanted := map[string]bool{}
	for _, k := range want {
		wanted[k] = true
		if _, ok := c.Sections[k]; !ok {
			ck.Add(k, "missing: the %s connection needs it (see `mconnect config example --ehr %s`)", c.EHR, c.EHR)
		}
	}
	keys := make([]string, 0, len(c.Sections))
	for k := range c.Sections {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !wanted[k] {
			ck.Add(k, "not used by ehr %q; remove it", c.EHR)
			continue
		}
		c.Sections[k].Validate(ck.In(k))
	}
}

// SectionOf returns the config's section of type T under key, or nil.
func SectionOf[T Section](c *Config, key string) T {
	var zero T
	if c == nil {
		return zero
	}
	if s, ok := c.Sections[key].(T); ok {
		return s
	}
	return zero
}

// KeyError is a problem with one config key found while building the
// connections (a secret that cannot be resolved, a value a connector
// refuses).
type KeyError struct {
	Key string
	Err error
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *KeyError) Unwrap() error { return e.Err }
