package device

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mesi/mconnect/app/problem"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ResultSchema is the JSON Schema of the result part of POST /results
// (docs/lan-api.yaml refers to the same file).
//
//go:embed schema/result.schema.json
var ResultSchema []byte

const resultSchemaURL = "https://mesi.example/mconnect/schema/result.schema.json"

func compileResultSchema() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ResultSchema))
	if err != nil {
		return nil, fmt.Errorf("device: result schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(resultSchemaURL, doc); err != nil {
		return nil, fmt.Errorf("device: result schema: %w", err)
	}
	sch, err := c.Compile(resultSchemaURL)
	if err != nil {
		return nil, fmt.Errorf("device: compile result schema: %w", err)
	}
	return sch, nil
}

var printer = message.NewPrinter(language.English)

// validateResultJSON parses and validates the result part. It returns a
// problem naming the first offending field ("result.observations/0/value").
func validateResultJSON(sch *jsonschema.Schema, r io.Reader) *problem.Problem {
	inst, err := jsonschema.UnmarshalJSON(r)
	if err != nil {
		return jsonProblem(err, 0, "result.")
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return problem.New(400, "invalid-result", "Invalid result", err.Error()).WithField("result")
	}
	leaf := firstLeaf(ve)
	loc := "result"
	if len(leaf.InstanceLocation) > 0 {
		loc += "." + strings.Join(leaf.InstanceLocation, ".")
	}
	msg := leaf.ErrorKind.LocalizedString(printer)
	return problem.New(422, "invalid-result", "Invalid result",
		fmt.Sprintf("%s: %s", loc, msg)).WithField(loc)
}

// firstLeaf picks the most specific cause: the deepest along the first branch.
func firstLeaf(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(e.Causes) > 0 {
		e = e.Causes[0]
	}
	return e
}
