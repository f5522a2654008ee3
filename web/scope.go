package web

import (
	"net/http"
	"strconv"

	"github.com/vigilhq/vigil"
)

// scopeRoutes registers the scope and context endpoints (API and UI): the
// versioned scope statement (4.3) and the registers of context issues
// (4.1), interested parties (4.2), ISMS roles (5.3) and objectives (6.2).
func (s *Server) scopeRoutes() {
	s.handle("GET", "/api/v1/scope", API, ismsReaders, s.apiGetScope)
	s.handle("PUT", "/api/v1/scope", API, ismsEditors, s.apiPutScope)
	s.handle("POST", "/api/v1/scope/approve", API, ismsEditors, s.apiApproveScope)
	s.handle("GET", "/api/v1/scope/versions", API, ismsReaders, s.apiListScopeVersions)
	s.handle("GET", "/api/v1/scope/versions/{n}", API, ismsReaders, s.apiGetScopeVersion)
	s.ismsRegisterRoutes()
	s.ismsUIRoutes()
}

// scopeOperations documents the scope API for the OpenAPI document.
var scopeOperations = append([]operation{
	{Method: "GET", Path: "/api/v1/scope", Summary: "The ISMS scope statement: the draft, or the latest approved version when there is no draft.", Status: 200, Response: "Scope"},
	{Method: "PUT", Path: "/api/v1/scope", Summary: "Replace the scope draft; when the latest version is approved this starts the next version as a draft.", Request: "ScopeInput", Status: 200, Response: "Scope"},
	{Method: "POST", Path: "/api/v1/scope/approve", Summary: "Approve the scope draft, which freezes it; the caller is recorded as approver. The body, if any, is {}.", Status: 200, Response: "Scope"},
	{Method: "GET", Path: "/api/v1/scope/versions", Summary: "Approved (frozen) versions of the scope statement, newest first.", Params: pageParams, Status: 200, Response: "Scope", List: true},
	{Method: "GET", Path: "/api/v1/scope/versions/{n}", Summary: "One approved version of the scope statement.", Params: []param{
		{Name: "n", In: "path", Description: "Version number.", Type: "integer", Required: true},
	}, Status: 200, Response: "Scope"},
}, ismsRegisterOperations()...)

// scopeSchemas are the OpenAPI schemas the scope operations refer to.
func scopeSchemas() map[string]any {
	list := map[string]any{"type": "array", "items": str()}
	exclusions := map[string]any{"type": "array", "items": ref("ScopeExclusion")}
	content := map[string]any{
		"statement": str(), "units": list, "locations": list, "processes": list, "systems": list, "interfaces": list, "exclusions": exclusions,
	}
	scope := map[string]any{
		"version": map[string]any{"type": "integer"}, "status": ismsEnum([]vigil.ScopeStatus{vigil.ScopeDraft, vigil.ScopeApproved}),
		"approved_at": nullable(strFmt("date-time")), "approved_by": map[string]any{"description": "User id of the approver; null for a draft.", "oneOf": []any{str(), map[string]any{"type": "null"}}},
		"created_at": strFmt("date-time"), "updated_at": strFmt("date-time"),
	}
	for k, v := range content {
		scope[k] = v
	}
	out := map[string]any{
		"Scope":      obj([]string{"version", "status", "statement", "units", "locations", "processes", "systems", "interfaces", "exclusions", "approved_at", "approved_by"}, scope),
		"ScopeInput": obj(nil, content),
		"ScopeExclusion": obj([]string{"item", "reason"}, map[string]any{
			"item": str(), "reason": map[string]any{"type": "string", "minLength": 1, "description": "Why it is left out; required."},
		}),
	}
	for k, v := range ismsRegisterSchemas() {
		out[k] = v
	}
	return out
}

func (s *Server) apiGetScope(w http.ResponseWriter, r *http.Request) {
	v, err := s.store.CurrentScope(r.Context(), actorOf(r).OrgID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiPutScope(w http.ResponseWriter, r *http.Request) {
	var in vigil.ScopeInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	v, err := s.store.SaveScopeDraft(r.Context(), actorOf(r).OrgID, in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiApproveScope(w http.ResponseWriter, r *http.Request) {
	// An empty body and {} both mean "approve"; anything else is a mistake.
	if r.ContentLength != 0 {
		var none struct{}
		if err := decodeJSON(w, r, &none); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	a := actorOf(r)
	v, err := s.store.ApproveScope(r.Context(), a.OrgID, a.UserID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiListScopeVersions(w http.ResponseWriter, r *http.Request) {
	p, err := parsePage(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	before := 0
	if p.Cursor != "" {
		if before, err = strconv.Atoi(p.Cursor); err != nil || before < 1 {
			s.apiError(w, r, vigil.Invalid("cursor", "is not a cursor this server issued"))
			return
		}
	}
	vs, err := s.store.ListScopeVersions(r.Context(), actorOf(r).OrgID, before, p.Limit+1)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(vs, p.Limit, func(v vigil.Scope) string { return strconv.Itoa(v.Version) }))
}

func (s *Server) apiGetScopeVersion(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		s.apiError(w, r, vigil.Invalid("n", "must be a version number such as 1"))
		return
	}
	v, err := s.store.ScopeVersion(r.Context(), actorOf(r).OrgID, n)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
