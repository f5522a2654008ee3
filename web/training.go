package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
)

// trainingRoutes registers the training endpoints (API and UI).
func (s *Server) trainingRoutes() {
	s.handle("GET", "/api/v1/training/campaigns", API, ismsReaders, s.apiListCampaigns)
	s.handle("POST", "/api/v1/training/campaigns", API, ismsEditors, s.apiCreateCampaign)
	s.handle("GET", "/api/v1/training/campaigns/{id}", API, ismsReaders, s.apiGetCampaign)
	s.handle("PATCH", "/api/v1/training/campaigns/{id}", API, ismsEditors, s.apiUpdateCampaign)
	s.handle("DELETE", "/api/v1/training/campaigns/{id}", API, ismsEditors, s.apiDeleteCampaign)
	s.handle("POST", "/api/v1/training/campaigns/{id}/refresh", API, ismsEditors, s.apiRefreshCampaign)
	s.handle("GET", "/api/v1/training/campaigns/{id}/assignments", API, ismsReaders, s.apiCampaignAssignments)
	s.handle("GET", "/api/v1/training/assignments", API, everyone, s.apiMyAssignments)
	// Open to staff: the store lets the assignee, admins and ISMS managers
	// succeed.
	s.handle("POST", "/api/v1/training/assignments/{id}/complete", API, staff, s.apiCompleteAssignment)
	s.handle("GET", "/api/v1/training/coverage", API, ismsReaders, s.apiTrainingCoverage)
	s.trainingUIRoutes()
}

var campaignIDParam = param{Name: "id", In: "path", Description: "Campaign id or reference (TRN-2).", Type: "string", Required: true}

// trainingOperations documents the training API for the OpenAPI document.
var trainingOperations = []operation{
	{Method: "GET", Path: "/api/v1/training/campaigns", Summary: "Training campaigns with the coverage of their current round.", Params: pageParams, Status: 200, Response: "TrainingCampaign", List: true},
	{Method: "POST", Path: "/api/v1/training/campaigns", Summary: "Create a campaign; every member of its audience gets an assignment.", Request: "TrainingCampaignInput", Status: 201, Response: "TrainingCampaign"},
	{Method: "GET", Path: "/api/v1/training/campaigns/{id}", Summary: "One campaign with its coverage.", Params: []param{campaignIDParam}, Status: 200, Response: "TrainingCampaign"},
	{Method: "PATCH", Path: "/api/v1/training/campaigns/{id}", Summary: "Change a campaign; its current assignments follow the audience and due date.", Params: []param{campaignIDParam}, Request: "TrainingCampaignUpdate", Status: 200, Response: "TrainingCampaign"},
	{Method: "DELETE", Path: "/api/v1/training/campaigns/{id}", Summary: "Delete a campaign and its assignments.", Params: []param{campaignIDParam}, Status: 204},
	{Method: "POST", Path: "/api/v1/training/campaigns/{id}/refresh", Summary: "Assign the campaign to members who joined its audience since, withdraw unfinished assignments of those who left it, and start the next round of a recurring campaign whose due date has passed.", Params: []param{campaignIDParam}, Status: 200, Response: "TrainingCampaign"},
	{Method: "GET", Path: "/api/v1/training/campaigns/{id}/assignments", Summary: "Assignments of a campaign's current round (or of the round given).", Params: []param{campaignIDParam,
		{Name: "round", In: "query", Description: "A round number; without it, the current round.", Type: "integer"}}, Status: 200, Response: "TrainingAssignment", List: true},
	{Method: "GET", Path: "/api/v1/training/assignments", Summary: "The caller's own assignments: the current round of every campaign and any older one left unfinished.", Status: 200, Response: "TrainingAssignment", List: true},
	{Method: "POST", Path: "/api/v1/training/assignments/{id}/complete", Summary: "Record an assignment as completed: by the assignee, or by an admin or ISMS manager on their behalf.", Params: []param{idParam}, Request: "TrainingCompletion", Status: 200, Response: "TrainingAssignment"},
	{Method: "GET", Path: "/api/v1/training/coverage", Summary: "Assigned, completed and overdue counts and coverage (0–100) per campaign and overall, over current assignments.", Status: 200, Response: "TrainingCoverageReport"},
}

