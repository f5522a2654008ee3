package web

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
)

func (s *Server) trainingUIRoutes() {
	s.handle("GET", "/training", UI, everyone, s.uiTraining)
	s.handle("POST", "/training/campaigns", UI, ismsEditors, s.uiCreateCampaign)
	s.handle("GET", "/training/campaigns/{id}", UI, ismsReaders, s.uiCampaign)
	s.handle("POST", "/training/campaigns/{id}", UI, ismsEditors, s.uiUpdateCampaign)
	s.handle("POST", "/training/campaigns/{id}/refresh", UI, ismsEditors, s.uiRefreshCampaign)
	s.handle("POST", "/training/campaigns/{id}/delete", UI, ismsEditors, s.uiDeleteCampaign)
	s.handle("POST", "/training/assignments/{id}/complete", UI, staff, s.uiCompleteAssignment)
}

// audienceRoles are the roles a campaign can be aimed at.
func audienceRoles() []vigil.Role {
	return slices.DeleteFunc(slices.Clone(vigil.MemberRoles), func(r vigil.Role) bool { return r == vigil.RoleExternalAuditor })
}

type trainingData struct {
	Mine        []vigil.TrainingAssignment
	Campaigns   []vigil.TrainingCampaign
	Overall     vigil.TrainingCoverage
	IsReader    bool
	CanEdit     bool
	Today       string
	People      memberDirectory
	Roles       []vigil.Role
	Recurrences []vigil.Recurrence
	Form        vigil.TrainingCampaignInput
}

func (s *Server) trainingPage(w http.ResponseWriter, r *http.Request, status int, v view, form vigil.TrainingCampaignInput) {
	a := actorOf(r)
	ctx := r.Context()
	d := trainingData{IsReader: slices.Contains(ismsReaders, a.Role), CanEdit: slices.Contains(ismsEditors, a.Role),
		Today: vigil.DayOf(s.store.Now()), Roles: audienceRoles(), Recurrences: vigil.Recurrences, Form: form}
	var err error
	if d.Mine, err = s.store.ListTrainingAssignments(ctx, a.OrgID, store.TrainingAssignmentFilter{UserID: a.UserID}); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.IsReader {
		if d.Overall, d.Campaigns, err = s.store.TrainingCoverageReport(ctx, a.OrgID); err != nil {
			s.uiFail(w, r, err)
			return
		}
	}
	if d.CanEdit {
		if d.People, err = s.memberDirectory(ctx, a.OrgID); err != nil {
			s.uiFail(w, r, err)
			return
		}
	}
	v.Title, v.Nav, v.Actor, v.Data = "Training", "training", a, d
	s.render(w, r, status, "training", v)
}

func (s *Server) uiTraining(w http.ResponseWriter, r *http.Request) {
	s.trainingPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, vigil.TrainingCampaignInput{Recurrence: vigil.RecurYearly})
}

// campaignFormInput reads a campaign from a form.
func campaignFormInput(r *http.Request) vigil.TrainingCampaignInput {
	r.ParseForm()
	in := vigil.TrainingCampaignInput{Title: r.PostFormValue("title"), Description: r.PostFormValue("description"),
		AudiencePeople: r.PostForm["audience_people"], DueDate: r.PostFormValue("due_date"), Recurrence: vigil.Recurrence(r.PostFormValue("recurrence"))}
	for _, role := range r.PostForm["audience_roles"] {
		in.AudienceRoles = append(in.AudienceRoles, vigil.Role(role))
	}
	return in
}

func (s *Server) uiCreateCampaign(w http.ResponseWriter, r *http.Request) {
	in := campaignFormInput(r)
	c, err := s.store.CreateTrainingCampaign(r.Context(), actorOf(r).OrgID, in)
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.trainingPage(w, r, status, v, in) })
		return
	}
	redirect(w, r, "/training/campaigns/"+c.ID+"?done="+url.QueryEscape("Created "+c.Ref+" and assigned it to its audience."))
}

