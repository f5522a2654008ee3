package web

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/export"
	"github.com/vigilhq/vigil/store"
)

// soaRoutes registers the Statement of Applicability endpoints (API and
// UI), and those of the organisation's own controls.
func (s *Server) soaRoutes() {
	s.handle("GET", "/api/v1/soa", API, ismsReaders, s.apiSoA)
	s.handle("GET", "/api/v1/soa/export", API, ismsReaders, s.apiExportSoA)
	s.handle("GET", "/api/v1/soa/diff", API, ismsReaders, s.apiSoADiff)
	s.handle("GET", "/api/v1/soa/versions", API, ismsReaders, s.apiListSoAVersions)
	s.handle("POST", "/api/v1/soa/versions", API, ismsEditors, s.apiApproveSoA)
	s.handle("GET", "/api/v1/soa/versions/{n}", API, ismsReaders, s.apiGetSoAVersion)
	s.handle("GET", "/api/v1/soa/{ref}", API, ismsReaders, s.apiGetSoAControl)
	s.handle("PATCH", "/api/v1/soa/{ref}", API, ismsEditors, s.apiUpdateSoA)
	handleTotalCRUD(s, totalCRUD[vigil.OrgControl, vigil.OrgControlInput, vigil.OrgControlUpdate]{
		path: "/api/v1/controls", writers: ismsEditors,
		list: func(r *http.Request, orgID, after string, limit int) ([]vigil.OrgControl, int, error) {
			return s.store.ListOrgControls(r.Context(), orgID, after, limit)
		},
		create: s.store.CreateOrgControl, get: s.store.GetOrgControl, update: s.store.UpdateOrgControl, delete: s.store.DeleteOrgControl,
		id: func(c vigil.OrgControl) string { return c.ID },
	})
	s.soaUIRoutes()
}

var (
	soaRefParam     = param{Name: "ref", In: "path", Description: "An Annex A control ref such as 8.5.", Type: "string", Required: true}
	soaVersionParam = param{Name: "n", In: "path", Description: "Version number.", Type: "integer", Required: true}
)

// soaOperations documents the soa API for the OpenAPI document.
var soaOperations = append([]operation{
	{Method: "GET", Path: "/api/v1/soa", Summary: "The Statement of Applicability: one row per Annex A control, in Annex A order (93 rows; limit and cursor page through them).", Params: pageParams, Status: 200, Response: "SoAList"},
	{Method: "GET", Path: "/api/v1/soa/{ref}", Summary: "The SoA row of one control.", Params: []param{soaRefParam}, Status: 200, Response: "SoARow"},
	{Method: "PATCH", Path: "/api/v1/soa/{ref}", Summary: "Decide about a control. A control named by a risk treated by modification cannot be made not applicable (409 naming the risks); a control that is not applicable needs a justification.", Params: []param{soaRefParam}, Request: "SoAUpdate", Status: 200, Response: "SoARow"},
	{Method: "POST", Path: "/api/v1/soa/versions", Summary: "Approve and freeze the current SoA as the next version; the caller is the approver. The body, if any, is {}.", Status: 201, Response: "SoAVersion"},
	{Method: "GET", Path: "/api/v1/soa/versions", Summary: "The approved versions, newest first, without their rows.", Status: 200, Response: "SoAVersionList"},
	{Method: "GET", Path: "/api/v1/soa/versions/{n}", Summary: "One approved version with its frozen rows.", Params: []param{soaVersionParam}, Status: 200, Response: "SoAVersion"},
	{Method: "GET", Path: "/api/v1/soa/diff", Summary: "What changed (applicability, justification, status) between two versions.", Params: []param{
		{Name: "from", In: "query", Description: "The older version.", Type: "integer", Required: true},
		{Name: "to", In: "query", Description: "The newer version; left out (or current), the current SoA.", Type: "string"},
	}, Status: 200, Response: "SoADiff"},
	{Method: "GET", Path: "/api/v1/soa/export", Summary: "The SoA as a file; the PDF names the organisation, version, approval date and approver on its first page.", Params: []param{
		{Name: "format", In: "query", Description: "csv (default), xlsx or pdf.", Type: "string"},
		{Name: "version", In: "query", Description: "An approved version; left out, the current SoA.", Type: "integer"},
	}, Status: 200},
}, totalCRUDOperations("/api/v1/controls", "own control", "OrgControl", nil)...)

