package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/vigilhq/vigil"
)

func (s *Server) evidenceUIRoutes() {
	s.handle("GET", "/evidence", UI, ismsReaders, s.uiEvidence)
	s.handle("POST", "/evidence", UI, evidenceUploaders, s.uiCreateEvidence)
	s.handle("GET", "/evidence/{id}", UI, ismsReaders, s.uiEvidenceItem)
	s.handle("POST", "/evidence/{id}", UI, evidenceUploaders, s.uiUpdateEvidence)
	s.handle("POST", "/evidence/{id}/delete", UI, ismsEditors, s.uiDeleteEvidence)
	s.handle("GET", "/evidence/{id}/download", UI, ismsReaders, s.uiDownloadEvidence)
}

// evidenceForm is the evidence form as typed: link lists are
// comma-separated text.
type evidenceForm struct {
	vigil.EvidenceInput
	RequirementsText, RisksText, PoliciesText string
}

func newEvidenceForm(in vigil.EvidenceInput, refs evidenceRefs) evidenceForm {
	return evidenceForm{EvidenceInput: in, RequirementsText: strings.Join(in.Requirements, ", "),
		RisksText: refs.join(in.Risks, refs.Risks), PoliciesText: refs.join(in.Policies, refs.Policies)}
}

// evidenceRefs maps the ids of linked records to their references, so
// pages show POL-2 and RSK-4 rather than ids.
type evidenceRefs struct {
	Policies map[string]string
	Risks    map[string]string
}

func (evidenceRefs) join(ids []string, refs map[string]string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id
		if ref, ok := refs[id]; ok {
			out[i] = ref
		}
	}
	return strings.Join(out, ", ")
}

type evidenceData struct {
	Items       []vigil.Evidence
	Requirement string
	Stale       string
	CanUpload   bool
	People      memberDirectory
	Refs        evidenceRefs
	Form        evidenceForm
}

func (s *Server) evidenceRefs(r *http.Request) (evidenceRefs, error) {
	ps, err := s.store.ListPolicies(r.Context(), actorOf(r).OrgID, vigil.PolicyFilter{})
	if err != nil {
		return evidenceRefs{}, err
	}
	refs := evidenceRefs{Policies: map[string]string{}}
	for _, p := range ps {
		refs.Policies[p.ID] = p.Ref
	}
	refs.Risks, err = s.store.EvidenceRiskRefs(r.Context(), actorOf(r).OrgID)
	return refs, err
}

func (s *Server) evidencePage(w http.ResponseWriter, r *http.Request, status int, v view, form evidenceForm) {
	a := actorOf(r)
	f, err := s.evidenceFilter(r)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d := evidenceData{Requirement: f.Requirement, Stale: r.URL.Query().Get("stale"), CanUpload: slices.Contains(evidenceUploaders, a.Role), Form: form}
	if d.Items, err = s.store.ListEvidence(r.Context(), a.OrgID, f); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.People, err = s.memberDirectory(r.Context(), a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.Refs, err = s.evidenceRefs(r); err != nil {
		s.uiFail(w, r, err)
		return
	}
	v.Title, v.Nav, v.Actor, v.Data = "Evidence", "evidence", a, d
	s.render(w, r, status, "evidence", v)
}

func (s *Server) uiEvidence(w http.ResponseWriter, r *http.Request) {
	s.evidencePage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, evidenceForm{})
}

func (s *Server) uiCreateEvidence(w http.ResponseWriter, r *http.Request) {
	var form evidenceForm
	up, err := readUpload(w, r)
	if err == nil {
		form.EvidenceInput, err = evidenceInputOf(up.fields)
		form.RequirementsText, form.RisksText, form.PoliciesText = up.fields.Get("requirements"), up.fields.Get("risks"), up.fields.Get("policies")
	}
	if err == nil {
		form.Filename = up.filename
		var e vigil.Evidence
		if e, err = s.store.CreateEvidence(r.Context(), actorOf(r).OrgID, form.EvidenceInput, up.data); err == nil {
			redirect(w, r, "/evidence/"+e.ID+"?done="+url.QueryEscape("Stored "+e.Ref+"."))
			return
		}
	}
	s.formFailed(w, r, err, func(status int, v view) { s.evidencePage(w, r, status, v, form) })
}

type evidenceItemData struct {
	Item      vigil.Evidence
	CanEdit   bool
	CanDelete bool
	People    memberDirectory
	Refs      evidenceRefs
	Form      evidenceForm
}

func (s *Server) evidenceItemPage(w http.ResponseWriter, r *http.Request, status int, v view, form *evidenceForm) {
	a := actorOf(r)
	e, err := s.store.GetEvidence(r.Context(), a.OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d := evidenceItemData{Item: e, CanEdit: slices.Contains(evidenceUploaders, a.Role), CanDelete: slices.Contains(ismsEditors, a.Role)}
	if d.People, err = s.memberDirectory(r.Context(), a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.Refs, err = s.evidenceRefs(r); err != nil {
		s.uiFail(w, r, err)
		return
	}
	d.Form = newEvidenceForm(e.Input(), d.Refs)
	if form != nil {
		d.Form = *form
	}
	v.Title, v.Nav, v.Actor, v.Data = e.Ref+": "+e.Title, "evidence", a, d
	s.render(w, r, status, "evidence_view", v)
}

func (s *Server) uiEvidenceItem(w http.ResponseWriter, r *http.Request) {
	s.evidenceItemPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, nil)
}

func (s *Server) uiUpdateEvidence(w http.ResponseWriter, r *http.Request) {
	form := evidenceForm{EvidenceInput: vigil.EvidenceInput{
		Title: r.PostFormValue("title"), Description: r.PostFormValue("description"), Collector: r.PostFormValue("collector"),
		ObservedFrom: r.PostFormValue("observed_from"), ObservedTo: r.PostFormValue("observed_to"), ValidUntil: r.PostFormValue("valid_until"),
	}, RequirementsText: r.PostFormValue("requirements"), RisksText: r.PostFormValue("risks"), PoliciesText: r.PostFormValue("policies")}
	reqs, risks, policies := []string{form.RequirementsText}, []string{form.RisksText}, []string{form.PoliciesText}
	u := vigil.EvidenceUpdate{Title: &form.Title, Description: &form.Description, Collector: &form.Collector, ObservedFrom: &form.ObservedFrom,
		ObservedTo: &form.ObservedTo, ValidUntil: &form.ValidUntil, Requirements: &reqs, Risks: &risks, Policies: &policies}
	e, err := s.store.UpdateEvidence(r.Context(), actorOf(r).OrgID, r.PathValue("id"), u)
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.evidenceItemPage(w, r, status, v, &form) })
		return
	}
	redirect(w, r, "/evidence/"+e.ID+"?done="+url.QueryEscape("Saved."))
}

func (s *Server) uiDeleteEvidence(w http.ResponseWriter, r *http.Request) {
	org := actorOf(r).OrgID
	e, err := s.store.GetEvidence(r.Context(), org, r.PathValue("id"))
	if err == nil {
		err = s.store.DeleteEvidence(r.Context(), org, e.ID)
	}
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.evidenceItemPage(w, r, status, v, nil) })
		return
	}
	redirect(w, r, "/evidence?done="+url.QueryEscape("Deleted "+e.Ref+"."))
}

func (s *Server) uiDownloadEvidence(w http.ResponseWriter, r *http.Request) {
	s.serveEvidence(w, r, s.uiFail)
}