// trainingSchemas are the OpenAPI schemas the training operations refer to.
func trainingSchemas() map[string]any {
	integer := map[string]any{"type": "integer"}
	coverage := map[string]any{"assigned": integer, "completed": integer, "overdue": integer,
		"coverage": map[string]any{"type": "integer", "minimum": 0, "maximum": 100, "description": "completed as a percentage of assigned, rounded down; 100 when nothing is assigned"}}
	campaign := map[string]any{
		"id": str(), "ref": str(), "title": str(), "description": str(),
		"audience_roles":  map[string]any{"type": "array", "items": roleSchema()},
		"audience_people": map[string]any{"type": "array", "items": str(), "description": "User ids."},
		"due_date":        map[string]any{"type": "string", "format": "date", "description": "Due date of the current round."},
		"recurrence":      policyEnum(vigil.Recurrences),
		"round":           integer,
		"created_at":      strFmt("date-time"), "updated_at": strFmt("date-time"),
	}
	for k, v := range coverage {
		campaign[k] = v
	}
	input := map[string]any{
		"title": str(), "description": str(),
		"audience_roles":  map[string]any{"type": "array", "items": roleSchema()},
		"audience_people": map[string]any{"type": "array", "items": str(), "description": "Members' user ids or emails."},
		"due_date":        map[string]any{"type": "string", "format": "date"},
		"recurrence":      policyEnum(vigil.Recurrences),
	}
	return map[string]any{
		"TrainingCampaign":       obj([]string{"id", "ref", "title", "audience_roles", "audience_people", "due_date", "recurrence", "round", "assigned", "completed", "overdue", "coverage"}, campaign),
		"TrainingCampaignInput":  obj([]string{"title", "due_date"}, input),
		"TrainingCampaignUpdate": obj(nil, input),
		"TrainingAssignment": obj([]string{"id", "campaign_id", "round", "user_id", "due_date", "completed_at", "overdue"}, map[string]any{
			"id": str(), "campaign_id": str(), "campaign_ref": str(), "campaign_title": str(), "round": integer,
			"user_id": str(), "email": strFmt("email"), "name": str(), "due_date": str(),
			"completed_at": nullable(strFmt("date-time")), "completed_by": str(),
			"evidence_id": map[string]any{"type": "string", "description": "Linked evidence, or empty."}, "note": str(),
			"overdue": map[string]any{"type": "boolean"}, "created_at": strFmt("date-time"),
		}),
		"TrainingCompletion": obj(nil, map[string]any{
			"completed_at": map[string]any{"type": "string", "description": "RFC 3339 time or YYYY-MM-DD; default now; not in the future."},
			"evidence":     map[string]any{"type": "string", "description": "An evidence id or EVD-n reference (which must exist), or else a note."},
		}),
		"TrainingCoverageReport": obj([]string{"overall", "campaigns"}, map[string]any{
			"overall": obj([]string{"assigned", "completed", "overdue", "coverage"}, coverage),
			"campaigns": map[string]any{"type": "array", "items": obj([]string{"id", "ref", "title", "assigned", "completed", "overdue", "coverage"}, map[string]any{
				"id": str(), "ref": str(), "title": str(), "due_date": str(), "round": integer,
				"assigned": integer, "completed": integer, "overdue": integer, "coverage": coverage["coverage"],
			})},
		}),
	}
}

func (s *Server) apiListCampaigns(w http.ResponseWriter, r *http.Request) {
	p, err := parsePage(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	cs, err := s.store.ListTrainingCampaigns(r.Context(), actorOf(r).OrgID, p.Cursor, p.Limit+1)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(cs, p.Limit, func(c vigil.TrainingCampaign) string { return c.ID }))
}

