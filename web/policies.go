package web

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/starters"
)

// policyAcknowledgers may acknowledge policies: everyone who works for the
// organisation, which leaves out external auditors.
var policyAcknowledgers = staff

// policyRoutes registers the policies endpoints (API and UI).
func (s *Server) policyRoutes() {
	s.handle("GET", "/api/v1/policies", API, everyone, s.apiListPolicies)
	s.handle("POST", "/api/v1/policies", API, ismsEditors, s.apiCreatePolicy)
	s.handle("GET", "/api/v1/policies/starters", API, everyone, s.apiListPolicyStarters)
	s.handle("POST", "/api/v1/policies/from-starter", API, ismsEditors, s.apiCreatePolicyFromStarter)
	s.handle("GET", "/api/v1/policies/{id}", API, everyone, s.apiGetPolicy)
	s.handle("PATCH", "/api/v1/policies/{id}", API, ismsEditors, s.apiUpdatePolicy)
	s.handle("DELETE", "/api/v1/policies/{id}", API, ismsEditors, s.apiDeletePolicy)
	s.handle("POST", "/api/v1/policies/{id}/submit", API, ismsEditors, s.apiPolicyStatus(vigil.PolicyInReview))
	// Open to staff: the store lets only the named approver succeed.
	s.handle("POST", "/api/v1/policies/{id}/approve", API, staff, s.apiPolicyStatus(vigil.PolicyApproved))
	s.handle("POST", "/api/v1/policies/{id}/reject", API, staff, s.apiPolicyStatus(vigil.PolicyDraft))
	s.handle("POST", "/api/v1/policies/{id}/retire", API, ismsEditors, s.apiPolicyStatus(vigil.PolicyRetired))
	s.handle("POST", "/api/v1/policies/{id}/acknowledge", API, policyAcknowledgers, s.apiAcknowledgePolicy)
	s.handle("GET", "/api/v1/policies/{id}/acknowledgements", API, ismsReaders, s.apiPolicyAcknowledgements)
	s.handle("GET", "/api/v1/policies/{id}/versions", API, everyone, s.apiPolicyVersions)
	s.handle("PUT", "/api/v1/policies/{id}/file", API, ismsEditors, s.apiPutPolicyFile)
	s.handle("GET", "/api/v1/policies/{id}/file", API, everyone, s.apiGetPolicyFile)
	s.policyUIRoutes()
}

var policyIDParam = param{Name: "id", In: "path", Description: "Policy id or reference (POL-3).", Type: "string", Required: true}

