package web

import (
	"context"
	"net/http"
	"slices"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/export"
	"github.com/vigilhq/vigil/store"
)

// riskRoutes registers the risks endpoints (API and UI): the risk method,
// the register with its treatment actions and acceptances, the heat map
// and the export.
func (s *Server) riskRoutes() {
	s.handle("GET", "/api/v1/risk-method", API, ismsReaders, s.apiGetRiskMethod)
	s.handle("PUT", "/api/v1/risk-method", API, ismsEditors, s.apiPutRiskMethod)
	s.handle("GET", "/api/v1/risks/export", API, ismsReaders, s.apiExportRisks)
	s.handle("GET", "/api/v1/risks/heatmap", API, ismsReaders, s.apiRiskHeatMap)
	handleTotalCRUD(s, totalCRUD[vigil.Risk, vigil.RiskInput, vigil.RiskUpdate]{
		path: "/api/v1/risks", writers: riskEditors,
		list: func(r *http.Request, orgID, after string, limit int) ([]vigil.Risk, int, error) {
			f, err := s.riskFilter(r, orgID)
			if err != nil {
				return nil, 0, err
			}
			f.After, f.Limit = after, limit
			return s.store.ListRisks(r.Context(), orgID, f)
		},
		create: s.store.CreateRisk, get: s.store.GetRisk, update: s.store.UpdateRisk, delete: s.store.DeleteRisk,
		id: func(r vigil.Risk) string { return r.ID },
	})
	// Any member may ask; only the risk's owner succeeds (403 otherwise).
	s.handle("POST", "/api/v1/risks/{id}/accept", API, staff, s.apiAcceptRisk)
	s.handle("GET", "/api/v1/risks/{id}/acceptances", API, ismsReaders, s.apiRiskAcceptances)
	s.handle("GET", "/api/v1/risks/{id}/actions", API, ismsReaders, s.apiListRiskActions)
	s.handle("POST", "/api/v1/risks/{id}/actions", API, riskEditors, s.apiCreateRiskAction)
	s.handle("PATCH", "/api/v1/risks/{id}/actions/{action}", API, riskEditors, s.apiUpdateRiskAction)
	s.handle("DELETE", "/api/v1/risks/{id}/actions/{action}", API, riskEditors, s.apiDeleteRiskAction)
	s.riskUIRoutes()
}

// riskFilter reads the risk list filters.
func (s *Server) riskFilter(r *http.Request, orgID string) (store.RiskFilter, error) {
	q := r.URL.Query()
	f := store.RiskFilter{Status: vigil.RiskStatus(q.Get("status")), Treatment: vigil.RiskTreatment(q.Get("treatment")), Control: q.Get("control")}
	if f.Status != "" && !slices.Contains(vigil.RiskStatuses, f.Status) {
		return f, vigil.Invalid("status", "must be one of %s", arEnumList(vigil.RiskStatuses))
	}
	if f.Treatment != "" && !slices.Contains(vigil.RiskTreatments, f.Treatment) {
		return f, vigil.Invalid("treatment", "must be one of %s", arEnumList(vigil.RiskTreatments))
	}
	if a := q.Get("asset"); a != "" {
		asset, err := s.store.GetAsset(r.Context(), orgID, a)
		if vigil.ErrorCode(err) == vigil.ENotFound {
			return f, vigil.Invalid("asset", "no asset %s in this organisation", a)
		}
		if err != nil {
			return f, err
		}
		f.Asset = asset.ID
	}
	var err error
	f.Owner, err = s.arMemberFilter(r.Context(), orgID, "owner", q.Get("owner"))
	return f, err
}

var (
	riskActionParam = param{Name: "action", In: "path", Description: "The treatment action's id.", Type: "string", Required: true}
	riskIDParam     = param{Name: "id", In: "path", Description: "The risk's id or reference (RSK-n).", Type: "string", Required: true}
)

