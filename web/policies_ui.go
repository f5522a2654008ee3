package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/starters"
)

func (s *Server) policyUIRoutes() {
	s.handle("GET", "/policies", UI, everyone, s.uiPolicies)
	s.handle("POST", "/policies", UI, ismsEditors, s.uiCreatePolicy)
	s.handle("POST", "/policies/from-starter", UI, ismsEditors, s.uiCreatePolicyFromStarter)
	s.handle("GET", "/policies/{id}", UI, everyone, s.uiPolicy)
	s.handle("POST", "/policies/{id}", UI, ismsEditors, s.uiUpdatePolicy)
	s.handle("POST", "/policies/{id}/file", UI, ismsEditors, s.uiUploadPolicyFile)
	s.handle("GET", "/policies/{id}/file", UI, everyone, s.uiPolicyFile)
	s.handle("POST", "/policies/{id}/submit", UI, ismsEditors, s.uiPolicyStatus(vigil.PolicyInReview, "Submitted for review."))
	s.handle("POST", "/policies/{id}/approve", UI, staff, s.uiPolicyStatus(vigil.PolicyApproved, "Approved: this version is now in force."))
	s.handle("POST", "/policies/{id}/reject", UI, staff, s.uiPolicyStatus(vigil.PolicyDraft, "Sent back to draft."))
	s.handle("POST", "/policies/{id}/retire", UI, ismsEditors, s.uiPolicyStatus(vigil.PolicyRetired, "Retired."))
	s.handle("POST", "/policies/{id}/delete", UI, ismsEditors, s.uiDeletePolicy)
	s.handle("POST", "/policies/{id}/acknowledge", UI, policyAcknowledgers, s.uiAcknowledgePolicy)
	s.handle("GET", "/policies/{id}/versions/{version}", UI, everyone, s.uiPolicyVersion)
}

// memberDirectory is the organisation's members, for pickers and for
// showing names where records hold user ids.
type memberDirectory struct {
	Members []vigil.Member
	Names   map[string]string
}

func (s *Server) memberDirectory(ctx context.Context, orgID string) (memberDirectory, error) {
	ms, err := s.store.ListMembers(ctx, orgID, "", 10000)
	if err != nil {
		return memberDirectory{}, err
	}
	d := memberDirectory{Names: map[string]string{}}
	for _, m := range ms {
		d.Names[m.ID] = m.Name
		if m.Role != vigil.RoleExternalAuditor {
			d.Members = append(d.Members, m)
		}
	}
	slices.SortFunc(d.Members, func(a, b vigil.Member) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return d, nil
}

type policiesData struct {
	Policies    []vigil.Policy
	Pending     []vigil.Policy // in force, not yet acknowledged by the viewer
	CanEdit     bool
	Starters    []starters.Starter
	People      memberDirectory
	Kinds       []vigil.PolicyKind
	Form        vigil.PolicyInput
	StarterForm policyFromStarter
}

func (s *Server) policiesPage(w http.ResponseWriter, r *http.Request, status int, v view, form vigil.PolicyInput, starter policyFromStarter) {
	a := actorOf(r)
	ps, err := s.store.ListPolicies(r.Context(), a.OrgID, vigil.PolicyFilter{})
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d := policiesData{Policies: ps, CanEdit: slices.Contains(ismsEditors, a.Role), Kinds: vigil.PolicyKinds, Form: form, StarterForm: starter}
	if a.Role.MayAcknowledge() {
		if d.Pending, err = s.store.ListPolicies(r.Context(), a.OrgID, vigil.PolicyFilter{UnacknowledgedBy: a.UserID}); err != nil {
			s.uiFail(w, r, err)
			return
		}
	}
	if d.CanEdit {
		d.Starters = starters.List()
	}
	if d.People, err = s.memberDirectory(r.Context(), a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	v.Title, v.Nav, v.Actor, v.Data = "Policies", "policies", a, d
	s.render(w, r, status, "policies", v)
}

func (s *Server) uiPolicies(w http.ResponseWriter, r *http.Request) {
	s.policiesPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, vigil.PolicyInput{Kind: vigil.PolicyOther}, policyFromStarter{})
}

// policyFormInput reads the policy fields of a form.
func policyFormInput(r *http.Request) vigil.PolicyInput {
	return vigil.PolicyInput{
		Title: r.PostFormValue("title"), Kind: vigil.PolicyKind(r.PostFormValue("kind")), Owner: r.PostFormValue("owner"),
		Approver: r.PostFormValue("approver"), Body: r.PostFormValue("body"), NextReview: r.PostFormValue("next_review"),
	}
}

func (s *Server) uiCreatePolicy(w http.ResponseWriter, r *http.Request) {
	in := policyFormInput(r)
	p, err := s.store.CreatePolicy(r.Context(), actorOf(r).OrgID, in)
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.policiesPage(w, r, status, v, in, policyFromStarter{}) })
		return
	}
	redirect(w, r, "/policies/"+p.ID+"?done="+url.QueryEscape("Created "+p.Ref+" as a draft."))
}