// policyOperations documents the policies API for the OpenAPI document.
var policyOperations = []operation{
	{Method: "GET", Path: "/api/v1/policies", Summary: "Policies and other ISMS documents, in the order they were created.", Params: append([]param{
		{Name: "status", In: "query", Description: "Only policies whose working revision has this status.", Type: "string"},
		{Name: "kind", In: "query", Description: "Only policies of this kind.", Type: "string"},
		{Name: "unacknowledged", In: "query", Description: "true: only policies in force whose current version the caller has not acknowledged.", Type: "boolean"},
	}, pageParams...), Status: 200, Response: "Policy", List: true},
	{Method: "POST", Path: "/api/v1/policies", Summary: "Create a policy as a draft (version 1) authored by the caller.", Request: "PolicyInput", Status: 201, Response: "Policy"},
	{Method: "GET", Path: "/api/v1/policies/starters", Summary: "Vigil's starter texts for the information-security policy and the six named topic-specific policies.", Status: 200, Response: "PolicyStarter", List: true},
	{Method: "POST", Path: "/api/v1/policies/from-starter", Summary: "Create a draft policy from a starter text.", Request: "PolicyFromStarter", Status: 201, Response: "Policy"},
	{Method: "GET", Path: "/api/v1/policies/{id}", Summary: "One policy: its working revision and the version in force.", Params: []param{policyIDParam}, Status: 200, Response: "Policy"},
	{Method: "PATCH", Path: "/api/v1/policies/{id}", Summary: "Change a policy. A new title, kind or body of an approved policy starts a draft revision (version n+1) while version n stays in force; owner, approver and next_review change in place.", Params: []param{policyIDParam}, Request: "PolicyUpdate", Status: 200, Response: "Policy"},
	{Method: "DELETE", Path: "/api/v1/policies/{id}", Summary: "Delete a policy that was never approved (approved ones are retired instead).", Params: []param{policyIDParam}, Status: 204},
	{Method: "POST", Path: "/api/v1/policies/{id}/submit", Summary: "Submit the draft for review (draft → in_review); needs an approver other than the author.", Params: []param{policyIDParam}, Request: "PolicyStatusChange", Status: 200, Response: "Policy"},
	{Method: "POST", Path: "/api/v1/policies/{id}/approve", Summary: "Approve the revision in review (in_review → approved): only the named approver, who is not the author. It becomes the version in force.", Params: []param{policyIDParam}, Request: "PolicyStatusChange", Status: 200, Response: "Policy"},
	{Method: "POST", Path: "/api/v1/policies/{id}/reject", Summary: "Send the revision in review back to draft (in_review → draft): only the named approver.", Params: []param{policyIDParam}, Request: "PolicyStatusChange", Status: 200, Response: "Policy"},
	{Method: "POST", Path: "/api/v1/policies/{id}/retire", Summary: "Retire a policy in force (approved → retired); a pending revision is abandoned.", Params: []param{policyIDParam}, Request: "PolicyStatusChange", Status: 200, Response: "Policy"},
	{Method: "POST", Path: "/api/v1/policies/{id}/acknowledge", Summary: "Acknowledge, as the caller, the version of the policy in force. Acknowledging again changes nothing.", Params: []param{policyIDParam}, Status: 200, Response: "PolicyAcknowledgement"},
	{Method: "GET", Path: "/api/v1/policies/{id}/acknowledgements", Summary: "Who has (acknowledged) and who has not (pending) acknowledged the version in force.", Params: []param{policyIDParam}, Status: 200, Response: "PolicyAcknowledgements"},
	{Method: "GET", Path: "/api/v1/policies/{id}/versions", Summary: "Every approved version of the policy, newest first.", Params: []param{policyIDParam}, Status: 200, Response: "PolicyVersion", List: true},
	{Method: "PUT", Path: "/api/v1/policies/{id}/file", Summary: "Upload the policy's document as multipart/form-data with one part named file (at most 25 MiB; the content type is sniffed). Like a change of text, it starts a new revision of an approved policy.", Params: []param{policyIDParam}, Status: 200, Response: "Policy"},
	{Method: "GET", Path: "/api/v1/policies/{id}/file", Summary: "Download the uploaded document (as an attachment).", Params: []param{policyIDParam,
		{Name: "version", In: "query", Description: "An approved version; without it, the working revision.", Type: "integer"}}, Status: 200},
}