// riskOperations documents the risks API for the OpenAPI document.
var riskOperations = append([]operation{
	{Method: "GET", Path: "/api/v1/risk-method", Summary: "The risk method: likelihood and impact scales, the score formula and the acceptance threshold (the default 5×5 method until one is set).", Status: 200, Response: "RiskMethod"},
	{Method: "PUT", Path: "/api/v1/risk-method", Summary: "Set the risk method; scales that would leave an assessed risk off the matrix are refused (409 naming the risks).", Request: "RiskMethodInput", Status: 200, Response: "RiskMethod"},
	{Method: "GET", Path: "/api/v1/risks/export", Summary: "The risk register as a file.", Params: []param{
		{Name: "format", In: "query", Description: "csv (default) or xlsx.", Type: "string"},
	}, Status: 200},
	{Method: "GET", Path: "/api/v1/risks/heatmap", Summary: "Risks per cell of the likelihood × impact matrix, inherent and residual.", Status: 200, Response: "RiskHeatMap"},
	{Method: "POST", Path: "/api/v1/risks/{id}/accept", Summary: "Formally accept the risk's residual score. Only the risk's owner may (403 for anyone else, admins included).", Params: []param{riskIDParam}, Request: "RiskAcceptInput", Status: 200, Response: "Risk"},
	{Method: "GET", Path: "/api/v1/risks/{id}/acceptances", Summary: "Every acceptance given for the risk, newest first.", Params: []param{riskIDParam}, Status: 200, Response: "RiskAcceptance", List: true},
	{Method: "GET", Path: "/api/v1/risks/{id}/actions", Summary: "The risk's treatment actions.", Params: []param{riskIDParam}, Status: 200, Response: "RiskAction", List: true},
	{Method: "POST", Path: "/api/v1/risks/{id}/actions", Summary: "Add a treatment action.", Params: []param{riskIDParam}, Request: "RiskActionInput", Status: 201, Response: "RiskAction"},
	{Method: "PATCH", Path: "/api/v1/risks/{id}/actions/{action}", Summary: "Change a treatment action.", Params: []param{riskIDParam, riskActionParam}, Request: "RiskActionUpdate", Status: 200, Response: "RiskAction"},
	{Method: "DELETE", Path: "/api/v1/risks/{id}/actions/{action}", Summary: "Delete a treatment action.", Params: []param{riskIDParam, riskActionParam}, Status: 204},
}, totalCRUDOperations("/api/v1/risks", "risk", "Risk", []param{
	{Name: "owner", In: "query", Description: "Only the risks of this owner (user id or email).", Type: "string"},
	{Name: "status", In: "query", Description: "Only risks with this status.", Type: "string"},
	{Name: "treatment", In: "query", Description: "Only risks with this treatment.", Type: "string"},
	{Name: "asset", In: "query", Description: "Only the risks of this asset (id or AST-n).", Type: "string"},
	{Name: "control", In: "query", Description: "Only the risks that name this control (8.5 or CTL-n).", Type: "string"},
})...)

// riskSchemas are the OpenAPI schemas the risks operations refer to.
func riskSchemas() map[string]any {
	level := map[string]any{"oneOf": []any{map[string]any{"type": "integer", "minimum": 1, "maximum": vigil.MaxScaleLevels}, map[string]any{"type": "null"}},
		"description": "A level of the organisation's scale; null while not assessed."}
	score := map[string]any{"oneOf": []any{map[string]any{"type": "integer"}, map[string]any{"type": "null"}}, "description": "Computed: likelihood × impact."}
	list := map[string]any{"type": "array", "items": str()}
	date := map[string]any{"type": "string", "format": "date", "description": "YYYY-MM-DD; empty for none."}
	person := map[string]any{"type": "string", "description": "A member's user id (an email is accepted on input); empty for none."}
	fields := map[string]any{
		"title": str(), "description": str(), "threat": str(), "vulnerability": str(), "owner": person,
		"assets":     map[string]any{"type": "array", "items": str(), "description": "Asset ids (references and names are accepted on input)."},
		"controls":   map[string]any{"type": "array", "items": str(), "description": "Annex A refs such as 8.5, or own control refs CTL-n."},
		"likelihood": level, "impact": level, "residual_likelihood": level, "residual_impact": level,
		"treatment":   arEnumSchema(append([]vigil.RiskTreatment{""}, vigil.RiskTreatments...)),
		"status":      map[string]any{"type": "string", "enum": vigil.RiskStatuses, "description": "accepted is set by POST /api/v1/risks/{id}/accept only."},
		"next_review": date,
	}
	out := totalCRUDSchemas("Risk", fields, []string{"title"})
	risk := out["Risk"].(map[string]any)
	props := risk["properties"].(map[string]any)
	props["inherent_score"], props["residual_score"] = score, score
	props["next_review"] = nullable(strFmt("date"))
	props["above_threshold"] = map[string]any{"type": "boolean", "description": "Computed: the residual score (the inherent one while no residual is assessed) is above the acceptance threshold."}
	props["acceptance"] = nullable(ref("RiskAcceptance"))
	risk["required"] = append(risk["required"].([]string), "inherent_score", "residual_score", "above_threshold", "acceptance")
	out["RiskUpdate"].(map[string]any)["description"] = "Fields to change; a level of 0 clears it, an empty next_review clears the date."
	out["RiskAcceptance"] = obj([]string{"accepted_by", "accepted_at", "residual_score", "comment"}, map[string]any{
		"accepted_by": str(), "accepted_at": strFmt("date-time"), "residual_score": map[string]any{"type": "integer", "description": "The residual score when it was accepted."}, "comment": str(),
	})
	out["RiskAcceptInput"] = obj(nil, map[string]any{"comment": str()})
	labels := map[string]any{"type": "array", "items": str(), "minItems": vigil.MinScaleLevels, "maxItems": vigil.MaxScaleLevels, "description": "Labels, lowest level first."}
	out["RiskMethod"] = obj([]string{"likelihood_scale", "impact_scale", "formula", "acceptance_threshold", "max_score", "configured"}, map[string]any{
		"likelihood_scale": labels, "impact_scale": labels, "formula": map[string]any{"type": "string", "const": vigil.RiskFormula},
		"acceptance_threshold": map[string]any{"type": "integer", "description": "Residual scores above it need the owner's formal acceptance."},
		"max_score":            map[string]any{"type": "integer"}, "configured": map[string]any{"type": "boolean", "description": "False while the default method applies."},
		"updated_at": nullable(strFmt("date-time")), "updated_by": str(),
	})
	out["RiskMethodInput"] = obj([]string{"likelihood_scale", "impact_scale", "acceptance_threshold"}, map[string]any{
		"likelihood_scale": labels, "impact_scale": labels, "formula": map[string]any{"type": "string", "description": "Optional; only " + vigil.RiskFormula + " is offered."},
		"acceptance_threshold": map[string]any{"type": "integer", "minimum": 1},
	})
	grid := map[string]any{"type": "array", "items": map[string]any{"type": "array", "items": map[string]any{"type": "integer"}},
		"description": "[likelihood-1][impact-1]: the number of risks in the cell."}
	out["RiskHeatMap"] = obj([]string{"likelihood_scale", "impact_scale", "acceptance_threshold", "inherent", "residual", "unassessed"}, map[string]any{
		"likelihood_scale": list, "impact_scale": list, "acceptance_threshold": map[string]any{"type": "integer"},
		"inherent": grid, "residual": grid, "unassessed": map[string]any{"type": "integer"},
	})
	action := map[string]any{"title": str(), "owner": person, "due_date": date, "status": arEnumSchema(vigil.RiskActionStatuses)}
	out["RiskActionInput"] = obj([]string{"title"}, action)
	out["RiskActionUpdate"] = obj(nil, action)
	record := map[string]any{"id": str(), "risk_id": str(), "created_at": strFmt("date-time"), "updated_at": strFmt("date-time")}
	for k, v := range action {
		record[k] = v
	}
	record["due_date"] = nullable(strFmt("date"))
	out["RiskAction"] = obj([]string{"id", "risk_id", "title", "owner", "due_date", "status"}, record)
	return out
}

