package control

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the UI.
type Kind string

// Error kinds.
const (
	NotFound    Kind = "not-found"
	Conflict    Kind = "conflict"
	Invalid     Kind = "invalid"
	Unavailable Kind = "unavailable"
	Internal    Kind = "internal"
)

// Error is a typed control-API error. Field names the request field an
// Invalid error is about; Message is plain and short; Detail technical.
type Error struct {
	Kind    Kind   `json:"kind"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	Detail  string `json:"detail,omitempty"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Errorf returns an *Error of kind.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// InvalidField returns an Invalid error about field.
func InvalidField(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err (Internal for an untyped error).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}
