package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"

	"github.com/vigilhq/vigil"
)

// evidenceUploaders may upload and edit evidence.
var evidenceUploaders = []vigil.Role{vigil.RoleAdmin, vigil.RoleISMSManager, vigil.RoleRiskOwner, vigil.RoleInternalAuditor}

// evidenceRoutes registers the evidence endpoints (API and UI).
func (s *Server) evidenceRoutes() {
	s.handle("GET", "/api/v1/evidence", API, ismsReaders, s.apiListEvidence)
	s.handle("POST", "/api/v1/evidence", API, evidenceUploaders, s.apiCreateEvidence)
	s.handle("GET", "/api/v1/evidence/{id}", API, ismsReaders, s.apiGetEvidence)
	s.handle("PATCH", "/api/v1/evidence/{id}", API, evidenceUploaders, s.apiUpdateEvidence)
	s.handle("DELETE", "/api/v1/evidence/{id}", API, ismsEditors, s.apiDeleteEvidence)
	s.handle("GET", "/api/v1/evidence/{id}/download", API, ismsReaders, s.apiDownloadEvidence)
	s.evidenceUIRoutes()
}

var evidenceIDParam = param{Name: "id", In: "path", Description: "Evidence id or reference (EVD-3).", Type: "string", Required: true}

// evidenceOperations documents the evidence API for the OpenAPI document.
var evidenceOperations = []operation{
	{Method: "GET", Path: "/api/v1/evidence", Summary: "Evidence, in the order it was uploaded. Evidence past valid_until is stale.", Params: append([]param{
		{Name: "requirement", In: "query", Description: "Only evidence linked to this clause or Annex A control, e.g. 8.15 or 9.2.2.", Type: "string"},
		{Name: "risk", In: "query", Description: "Only evidence linked to this risk id.", Type: "string"},
		{Name: "policy", In: "query", Description: "Only evidence linked to this policy (id or POL-n).", Type: "string"},
		{Name: "stale", In: "query", Description: "true: only stale evidence; false: only evidence still valid.", Type: "boolean"},
	}, pageParams...), Status: 200, Response: "Evidence", List: true},
	{Method: "POST", Path: "/api/v1/evidence", Summary: "Upload evidence as multipart/form-data: a part named file (at most 25 MiB; stored by SHA-256, content type sniffed) and the fields title, description, collector, observed_from, observed_to, valid_until (YYYY-MM-DD), requirements, risks and policies (each repeatable or comma-separated).", Status: 201, Response: "Evidence"},
	{Method: "GET", Path: "/api/v1/evidence/{id}", Summary: "One evidence item.", Params: []param{evidenceIDParam}, Status: 200, Response: "Evidence"},
	{Method: "PATCH", Path: "/api/v1/evidence/{id}", Summary: "Change an item's description, dates and links (the file never changes).", Params: []param{evidenceIDParam}, Request: "EvidenceUpdate", Status: 200, Response: "Evidence"},
	{Method: "DELETE", Path: "/api/v1/evidence/{id}", Summary: "Delete an evidence item (its file goes when nothing else shares it).", Params: []param{evidenceIDParam}, Status: 204},
	{Method: "GET", Path: "/api/v1/evidence/{id}/download", Summary: "The file, as an attachment with its sniffed content type; the bytes match the sha256.", Params: []param{evidenceIDParam}, Status: 200},
}