// soaSchemas are the OpenAPI schemas the soa operations refer to.
func soaSchemas() map[string]any {
	applicable := map[string]any{"oneOf": []any{map[string]any{"type": "boolean"}, map[string]any{"type": "null"}}, "description": "null while undecided."}
	row := obj([]string{"ref", "title", "theme", "applicable", "justification", "status", "owner", "risks", "evidence_count"}, map[string]any{
		"ref": str(), "title": str(), "theme": str(), "applicable": applicable,
		"justification": map[string]any{"type": "string", "description": "Cites the risks treated by modification that name the control."},
		"status":        arEnumSchema(vigil.SoAStatuses), "owner": str(),
		"risks":          map[string]any{"type": "array", "items": str(), "description": "Refs of the risks that name the control."},
		"evidence_count": map[string]any{"type": "integer"},
	})
	version := obj([]string{"version", "approved_at", "approved_by"}, map[string]any{
		"version": map[string]any{"type": "integer"}, "approved_at": strFmt("date-time"), "approved_by": str(),
		"items": map[string]any{"type": "array", "items": ref("SoARow")},
	})
	out := map[string]any{
		"SoARow": row,
		"SoAList": obj([]string{"items", "next_cursor", "total"}, map[string]any{
			"items": map[string]any{"type": "array", "items": ref("SoARow")}, "next_cursor": nullable(str()), "total": map[string]any{"type": "integer"},
		}),
		"SoAUpdate": obj(nil, map[string]any{
			"applicable": applicable, "justification": str(), "status": arEnumSchema(vigil.SoAStatuses),
			"owner": map[string]any{"type": "string", "description": "A member's user id or email; empty for none."},
		}),
		"SoAVersion":     version,
		"SoAVersionList": arListSchema("SoAVersion"),
		"SoADiff": obj([]string{"from", "to", "changes"}, map[string]any{
			"from": map[string]any{"type": "integer"}, "to": map[string]any{"oneOf": []any{map[string]any{"type": "integer"}, map[string]any{"type": "null"}}, "description": "null: the current SoA."},
			"changes": map[string]any{"type": "array", "items": obj([]string{"ref", "title", "field", "before", "after"}, map[string]any{
				"ref": str(), "title": str(), "field": arEnumSchema([]string{"applicable", "justification", "status"}), "before": map[string]any{}, "after": map[string]any{},
			})},
		}),
	}
	for k, v := range totalCRUDSchemas("OrgControl", map[string]any{
		"title": str(), "description": str(), "owner": map[string]any{"type": "string", "description": "A member's user id (an email is accepted on input); empty for none."},
	}, []string{"title"}) {
		out[k] = v
	}
	return out
}