func (s *Server) uiCreatePolicyFromStarter(w http.ResponseWriter, r *http.Request) {
	req := policyFromStarter{Starter: vigil.PolicyKind(r.PostFormValue("starter")), Owner: r.PostFormValue("owner"),
		Approver: r.PostFormValue("approver"), NextReview: r.PostFormValue("next_review")}
	p, err := s.createFromStarter(r.Context(), actorOf(r).OrgID, req)
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) {
			s.policiesPage(w, r, status, v, vigil.PolicyInput{Kind: vigil.PolicyOther}, req)
		})
		return
	}
	redirect(w, r, "/policies/"+p.ID+"?done="+url.QueryEscape("Created "+p.Ref+" from the starter text. Adapt it, then submit it for review."))
}

type policyData struct {
	Policy     vigil.Policy
	Body       template.HTML
	People     memberDirectory
	Kinds      []vigil.PolicyKind
	Form       vigil.PolicyInput
	CanEdit    bool
	CanApprove bool // the viewer is the named approver and the revision is in review
	CanAck     bool
	MyAck      *time.Time
	Acks       *vigil.PolicyAcknowledgements // for ISMS readers only
	Versions   []vigil.PolicyVersion
}

func (s *Server) policyPage(w http.ResponseWriter, r *http.Request, status int, v view, form *vigil.PolicyInput) {
	a := actorOf(r)
	ctx := r.Context()
	p, err := s.store.GetPolicy(ctx, a.OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d := policyData{Policy: p, Body: renderPolicyMarkdown(p.Body), Kinds: vigil.PolicyKinds, Form: p.Input(),
		CanEdit:    slices.Contains(ismsEditors, a.Role) && p.Status != vigil.PolicyRetired,
		CanApprove: p.Status == vigil.PolicyInReview && p.Approver == a.UserID && p.Author != a.UserID,
		CanAck:     p.InForce() && a.Role.MayAcknowledge(),
	}
	if form != nil {
		d.Form = *form
	}
	if d.People, err = s.memberDirectory(ctx, a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.MyAck, err = s.store.PolicyAcknowledgedAt(ctx, a.OrgID, p.ID, a.UserID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if slices.Contains(ismsReaders, a.Role) {
		acks, err := s.store.PolicyAcknowledgements(ctx, a.OrgID, p.ID)
		if err != nil {
			s.uiFail(w, r, err)
			return
		}
		d.Acks = &acks
	}
	if d.Versions, err = s.store.PolicyVersions(ctx, a.OrgID, p.ID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	v.Title, v.Nav, v.Actor, v.Data = p.Ref+": "+p.Title, "policies", a, d
	s.render(w, r, status, "policies_view", v)
}

func (s *Server) uiPolicy(w http.ResponseWriter, r *http.Request) {
	s.policyPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, nil)
}

// policyDone redirects back to a policy with a message.
func policyDone(w http.ResponseWriter, r *http.Request, id, msg string) {
	redirect(w, r, "/policies/"+url.PathEscape(id)+"?done="+url.QueryEscape(msg))
}

func (s *Server) uiUpdatePolicy(w http.ResponseWriter, r *http.Request) {
	in := policyFormInput(r)
	u := vigil.PolicyUpdate{Title: &in.Title, Kind: &in.Kind, Owner: &in.Owner, Approver: &in.Approver, Body: &in.Body, NextReview: &in.NextReview}
	before, err := s.store.GetPolicy(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	p, err := s.store.UpdatePolicy(r.Context(), actorOf(r).OrgID, before.ID, u)
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.policyPage(w, r, status, v, &in) })
		return
	}
	msg := "Saved."
	if p.Version != before.Version {
		msg = "Saved as draft version " + strconv.Itoa(p.Version) + "; version " + strconv.Itoa(before.Version) + " stays in force until it is approved."
	}
	policyDone(w, r, p.ID, msg)
}

func (s *Server) uiUploadPolicyFile(w http.ResponseWriter, r *http.Request) {
	up, err := readUpload(w, r)
	if err == nil {
		var p vigil.Policy
		if p, err = s.store.SetPolicyFile(r.Context(), actorOf(r).OrgID, r.PathValue("id"), up.filename, up.data); err == nil {
			policyDone(w, r, p.ID, "Uploaded "+p.File.Filename+".")
			return
		}
	}
	s.formFailed(w, r, err, func(status int, v view) { s.policyPage(w, r, status, v, nil) })
}

func (s *Server) uiPolicyFile(w http.ResponseWriter, r *http.Request) {
	s.servePolicyFile(w, r, s.uiFail)
}

func (s *Server) uiPolicyStatus(to vigil.PolicyStatus, done string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.store.SetPolicyStatus(r.Context(), actorOf(r).OrgID, r.PathValue("id"), to, r.PostFormValue("reason"))
		if err != nil {
			s.formFailed(w, r, err, func(status int, v view) { s.policyPage(w, r, status, v, nil) })
			return
		}
		policyDone(w, r, p.ID, done)
	}
}

