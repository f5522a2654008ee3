package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigilhq/vigil"
)

// maxBodyBytes bounds every request body that is not an upload.
const maxBodyBytes = 1 << 20

// decodeJSON reads a JSON object strictly: unknown fields, wrong types,
// trailing data and oversize bodies are errors that name the problem.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return vigil.Invalid("content-type", "must be application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return vigil.Invalid("body", "must hold exactly one JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return vigil.Invalid("body", "must hold exactly one JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &vigil.Error{Code: vigil.ETooLarge, Message: fmt.Sprintf("body: larger than %d bytes", tooBig.Limit), Fields: []vigil.FieldError{{Field: "body", Message: "too large"}}}
	case errors.As(err, &syntax):
		return vigil.Invalid("body", "malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return vigil.Invalid(field, "must be %s", jsonKind(typ.Type.Kind().String()))
	case errors.Is(err, io.EOF):
		return vigil.Invalid("body", "is empty: a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return vigil.Invalid("body", "malformed JSON: unexpected end")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return vigil.Invalid(name, "is not a known field")
	default:
		return vigil.Invalid("body", "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	}
	return "of another type"
}

// writeJSON writes v with a status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// List is the envelope of every list response.
type List[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// page holds the pagination parameters of a list request.
type page struct {
	Limit  int
	Cursor string // decoded
}

const (
	defaultLimit = 50
	maxLimit     = 200
)

// parsePage reads limit and cursor. Cursors are opaque to callers.
func parsePage(r *http.Request) (page, error) {
	p := page{Limit: defaultLimit}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return p, vigil.Invalid("limit", "must be a whole number from 1 to %d", maxLimit)
		}
		p.Limit = n
	}
	if v := r.URL.Query().Get("cursor"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) == 0 {
			return p, vigil.Invalid("cursor", "is not a cursor this server issued")
		}
		p.Cursor = string(b)
	}
	return p, nil
}

// cursorList is a list whose next page the store named: next is "" after the last.
func cursorList[T any](items []T, next string) List[T] {
	l := List[T]{Items: items}
	if l.Items == nil {
		l.Items = []T{}
	}
	if next != "" {
		c := base64.RawURLEncoding.EncodeToString([]byte(next))
		l.NextCursor = &c
	}
	return l
}

// newList builds a list response from up to limit+1 fetched items: the
// extra item, if present, only says that another page exists.
func newList[T any](items []T, limit int, key func(T) string) List[T] {
	if len(items) > limit {
		return cursorList(items[:limit], key(items[limit-1]))
	}
	return cursorList(items, "")
}
