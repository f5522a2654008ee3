package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/export"
)

// The incident register (Annex A 5.24–5.28): API and OpenAPI.

var (
	// incidentReaders read the register and its reports.
	incidentReaders = []vigil.Role{vigil.RoleAdmin, vigil.RoleISMSManager, vigil.RoleInternalAuditor, vigil.RoleRiskOwner, vigil.RoleViewer}
	// incidentEditors report incidents and run the response.
	incidentEditors = []vigil.Role{vigil.RoleAdmin, vigil.RoleISMSManager}
)

func (s *Server) incidentRoutes() {
	s.handle("GET", "/api/v1/incidents", API, incidentReaders, s.apiListIncidents)
	s.handle("POST", "/api/v1/incidents", API, incidentEditors, s.apiCreateIncident)
	s.handle("GET", "/api/v1/incidents/{id}", API, incidentReaders, s.apiGetIncident)
	s.handle("PATCH", "/api/v1/incidents/{id}", API, incidentEditors, s.apiUpdateIncident)
	s.handle("POST", "/api/v1/incidents/{id}/timeline", API, incidentEditors, s.apiAddIncidentTimeline)
	s.handle("GET", "/api/v1/incidents/{id}/report.pdf", API, incidentReaders, s.apiIncidentPDF)
}

func (s *Server) apiListIncidents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := vigil.IncidentFilter{Status: vigil.IncidentStatus(q.Get("status")), Severity: vigil.Severity(q.Get("severity"))}
	if err := f.Check(); err != nil {
		s.apiError(w, r, err)
		return
	}
	listed(s, w, r, func(i vigil.Incident) string { return i.ID }, func(after string, limit int) ([]vigil.Incident, error) {
		return s.store.ListIncidents(r.Context(), actorOf(r).OrgID, f, after, limit)
	})
}

func (s *Server) apiCreateIncident(w http.ResponseWriter, r *http.Request) {
	var in vigil.IncidentInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	inc, err := s.store.CreateIncident(r.Context(), actorOf(r).OrgID, in)
	if err == nil {
		w.Header().Set("Location", "/api/v1/incidents/"+inc.ID)
	}
	respond(s, w, r, http.StatusCreated, inc, err)
}

