package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/vigilhq/vigil"
)

// statusOf maps domain error codes to HTTP statuses: the one table of it.
var statusOf = map[string]int{
	vigil.EInvalid:      http.StatusBadRequest,
	vigil.EUnauthorized: http.StatusUnauthorized,
	vigil.EForbidden:    http.StatusForbidden,
	vigil.ENotFound:     http.StatusNotFound,
	vigil.EConflict:     http.StatusConflict,
	vigil.ETooLarge:     http.StatusRequestEntityTooLarge,
	vigil.ELocked:       http.StatusTooManyRequests,
	vigil.EInternal:     http.StatusInternalServerError,
}

var titleOf = map[string]string{
	vigil.EInvalid:      "Invalid request",
	vigil.EUnauthorized: "Authentication required",
	vigil.EForbidden:    "Not allowed",
	vigil.ENotFound:     "Not found",
	vigil.EConflict:     "Conflict",
	vigil.ETooLarge:     "Request too large",
	vigil.ELocked:       "Account locked",
	vigil.EInternal:     "Internal error",
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string             `json:"type"`
	Title     string             `json:"title"`
	Status    int                `json:"status"`
	Detail    string             `json:"detail,omitempty"`
	Instance  string             `json:"instance,omitempty"`
	Errors    []vigil.FieldError `json:"errors,omitempty"`
	Conflicts []string           `json:"conflicts,omitempty"`
}

// problemType is the stable type URI of a kind of error.
func problemType(code string) string {
	return "urn:vigil:problem:" + code
}

// apiError writes err as application/problem+json. Internal errors are
// logged and answered without their details.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	code := vigil.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		code, status = vigil.EInternal, http.StatusInternalServerError
	}
	p := Problem{Type: problemType(code), Title: titleOf[code], Status: status, Detail: vigil.ErrorMessage(err), Instance: r.URL.Path}
	var e *vigil.Error
	if errors.As(err, &e) {
		p.Errors, p.Conflicts = e.Fields, e.Conflicts
	}
	if status == http.StatusInternalServerError {
		s.logger.ErrorContext(r.Context(), "request failed", slog.String("route", r.Pattern), slog.String("error", err.Error()))
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}