// policySchemas are the OpenAPI schemas the policies operations refer to.
func policySchemas() map[string]any {
	kinds := policyEnum(vigil.PolicyKinds)
	date := map[string]any{"type": "string", "format": "date"}
	file := obj([]string{"filename", "content_type", "size", "sha256"}, map[string]any{
		"filename": str(), "content_type": str(), "size": map[string]any{"type": "integer"}, "sha256": str(),
	})
	person := map[string]any{"type": "string", "description": "A member's user id; requests also take the member's email."}
	input := map[string]any{
		"title": str(), "kind": kinds, "owner": person, "approver": person,
		"body":        map[string]any{"type": "string", "description": "Markdown; shown as escaped text with headings, paragraphs, lists and bold."},
		"next_review": date,
	}
	return map[string]any{
		"Policy": obj([]string{"id", "ref", "title", "kind", "status", "version", "current_version"}, map[string]any{
			"id": str(), "ref": str(), "title": str(), "kind": kinds, "owner": person, "approver": person,
			"author": map[string]any{"type": "string", "description": "The member who created or last revised the working revision."},
			"status": policyEnum(vigil.PolicyStatuses), "version": map[string]any{"type": "integer", "description": "Number of the working revision."},
			"body": str(), "file": nullable(file), "approved_at": nullable(strFmt("date-time")), "approved_by": str(), "next_review": str(),
			"current_version": nullable(map[string]any{"type": "integer", "description": "The approved version in force, which people acknowledge."}),
			"review_overdue":  map[string]any{"type": "boolean", "description": "The version in force is past its next review date."},
			"created_at":      strFmt("date-time"), "updated_at": strFmt("date-time"),
		}),
		"PolicyInput":  obj([]string{"title"}, input),
		"PolicyUpdate": obj(nil, input),
		"PolicyFromStarter": obj([]string{"starter"}, map[string]any{
			"starter": policyEnum(vigil.RequiredPolicyKinds), "owner": person, "approver": person, "next_review": date,
		}),
		"PolicyStarter":      obj([]string{"kind", "title", "body"}, map[string]any{"kind": kinds, "title": str(), "body": str()}),
		"PolicyStatusChange": obj(nil, map[string]any{"reason": map[string]any{"type": "string", "description": "Optional; recorded in the audit trail."}}),
		"PolicyVersion": obj([]string{"policy_id", "version", "title", "body", "approved_at"}, map[string]any{
			"policy_id": str(), "version": map[string]any{"type": "integer"}, "title": str(), "kind": kinds, "body": str(), "file": nullable(file),
			"owner": str(), "author": str(), "approved_by": str(), "approved_at": strFmt("date-time"), "next_review": str(),
			"current": map[string]any{"type": "boolean"},
		}),
		"PolicyAcknowledgement": obj([]string{"policy_id", "version", "user_id", "acknowledged_at"}, map[string]any{
			"policy_id": str(), "version": map[string]any{"type": "integer"}, "user_id": str(), "email": strFmt("email"), "name": str(),
			"acknowledged_at": strFmt("date-time"),
		}),
		"PolicyAcknowledgements": obj([]string{"policy_id", "version", "acknowledged", "pending"}, map[string]any{
			"policy_id": str(), "version": map[string]any{"type": "integer", "description": "The version in force; 0 when none."},
			"acknowledged": map[string]any{"type": "array", "items": ref("PolicyAcknowledgement")},
			"pending": map[string]any{"type": "array", "items": obj([]string{"user_id", "email", "name", "role"}, map[string]any{
				"user_id": str(), "email": strFmt("email"), "name": str(), "role": roleSchema(),
			})},
		}),
	}
}

// policyEnum is a string schema limited to values.
func policyEnum[T ~string](values []T) map[string]any {
	vs := make([]string, len(values))
	for i, v := range values {
		vs[i] = string(v)
	}
	return map[string]any{"type": "string", "enum": vs}
}