func (s *Server) uiDeletePolicy(w http.ResponseWriter, r *http.Request) {
	org := actorOf(r).OrgID
	p, err := s.store.GetPolicy(r.Context(), org, r.PathValue("id"))
	if err == nil {
		err = s.store.DeletePolicy(r.Context(), org, p.ID)
	}
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.policyPage(w, r, status, v, nil) })
		return
	}
	redirect(w, r, "/policies?done="+url.QueryEscape("Deleted "+p.Ref+"."))
}

func (s *Server) uiAcknowledgePolicy(w http.ResponseWriter, r *http.Request) {
	ack, err := s.store.AcknowledgePolicy(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.policyPage(w, r, status, v, nil) })
		return
	}
	policyDone(w, r, ack.PolicyID, "Thank you: you acknowledged version "+strconv.Itoa(ack.Version)+".")
}

type policyVersionData struct {
	Policy  vigil.Policy
	Version vigil.PolicyVersion
	Body    template.HTML
	People  memberDirectory
}

func (s *Server) uiPolicyVersion(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || n < 1 {
		s.uiFail(w, r, vigil.Errorf(vigil.ENotFound, "no such version"))
		return
	}
	p, err := s.store.GetPolicy(r.Context(), a.OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	pv, err := s.store.PolicyVersion(r.Context(), a.OrgID, p.ID, n)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	people, err := s.memberDirectory(r.Context(), a.OrgID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "policies_version", view{
		Title: p.Ref + " version " + strconv.Itoa(n) + ": " + pv.Title, Nav: "policies", Actor: a,
		Data: policyVersionData{Policy: p, Version: pv, Body: renderPolicyMarkdown(pv.Body), People: people},
	})
}