// evidenceSchemas are the OpenAPI schemas the evidence operations refer to.
func evidenceSchemas() map[string]any {
	date := map[string]any{"type": "string", "format": "date"}
	list := func(desc string) map[string]any {
		return map[string]any{"type": "array", "items": str(), "description": desc}
	}
	return map[string]any{
		"Evidence": obj([]string{"id", "ref", "title", "collector", "sha256", "size", "content_type", "stale", "requirements", "risks", "policies"}, map[string]any{
			"id": str(), "ref": str(), "title": str(), "description": str(),
			"collector":     map[string]any{"type": "string", "description": "The member who collected it (user id)."},
			"observed_from": str(), "observed_to": str(), "valid_until": str(),
			"sha256":       map[string]any{"type": "string", "description": "Hex SHA-256 of the file."},
			"size":         map[string]any{"type": "integer"},
			"content_type": map[string]any{"type": "string", "description": "Sniffed from the bytes, not taken from the upload."},
			"filename":     str(),
			"stale":        map[string]any{"type": "boolean", "description": "valid_until is before today."},
			"requirements": list("Clause or Annex A control refs."), "risks": list("Risk ids."), "policies": list("Policy ids."),
			"created_at": strFmt("date-time"), "updated_at": strFmt("date-time"),
		}),
		"EvidenceUpdate": obj(nil, map[string]any{
			"title": str(), "description": str(),
			"collector":     map[string]any{"type": "string", "description": "A member's user id or email."},
			"observed_from": date, "observed_to": date, "valid_until": date,
			"requirements": list("Clause or Annex A control refs (A.8.15 and 8.15 both work)."),
			"risks":        list("Risk ids or references."), "policies": list("Policy ids or references."),
		}),
	}
}

// upload is a parsed multipart/form-data request: its fields and one file.
type upload struct {
	fields   url.Values
	filename string
	data     []byte
}

// uploadOverhead allows for form fields and multipart framing around the
// largest file.
const uploadOverhead = 1 << 20

func uploadTooLarge() error {
	return &vigil.Error{Code: vigil.ETooLarge, Message: fmt.Sprintf("file: larger than %d MiB", vigil.MaxUploadBytes>>20),
		Fields: []vigil.FieldError{{Field: "file", Message: "too large"}}}
}

// readUpload reads a multipart/form-data request with one part named file.
// The body is limited before anything is read, and parts are streamed, so
// an oversize upload is refused (413) without being held in memory. A form
// the CSRF check already parsed is taken as it is.
func readUpload(w http.ResponseWriter, r *http.Request) (upload, error) {
	up := upload{fields: url.Values{}}
	if r.MultipartForm != nil {
		return uploadFromForm(r)
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return up, vigil.Invalid("content-type", "must be multipart/form-data with the file in a part named file")
	}
	if r.ContentLength > vigil.MaxUploadBytes+uploadOverhead {
		return up, uploadTooLarge()
	}
	r.Body = http.MaxBytesReader(w, r.Body, vigil.MaxUploadBytes+uploadOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		return up, vigil.Invalid("body", "is not a multipart form")
	}
	hasFile := false
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return up, uploadReadError(err)
		}
		if n > 200 {
			return up, vigil.Invalid("body", "has too many parts")
		}
		name := part.FormName()
		switch {
		case name == "file":
			if hasFile {
				return up, vigil.Invalid("file", "send exactly one file")
			}
			data, err := io.ReadAll(io.LimitReader(part, vigil.MaxUploadBytes+1))
			if err != nil {
				return up, uploadReadError(err)
			}
			if len(data) > vigil.MaxUploadBytes {
				return up, uploadTooLarge()
			}
			up.filename, up.data, hasFile = part.FileName(), data, true
		case name != "":
			v, err := io.ReadAll(io.LimitReader(part, 64<<10+1))
			if err != nil {
				return up, uploadReadError(err)
			}
			if len(v) > 64<<10 {
				return up, vigil.Invalid(name, "is too long")
			}
			up.fields.Add(name, string(v))
		}
	}
	if !hasFile {
		return up, vigil.Invalid("file", "attach the file as a part named file")
	}
	return up, nil
}

func uploadReadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return uploadTooLarge()
	}
	return vigil.Invalid("body", "malformed multipart form")
}