func (s *Server) apiGetRiskMethod(w http.ResponseWriter, r *http.Request) {
	m, err := s.store.RiskMethod(r.Context(), actorOf(r).OrgID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiPutRiskMethod(w http.ResponseWriter, r *http.Request) {
	var in vigil.RiskMethodInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	m, err := s.store.SetRiskMethod(r.Context(), actorOf(r).OrgID, in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiRiskHeatMap(w http.ResponseWriter, r *http.Request) {
	h, err := s.store.RiskHeatMap(r.Context(), actorOf(r).OrgID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

type acceptRequest struct {
	Comment string `json:"comment"`
}

func (s *Server) apiAcceptRisk(w http.ResponseWriter, r *http.Request) {
	var req acceptRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	rk, err := s.store.AcceptRisk(r.Context(), actorOf(r).OrgID, r.PathValue("id"), req.Comment)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rk)
}

func (s *Server) apiRiskAcceptances(w http.ResponseWriter, r *http.Request) {
	as, err := s.store.RiskAcceptances(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, List[vigil.RiskAcceptance]{Items: as})
}

func (s *Server) apiListRiskActions(w http.ResponseWriter, r *http.Request) {
	as, err := s.store.ListRiskActions(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, List[vigil.RiskAction]{Items: as})
}

func (s *Server) apiCreateRiskAction(w http.ResponseWriter, r *http.Request) {
	var in vigil.RiskActionInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	a, err := s.store.CreateRiskAction(r.Context(), actorOf(r).OrgID, r.PathValue("id"), in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/risks/"+a.RiskID+"/actions/"+a.ID)
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) apiUpdateRiskAction(w http.ResponseWriter, r *http.Request) {
	var upd vigil.RiskActionUpdate
	if err := decodeJSON(w, r, &upd); err != nil {
		s.apiError(w, r, err)
		return
	}
	a, err := s.store.UpdateRiskAction(r.Context(), actorOf(r).OrgID, r.PathValue("id"), r.PathValue("action"), upd)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) apiDeleteRiskAction(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteRiskAction(r.Context(), actorOf(r).OrgID, r.PathValue("id"), r.PathValue("action")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiExportRisks(w http.ResponseWriter, r *http.Request) {
	f, err := arExportFormat(r, export.CSV, export.XLSX)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	t, err := s.riskTable(r.Context(), actorOf(r).OrgID)
	if err == nil {
		err = arSendExport(w, f, t, nil, "risks")
	}
	if err != nil {
		s.apiError(w, r, err)
	}
}

// riskTable is the risk register as an export table; assets are shown by
// reference and people by email.
func (s *Server) riskTable(ctx context.Context, orgID string) (export.Table, error) {
	risks, _, err := s.store.ListRisks(ctx, orgID, store.RiskFilter{})
	if err != nil {
		return export.Table{}, err
	}
	refs, err := s.store.AssetRefs(ctx, orgID, nil)
	if err != nil {
		return export.Table{}, err
	}
	emails, err := s.store.MemberEmails(ctx, orgID)
	if err != nil {
		return export.Table{}, err
	}
	return export.Table{Title: "Risk register", Columns: vigil.RiskExportColumns, Rows: vigil.RiskExportRows(risks, arPersonOr(emails), arPersonOr(refs))}, nil
}
