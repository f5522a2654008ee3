package vigil

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in the web package and one exit
// status in the CLI.
const (
	EConflict     = "conflict"
	EInternal     = "internal"
	EInvalid      = "invalid"
	ENotFound     = "not_found"
	EUnauthorized = "unauthorized"
	EForbidden    = "forbidden"
	ETooLarge     = "too_large"
	ELocked       = "locked"
)

// FieldError names one bad field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type the domain returns: a code callers can branch on
// and a message fit to show to the person who caused it.
type Error struct {
	Code    string
	Message string
	// Fields lists the bad fields of an invalid request, if known.
	Fields []FieldError
	// Conflicts lists what stands in the way of a conflicting change.
	Conflicts []string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return e.Message
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EInvalid error that names the bad field.
func Invalid(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: EInvalid, Message: field + ": " + msg, Fields: []FieldError{{Field: field, Message: msg}}}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, EInternal
// for any other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the human message of err if it is an *Error, and a
// generic text otherwise, so internal details never reach a caller.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