func (s *Server) apiGetIncident(w http.ResponseWriter, r *http.Request) {
	inc, err := s.store.GetIncident(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	respond(s, w, r, http.StatusOK, inc, err)
}

func (s *Server) apiUpdateIncident(w http.ResponseWriter, r *http.Request) {
	var upd vigil.IncidentUpdate
	if err := decodeJSON(w, r, &upd); err != nil {
		s.apiError(w, r, err)
		return
	}
	inc, err := s.store.UpdateIncident(r.Context(), actorOf(r).OrgID, r.PathValue("id"), upd)
	respond(s, w, r, http.StatusOK, inc, err)
}

func (s *Server) apiAddIncidentTimeline(w http.ResponseWriter, r *http.Request) {
	decodeAnd(s, w, r, http.StatusCreated, func(ctx context.Context, orgID string, in vigil.TimelineInput) (vigil.TimelineEntry, error) {
		return s.store.AddIncidentTimeline(ctx, orgID, r.PathValue("id"), in)
	})
}

// incidentPDF renders an incident's report, generated on demand.
func (s *Server) incidentPDF(ctx context.Context, orgID, idOrRef string) (vigil.Incident, []byte, error) {
	rep, err := s.store.IncidentReport(ctx, orgID, idOrRef)
	if err != nil {
		return vigil.Incident{}, nil, err
	}
	var b bytes.Buffer
	if err := export.IncidentReportPDF(&b, rep); err != nil {
		return rep.Incident, nil, err
	}
	return rep.Incident, b.Bytes(), nil
}

// writeIncidentPDF answers with an incident's report, or the error.
func (s *Server) writeIncidentPDF(w http.ResponseWriter, r *http.Request, fail func(http.ResponseWriter, *http.Request, error)) {
	inc, pdf, err := s.incidentPDF(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-report.pdf"`, inc.Ref))
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	w.Header().Set("Cache-Control", "private, no-store")
	if _, err := w.Write(pdf); err != nil {
		s.logger.WarnContext(r.Context(), "write incident report", "error", err.Error())
	}
}

func (s *Server) apiIncidentPDF(w http.ResponseWriter, r *http.Request) {
	s.writeIncidentPDF(w, r, s.apiError)
}

// incidentOperations documents the incidents API for the OpenAPI document.
var incidentOperations = func() []operation {
	id := param{Name: "id", In: "path", Description: "Identifier, or the short reference (such as INC-3).", Type: "string", Required: true}
	q := func(name, desc string) param {
		return param{Name: name, In: "query", Description: desc, Type: "string"}
	}
	return []operation{
		{Method: "GET", Path: "/api/v1/incidents", Summary: "Incidents (INC-n), newest first, with their timelines.",
			Params: append([]param{q("status", "Only incidents with this status."), q("severity", "Only incidents of this severity.")}, pageParams...), Status: 200, Response: "Incident", List: true},
		{Method: "POST", Path: "/api/v1/incidents", Summary: "Report an incident (status reported). With from_alerts (alert ids or refs) it is opened from those alerts: the highest of their severities, their sessions and hosts linked, open alerts acknowledged. Linked sessions are put under legal hold.",
			Request: "IncidentInput", Status: 201, Response: "Incident"},
		{Method: "GET", Path: "/api/v1/incidents/{id}", Summary: "One incident with its timeline; a high or critical one carries suggestions (special_audit, risk_register).", Params: []param{id}, Status: 200, Response: "Incident"},
		{Method: "PATCH", Path: "/api/v1/incidents/{id}", Summary: "Change an incident. Status moves forward only (reported → triaged → contained → eradicated → recovered → closed, one or more steps) or reopens closed → triaged; closing needs lessons_learned. Newly linked sessions go under legal hold (unlinking keeps the hold). Status and link changes are added to the timeline.",
			Params: []param{id}, Request: "IncidentUpdate", Status: 200, Response: "Incident"},
		{Method: "POST", Path: "/api/v1/incidents/{id}/timeline", Summary: "Add an entry to the incident's timeline; at (RFC 3339) defaults to now and may not be in the future.",
			Params: []param{id}, Request: "TimelineInput", Status: 201, Response: "TimelineEntry"},
		{Method: "GET", Path: "/api/v1/incidents/{id}/report.pdf", Summary: "The incident report with its timeline and lessons learned (application/pdf), generated on demand; the same data gives the same file.",
			Params: []param{id}, Status: 200},
	}
}()

// incidentSchemas are the OpenAPI schemas of the incidents API.
func incidentSchemas() map[string]any {
	enum := func(vals ...string) map[string]any { return map[string]any{"type": "string", "enum": vals} }
	var cats, sevs, statuses []string
	for _, c := range vigil.IncidentCategories {
		cats = append(cats, string(c))
	}
	for _, s := range vigil.Severities {
		sevs = append(sevs, string(s))
	}
	for _, s := range vigil.IncidentStatuses {
		statuses = append(statuses, string(s))
	}
	ids := func(desc string) map[string]any {
		return map[string]any{"type": "array", "items": str(), "description": desc}
	}
	when := nullable(strFmt("date-time"))
	links := map[string]any{
		"alerts":   ids("Alert ids (refs such as ALR-3 accepted on input)."),
		"sessions": ids("Recorded session ids; linking one puts its recording under legal hold."),
		"hosts":    ids("Host (agent) ids; a unique hostname is accepted on input."),
		"assets":   ids("Asset ids (refs such as AST-2 accepted on input)."),
		"risks":    ids("Risk ids (refs such as RSK-4 accepted on input)."),
	}
	in := map[string]any{
		"title": str(), "description": str(), "category": enum(cats...), "severity": enum(sevs...),
		"lessons_learned":       map[string]any{"type": "string", "description": "Required to close the incident (A.5.27)."},
		"personal_data_breach":  map[string]any{"type": "boolean", "description": "Starts the 72-hour notification clock when first set."},
		"authority_notified_at": when,
		"owner":                 ismsPerson,
	}
	for k, v := range links {
		in[k] = v
	}
	upd := map[string]any{"status": enum(statuses...)}
	for k, v := range in {
		upd[k] = v
	}
	create := map[string]any{"from_alerts": ids("Open the incident from these alerts (ids or refs).")}
	for k, v := range in {
		create[k] = v
	}
	entry := obj(nil, map[string]any{"id": str(), "at": strFmt("date-time"), "who": map[string]any{"type": "string", "description": "User id; empty for Vigil itself."},
		"who_name": str(), "what": str()})
	inc := map[string]any{"id": str(), "ref": str(), "status": enum(statuses...), "reported_by": str(),
		"breach_detected_at":    when,
		"notification_deadline": map[string]any{"oneOf": []any{strFmt("date-time"), map[string]any{"type": "null"}}, "description": "breach_detected_at + 72 hours while personal_data_breach is set."},
		"created_at":            strFmt("date-time"), "updated_at": strFmt("date-time"), "closed_at": when,
		"timeline":    map[string]any{"type": "array", "items": entry},
		"suggestions": map[string]any{"type": "array", "items": enum(vigil.SuggestSpecialAudit, vigil.SuggestRiskRegister), "description": "Present on high and critical incidents."},
	}
	for k, v := range in {
		inc[k] = v
	}
	return map[string]any{
		"Incident":       obj(nil, inc),
		"IncidentInput":  obj(nil, create),
		"IncidentUpdate": obj(nil, upd),
		"TimelineEntry":  entry,
		"TimelineInput":  obj([]string{"what"}, map[string]any{"what": str(), "at": strFmt("date-time")}),
	}
}