func (s *Server) apiListPolicies(w http.ResponseWriter, r *http.Request) {
	p, err := parsePage(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := vigil.PolicyFilter{Status: vigil.PolicyStatus(q.Get("status")), Kind: vigil.PolicyKind(q.Get("kind")), After: p.Cursor, Limit: p.Limit + 1}
	if f.Status != "" && !f.Status.Valid() {
		s.apiError(w, r, vigil.Invalid("status", "must be one of draft, in_review, approved, retired"))
		return
	}
	if f.Kind != "" && !f.Kind.Valid() {
		s.apiError(w, r, vigil.Invalid("kind", "is not a kind of policy"))
		return
	}
	switch q.Get("unacknowledged") {
	case "", "false":
	case "true":
		f.UnacknowledgedBy = actorOf(r).UserID
	default:
		s.apiError(w, r, vigil.Invalid("unacknowledged", "must be true or false"))
		return
	}
	ps, err := s.store.ListPolicies(r.Context(), actorOf(r).OrgID, f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(ps, p.Limit, func(p vigil.Policy) string { return p.ID }))
}

func (s *Server) apiCreatePolicy(w http.ResponseWriter, r *http.Request) {
	var in vigil.PolicyInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	p, err := s.store.CreatePolicy(r.Context(), actorOf(r).OrgID, in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/policies/"+p.ID)
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) apiListPolicyStarters(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, List[starters.Starter]{Items: starters.List()})
}

// policyFromStarter is the request to create a policy from a starter.
type policyFromStarter struct {
	Starter    vigil.PolicyKind `json:"starter"`
	Owner      string           `json:"owner"`
	Approver   string           `json:"approver"`
	NextReview string           `json:"next_review"`
}

// createFromStarter is the one way API and UI make a policy from a starter.
func (s *Server) createFromStarter(ctx context.Context, orgID string, req policyFromStarter) (vigil.Policy, error) {
	in, err := starters.Input(req.Starter, req.Owner, req.Approver)
	if err != nil {
		return vigil.Policy{}, err
	}
	in.NextReview = req.NextReview
	return s.store.CreatePolicy(ctx, orgID, in)
}

func (s *Server) apiCreatePolicyFromStarter(w http.ResponseWriter, r *http.Request) {
	var req policyFromStarter
	if err := decodeJSON(w, r, &req); err != nil {
		s.apiError(w, r, err)
		return
	}
	p, err := s.createFromStarter(r.Context(), actorOf(r).OrgID, req)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/policies/"+p.ID)
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) apiGetPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.GetPolicy(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiUpdatePolicy(w http.ResponseWriter, r *http.Request) {
	var u vigil.PolicyUpdate
	if err := decodeJSON(w, r, &u); err != nil {
		s.apiError(w, r, err)
		return
	}
	p, err := s.store.UpdatePolicy(r.Context(), actorOf(r).OrgID, r.PathValue("id"), u)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiDeletePolicy(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeletePolicy(r.Context(), actorOf(r).OrgID, r.PathValue("id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// policyStatusChange is the optional body of a workflow step.
type policyStatusChange struct {
	Reason string `json:"reason"`
}

// decodeOptionalJSON decodes a body that may be absent altogether.
func decodeOptionalJSON(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return jsonError(err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return decodeJSON(w, r, v)
}

func (s *Server) apiPolicyStatus(to vigil.PolicyStatus) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req policyStatusChange
		if err := decodeOptionalJSON(w, r, &req); err != nil {
			s.apiError(w, r, err)
			return
		}
		p, err := s.store.SetPolicyStatus(r.Context(), actorOf(r).OrgID, r.PathValue("id"), to, req.Reason)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, p)
	}
}

func (s *Server) apiAcknowledgePolicy(w http.ResponseWriter, r *http.Request) {
	ack, err := s.store.AcknowledgePolicy(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ack)
}

func (s *Server) apiPolicyAcknowledgements(w http.ResponseWriter, r *http.Request) {
	acks, err := s.store.PolicyAcknowledgements(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, acks)
}

func (s *Server) apiPolicyVersions(w http.ResponseWriter, r *http.Request) {
	vs, err := s.store.PolicyVersions(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, List[vigil.PolicyVersion]{Items: vs})
}

func (s *Server) apiPutPolicyFile(w http.ResponseWriter, r *http.Request) {
	up, err := readUpload(w, r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	p, err := s.store.SetPolicyFile(r.Context(), actorOf(r).OrgID, r.PathValue("id"), up.filename, up.data)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiGetPolicyFile(w http.ResponseWriter, r *http.Request) {
	s.servePolicyFile(w, r, s.apiError)
}

// servePolicyFile sends a policy's document as an attachment.
func (s *Server) servePolicyFile(w http.ResponseWriter, r *http.Request, fail func(http.ResponseWriter, *http.Request, error)) {
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fail(w, r, vigil.Invalid("version", "must be a version number"))
			return
		}
		version = n
	}
	f, data, err := s.store.PolicyFileContent(r.Context(), actorOf(r).OrgID, r.PathValue("id"), version)
	if err != nil {
		fail(w, r, err)
		return
	}
	writeAttachment(w, f.ContentType, f.Filename, data)
}

// writeAttachment sends stored bytes for download: with the sniffed type,
// never rendered in the browser, never re-sniffed.
func writeAttachment(w http.ResponseWriter, contentType, filename string, data []byte) {
	if filename == "" {
		filename = "download"
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": filename})
	if disposition == "" {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", disposition)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(data)
}