// uploadFromForm takes the file and fields of an already parsed form.
func uploadFromForm(r *http.Request) (upload, error) {
	up := upload{fields: url.Values{}}
	for k, vs := range r.MultipartForm.Value {
		if k != csrfField {
			up.fields[k] = vs
		}
	}
	fhs := r.MultipartForm.File["file"]
	if len(fhs) == 0 || fhs[0].Size == 0 {
		return up, vigil.Invalid("file", "choose a file to upload")
	}
	if fhs[0].Size > vigil.MaxUploadBytes {
		return up, uploadTooLarge()
	}
	f, err := fhs[0].Open()
	if err != nil {
		return up, fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	if up.data, err = io.ReadAll(io.LimitReader(f, vigil.MaxUploadBytes+1)); err != nil {
		return up, fmt.Errorf("read upload: %w", err)
	}
	up.filename = fhs[0].Filename
	return up, nil
}

// evidenceFormFields are the fields an evidence upload may carry.
var evidenceFormFields = []string{"title", "description", "collector", "observed_from", "observed_to", "valid_until", "requirements", "risks", "policies"}

// evidenceInputOf reads an evidence description from form fields; an
// unknown field is an error that names it.
func evidenceInputOf(fields url.Values) (vigil.EvidenceInput, error) {
	for k := range fields {
		if !slices.Contains(evidenceFormFields, k) {
			return vigil.EvidenceInput{}, vigil.Invalid(k, "is not a known field")
		}
	}
	return vigil.EvidenceInput{
		Title: fields.Get("title"), Description: fields.Get("description"), Collector: fields.Get("collector"),
		ObservedFrom: fields.Get("observed_from"), ObservedTo: fields.Get("observed_to"), ValidUntil: fields.Get("valid_until"),
		Requirements: fields["requirements"], Risks: fields["risks"], Policies: fields["policies"],
	}, nil
}

func (s *Server) apiListEvidence(w http.ResponseWriter, r *http.Request) {
	p, err := parsePage(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	f, err := s.evidenceFilter(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	f.After, f.Limit = p.Cursor, p.Limit+1
	es, err := s.store.ListEvidence(r.Context(), actorOf(r).OrgID, f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(es, p.Limit, func(e vigil.Evidence) string { return e.ID }))
}

// evidenceFilter reads the list filters requirement, risk, policy and stale.
func (s *Server) evidenceFilter(r *http.Request) (vigil.EvidenceFilter, error) {
	q := r.URL.Query()
	f := vigil.EvidenceFilter{Requirement: q.Get("requirement"), Risk: q.Get("risk")}
	if v := q.Get("policy"); v != "" {
		p, err := s.store.GetPolicy(r.Context(), actorOf(r).OrgID, v)
		if err != nil {
			if vigil.ErrorCode(err) == vigil.ENotFound {
				return f, vigil.Invalid("policy", "no policy %s in this organisation", v)
			}
			return f, err
		}
		f.Policy = p.ID
	}
	switch q.Get("stale") {
	case "":
	case "true", "false":
		v := q.Get("stale") == "true"
		f.Stale = &v
	default:
		return f, vigil.Invalid("stale", "must be true or false")
	}
	return f, nil
}

func (s *Server) apiCreateEvidence(w http.ResponseWriter, r *http.Request) {
	up, err := readUpload(w, r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	in, err := evidenceInputOf(up.fields)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	in.Filename = up.filename
	e, err := s.store.CreateEvidence(r.Context(), actorOf(r).OrgID, in, up.data)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/evidence/"+e.ID)
	writeJSON(w, http.StatusCreated, e)
}

func (s *Server) apiGetEvidence(w http.ResponseWriter, r *http.Request) {
	e, err := s.store.GetEvidence(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) apiUpdateEvidence(w http.ResponseWriter, r *http.Request) {
	var u vigil.EvidenceUpdate
	if err := decodeJSON(w, r, &u); err != nil {
		s.apiError(w, r, err)
		return
	}
	e, err := s.store.UpdateEvidence(r.Context(), actorOf(r).OrgID, r.PathValue("id"), u)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) apiDeleteEvidence(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteEvidence(r.Context(), actorOf(r).OrgID, r.PathValue("id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiDownloadEvidence(w http.ResponseWriter, r *http.Request) {
	s.serveEvidence(w, r, s.apiError)
}

// serveEvidence sends an evidence file as an attachment.
func (s *Server) serveEvidence(w http.ResponseWriter, r *http.Request, fail func(http.ResponseWriter, *http.Request, error)) {
	e, data, err := s.store.EvidenceContent(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("ETag", `"`+e.SHA256+`"`)
	writeAttachment(w, e.ContentType, e.Filename, data)
}