func (s *Server) apiSoA(w http.ResponseWriter, r *http.Request) {
	p, err := parsePage(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	rows, err := s.store.SoA(r.Context(), actorOf(r).OrgID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	total := len(rows)
	if p.Cursor != "" {
		i := slices.IndexFunc(rows, func(row vigil.SoARow) bool { return row.Ref == p.Cursor })
		if i < 0 {
			s.apiError(w, r, vigil.Invalid("cursor", "is not a cursor this server issued"))
			return
		}
		rows = rows[i+1:]
	}
	rows = rows[:min(len(rows), p.Limit+1)]
	writeJSON(w, http.StatusOK, newTotalList(rows, p.Limit, total, func(row vigil.SoARow) string { return row.Ref }))
}

func (s *Server) apiGetSoAControl(w http.ResponseWriter, r *http.Request) {
	row, err := s.store.SoAControl(r.Context(), actorOf(r).OrgID, r.PathValue("ref"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, row)
}

// soaPatch is the body of PATCH /api/v1/soa/{ref}. applicable is raw so
// that null (make it undecided) differs from leaving it out.
type soaPatch struct {
	Applicable    json.RawMessage  `json:"applicable"`
	Justification *string          `json:"justification"`
	Status        *vigil.SoAStatus `json:"status"`
	Owner         *string          `json:"owner"`
}

func (p soaPatch) update() (vigil.SoAUpdate, error) {
	u := vigil.SoAUpdate{Justification: p.Justification, Status: p.Status, Owner: p.Owner}
	if p.Applicable != nil {
		var err error
		u.SetApplicable = true
		if u.Applicable, err = vigil.ParseApplicable(p.Applicable); err != nil {
			return u, err
		}
	}
	return u, nil
}

func (s *Server) apiUpdateSoA(w http.ResponseWriter, r *http.Request) {
	var p soaPatch
	if err := decodeJSON(w, r, &p); err != nil {
		s.apiError(w, r, err)
		return
	}
	upd, err := p.update()
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	row, err := s.store.UpdateSoA(r.Context(), actorOf(r).OrgID, r.PathValue("ref"), upd)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, row)
}

func (s *Server) apiApproveSoA(w http.ResponseWriter, r *http.Request) {
	// An empty body and {} both mean "approve"; anything else is a mistake.
	if r.ContentLength != 0 {
		var none struct{}
		if err := decodeJSON(w, r, &none); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	v, err := s.store.ApproveSoA(r.Context(), actorOf(r).OrgID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	v.Items = nil
	w.Header().Set("Location", "/api/v1/soa/versions/"+strconv.Itoa(v.Version))
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) apiListSoAVersions(w http.ResponseWriter, r *http.Request) {
	vs, err := s.store.ListSoAVersions(r.Context(), actorOf(r).OrgID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	n := len(vs)
	writeJSON(w, http.StatusOK, totalList[vigil.SoAVersion]{Items: vs, Total: &n})
}

// soaVersionNumber reads a version number (1 or more) from a path or query.
func soaVersionNumber(name, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, vigil.Invalid(name, "must be a version number such as 1")
	}
	return n, nil
}

func (s *Server) apiGetSoAVersion(w http.ResponseWriter, r *http.Request) {
	n, err := soaVersionNumber("n", r.PathValue("n"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	v, err := s.store.GetSoAVersion(r.Context(), actorOf(r).OrgID, n)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

type soaDiffResponse struct {
	From    int               `json:"from"`
	To      *int              `json:"to"`
	Changes []vigil.SoAChange `json:"changes"`
}

// soaDiffRange reads from and to; to 0 is the current SoA.
func soaDiffRange(r *http.Request) (from, to int, err error) {
	q := r.URL.Query()
	if from, err = soaVersionNumber("from", q.Get("from")); err != nil {
		return 0, 0, err
	}
	if t := q.Get("to"); t != "" && t != "current" {
		if to, err = soaVersionNumber("to", t); err != nil {
			return 0, 0, err
		}
	}
	return from, to, nil
}

func (s *Server) apiSoADiff(w http.ResponseWriter, r *http.Request) {
	from, to, err := soaDiffRange(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	changes, err := s.store.SoADiff(r.Context(), actorOf(r).OrgID, from, to)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	resp := soaDiffResponse{From: from, Changes: changes}
	if to > 0 {
		resp.To = &to
	}
	writeJSON(w, http.StatusOK, resp)
}

// soaExportRequest reads the export's format and version (0: current).
func soaExportRequest(r *http.Request) (export.Format, int, error) {
	f, err := arExportFormat(r, export.CSV, export.XLSX, export.PDF)
	if err != nil {
		return f, 0, err
	}
	v := r.URL.Query().Get("version")
	if v == "" {
		return f, 0, nil
	}
	n, err := soaVersionNumber("version", v)
	return f, n, err
}

func (s *Server) apiExportSoA(w http.ResponseWriter, r *http.Request) {
	f, version, err := soaExportRequest(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	t, cover, err := SoAExport(r.Context(), s.store, actorOf(r).OrgID, version, time.Now())
	if err == nil {
		err = arSendExport(w, f, t, cover, soaFileName(version))
	}
	if err != nil {
		s.apiError(w, r, err)
	}
}

func soaFileName(version int) string {
	if version > 0 {
		return "statement-of-applicability-v" + strconv.Itoa(version)
	}
	return "statement-of-applicability"
}

// SoAExport builds the export of an organisation's Statement of
// Applicability — an approved version, or the current SoA for version 0 —
// with the cover lines of its first page (organisation, version, approval
// date and approver). The web UI, the API and the CLI all export with it.
func SoAExport(ctx context.Context, st *store.Store, orgID string, version int, now time.Time) (export.Table, []string, error) {
	org, err := st.GetOrg(ctx, orgID)
	if err != nil {
		return export.Table{}, nil, err
	}
	cover := vigil.SoACover{Org: org.Name, Generated: now}
	var rows []vigil.SoARow
	var shown vigil.SoAVersion
	if version > 0 {
		if shown, err = st.GetSoAVersion(ctx, orgID, version); err != nil {
			return export.Table{}, nil, err
		}
		rows = shown.Items
	} else {
		if rows, err = st.SoA(ctx, orgID); err != nil {
			return export.Table{}, nil, err
		}
		shown, err = st.GetSoAVersion(ctx, orgID, 0)
		switch {
		case vigil.ErrorCode(err) == vigil.ENotFound:
			cover.Draft = true
		case err != nil:
			return export.Table{}, nil, err
		default:
			cover.Draft = len(vigil.DiffSoA(shown.Items, rows)) > 0
		}
	}
	emails, err := st.MemberEmails(ctx, orgID)
	if err != nil {
		return export.Table{}, nil, err
	}
	if shown.Version > 0 {
		cover.Version, cover.ApprovedAt, cover.Approver = shown.Version, shown.ApprovedAt, soaApproverName(ctx, st, shown.ApprovedBy)
	}
	t := export.Table{Title: "Statement of Applicability", Columns: vigil.SoAExportColumns, Widths: vigil.SoAExportWidths,
		Rows: vigil.SoAExportRows(rows, arPersonOr(emails))}
	return t, cover.Lines(), nil
}

// soaApproverName names an approver as "Name (email)", the system for an
// approval without a person, or the id of a former member.
func soaApproverName(ctx context.Context, st *store.Store, userID string) string {
	if userID == "" {
		return "the system"
	}
	u, err := st.GetUser(ctx, userID)
	if err != nil {
		return userID
	}
	return u.Name + " (" + u.Email + ")"
}
