package device

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/mesi/mconnect/app/domain"
)

// TestLANAPIDocumentsEveryField: every key the tablets can receive in a
// worklist or an appointment — of a fully populated order, readable texts
// and the assigned location included — is declared in docs/lan-api.yaml.
// (The schemas allow more properties, so response validation alone would
// not notice an undocumented one.)
func TestLANAPIDocumentsEveryField(t *testing.T) {
	loadSpec(t, "http://hub")
	body, _, err := encodeWorklist("cardio", WorklistAnswer{Orders: []domain.Order{fullOrder(), partialOrder()}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	appt, err := json.Marshal(AppointmentOf(fullOrder()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		body []byte
	}{{"/worklist", body}, {"/appointments/{id}", appt}} {
		op := specDoc.Paths.Value(tc.path).Get
		schema := op.Responses.Status(200).Value.Content["application/json"].Schema.Value
		var v any
		if err := json.Unmarshal(tc.body, &v); err != nil {
			t.Fatal(err)
		}
		var missing []string
		undocumented(v, schema, tc.path, &missing)
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("GET %s sends keys docs/lan-api.yaml does not declare:\n%s", tc.path, strings.Join(missing, "\n"))
		}
	}
	// The new fields are really there to be checked.
	if !strings.Contains(string(appt), `"assignedLocation":{`) || !strings.Contains(string(appt), `"text":"once"`) {
		t.Fatalf("the full appointment lacks the readable fields: %s", appt)
	}
}

func undocumented(v any, s *openapi3.Schema, at string, missing *[]string) {
	if s == nil {
		return
	}
	props := map[string]*openapi3.SchemaRef{}
	collect(s, props)
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			p, ok := props[k]
			if !ok {
				if s.AdditionalProperties.Schema != nil {
					undocumented(child, s.AdditionalProperties.Schema.Value, at+"."+k, missing)
					continue
				}
				if s.AdditionalProperties.Has != nil && *s.AdditionalProperties.Has && len(props) == 0 {
					continue // a free map (meta)
				}
				*missing = append(*missing, at+"."+k)
				continue
			}
			undocumented(child, p.Value, at+"."+k, missing)
		}
	case []any:
		if s.Items != nil {
			for _, child := range x {
				undocumented(child, s.Items.Value, at+"[]", missing)
			}
		}
	}
}

// collect gathers the properties of s and of the schemas it combines.
func collect(s *openapi3.Schema, into map[string]*openapi3.SchemaRef) {
	for k, p := range s.Properties {
		into[k] = p
	}
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		for _, r := range group {
			if r.Value != nil {
				collect(r.Value, into)
			}
		}
	}
}