type campaignData struct {
	Campaign    vigil.TrainingCampaign
	Assignments []vigil.TrainingAssignment
	CanEdit     bool
	Today       string
	People      memberDirectory
	Roles       []vigil.Role
	Recurrences []vigil.Recurrence
	Form        vigil.TrainingCampaignInput
}

func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request, status int, v view, form *vigil.TrainingCampaignInput) {
	a := actorOf(r)
	ctx := r.Context()
	c, err := s.store.GetTrainingCampaign(ctx, a.OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d := campaignData{Campaign: c, CanEdit: slices.Contains(ismsEditors, a.Role), Today: vigil.DayOf(s.store.Now()), Roles: audienceRoles(), Recurrences: vigil.Recurrences, Form: c.Input()}
	if form != nil {
		d.Form = *form
	}
	if d.Assignments, err = s.store.ListTrainingAssignments(ctx, a.OrgID, store.TrainingAssignmentFilter{CampaignID: c.ID}); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.People, err = s.memberDirectory(ctx, a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	v.Title, v.Nav, v.Actor, v.Data = c.Ref+": "+c.Title, "training", a, d
	s.render(w, r, status, "training_campaign", v)
}

func (s *Server) uiCampaign(w http.ResponseWriter, r *http.Request) {
	s.campaignPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, nil)
}

func campaignDone(w http.ResponseWriter, r *http.Request, id, msg string) {
	redirect(w, r, "/training/campaigns/"+url.PathEscape(id)+"?done="+url.QueryEscape(msg))
}

func (s *Server) uiUpdateCampaign(w http.ResponseWriter, r *http.Request) {
	in := campaignFormInput(r)
	roles, people := in.AudienceRoles, in.AudiencePeople
	if roles == nil {
		roles = []vigil.Role{}
	}
	if people == nil {
		people = []string{}
	}
	u := vigil.TrainingCampaignUpdate{Title: &in.Title, Description: &in.Description, AudienceRoles: &roles, AudiencePeople: &people,
		DueDate: &in.DueDate, Recurrence: &in.Recurrence}
	c, err := s.store.UpdateTrainingCampaign(r.Context(), actorOf(r).OrgID, r.PathValue("id"), u)
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.campaignPage(w, r, status, v, &in) })
		return
	}
	campaignDone(w, r, c.ID, "Saved; assignments follow the audience and due date.")
}

func (s *Server) uiRefreshCampaign(w http.ResponseWriter, r *http.Request) {
	c, err := s.store.RefreshTrainingCampaign(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.campaignPage(w, r, status, v, nil) })
		return
	}
	campaignDone(w, r, c.ID, "Assignments refreshed.")
}

func (s *Server) uiDeleteCampaign(w http.ResponseWriter, r *http.Request) {
	org := actorOf(r).OrgID
	c, err := s.store.GetTrainingCampaign(r.Context(), org, r.PathValue("id"))
	if err == nil {
		err = s.store.DeleteTrainingCampaign(r.Context(), org, c.ID)
	}
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.campaignPage(w, r, status, v, nil) })
		return
	}
	redirect(w, r, "/training?done="+url.QueryEscape("Deleted "+c.Ref+"."))
}

func (s *Server) uiCompleteAssignment(w http.ResponseWriter, r *http.Request) {
	req := trainingCompletion{CompletedAt: r.PostFormValue("completed_at"), Evidence: r.PostFormValue("evidence")}
	back := localPath(r.PostFormValue("back"))
	if back == "/" {
		back = "/training"
	}
	c, err := req.completion()
	if err == nil {
		var a vigil.TrainingAssignment
		if a, err = s.store.CompleteTrainingAssignment(r.Context(), actorOf(r).OrgID, r.PathValue("id"), c); err == nil {
			redirect(w, r, back+"?done="+url.QueryEscape("Recorded "+a.CampaignTitle+" as completed for "+a.Name+"."))
			return
		}
	}
	s.formFailed(w, r, err, func(status int, v view) {
		s.trainingPage(w, r, status, v, vigil.TrainingCampaignInput{Recurrence: vigil.RecurYearly})
	})
}