func (s *Server) apiCreateCampaign(w http.ResponseWriter, r *http.Request) {
	var in vigil.TrainingCampaignInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	c, err := s.store.CreateTrainingCampaign(r.Context(), actorOf(r).OrgID, in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/training/campaigns/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) apiGetCampaign(w http.ResponseWriter, r *http.Request) {
	c, err := s.store.GetTrainingCampaign(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) apiUpdateCampaign(w http.ResponseWriter, r *http.Request) {
	var u vigil.TrainingCampaignUpdate
	if err := decodeJSON(w, r, &u); err != nil {
		s.apiError(w, r, err)
		return
	}
	c, err := s.store.UpdateTrainingCampaign(r.Context(), actorOf(r).OrgID, r.PathValue("id"), u)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) apiDeleteCampaign(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteTrainingCampaign(r.Context(), actorOf(r).OrgID, r.PathValue("id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiRefreshCampaign(w http.ResponseWriter, r *http.Request) {
	c, err := s.store.RefreshTrainingCampaign(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) apiCampaignAssignments(w http.ResponseWriter, r *http.Request) {
	org := actorOf(r).OrgID
	c, err := s.store.GetTrainingCampaign(r.Context(), org, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	f := store.TrainingAssignmentFilter{CampaignID: c.ID}
	if v := r.URL.Query().Get("round"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > c.Round {
			s.apiError(w, r, vigil.Invalid("round", "must be a round from 1 to %d", c.Round))
			return
		}
		f.Round = n
	}
	as, err := s.store.ListTrainingAssignments(r.Context(), org, f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, List[vigil.TrainingAssignment]{Items: as})
}

func (s *Server) apiMyAssignments(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	as, err := s.store.ListTrainingAssignments(r.Context(), a.OrgID, store.TrainingAssignmentFilter{UserID: a.UserID})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, List[vigil.TrainingAssignment]{Items: as})
}

// trainingCompletion is the body of a completion.
type trainingCompletion struct {
	CompletedAt string `json:"completed_at"`
	Evidence    string `json:"evidence"`
}

// completion checks the completion time: RFC 3339 or a calendar date.
func (c trainingCompletion) completion() (vigil.TrainingCompletion, error) {
	out := vigil.TrainingCompletion{Evidence: c.Evidence}
	v := strings.TrimSpace(c.CompletedAt)
	if v == "" {
		return out, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		out.CompletedAt = t.UTC()
		return out, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		out.CompletedAt = t
		return out, nil
	}
	return out, vigil.Invalid("completed_at", "must be an RFC 3339 time or a date such as 2026-01-31")
}

func (s *Server) apiCompleteAssignment(w http.ResponseWriter, r *http.Request) {
	var req trainingCompletion
	if err := decodeOptionalJSON(w, r, &req); err != nil {
		s.apiError(w, r, err)
		return
	}
	c, err := req.completion()
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	a, err := s.store.CompleteTrainingAssignment(r.Context(), actorOf(r).OrgID, r.PathValue("id"), c)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// trainingCoverageReport is the coverage response.
type trainingCoverageReport struct {
	Overall   vigil.TrainingCoverage   `json:"overall"`
	Campaigns []campaignCoverageReport `json:"campaigns"`
}

type campaignCoverageReport struct {
	ID      string `json:"id"`
	Ref     string `json:"ref"`
	Title   string `json:"title"`
	DueDate string `json:"due_date"`
	Round   int    `json:"round"`
	vigil.TrainingCoverage
}

func (s *Server) trainingCoverage(r *http.Request) (trainingCoverageReport, error) {
	overall, cs, err := s.store.TrainingCoverageReport(r.Context(), actorOf(r).OrgID)
	rep := trainingCoverageReport{Overall: overall, Campaigns: []campaignCoverageReport{}}
	for _, c := range cs {
		rep.Campaigns = append(rep.Campaigns, campaignCoverageReport{ID: c.ID, Ref: c.Ref, Title: c.Title, DueDate: c.DueDate, Round: c.Round, TrainingCoverage: c.TrainingCoverage})
	}
	return rep, err
}

func (s *Server) apiTrainingCoverage(w http.ResponseWriter, r *http.Request) {
	rep, err := s.trainingCoverage(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
