package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/catalog"
	"github.com/vigilhq/vigil/store"
)

func (s *Server) soaUIRoutes() {
	s.handle("GET", "/soa", UI, ismsReaders, s.uiSoA)
	s.handle("GET", "/soa/export", UI, ismsReaders, s.uiExportSoA)
	s.handle("GET", "/soa/diff", UI, ismsReaders, s.uiSoADiff)
	s.handle("POST", "/soa/versions", UI, ismsEditors, s.uiApproveSoA)
	s.handle("GET", "/soa/versions/{n}", UI, ismsReaders, s.uiSoAVersion)
	s.handle("GET", "/soa/controls", UI, ismsReaders, s.uiOrgControls)
	s.handle("POST", "/soa/controls", UI, ismsEditors, s.uiCreateOrgControl)
	s.handle("GET", "/soa/controls/{id}", UI, ismsReaders, s.uiOrgControl)
	s.handle("POST", "/soa/controls/{id}", UI, ismsEditors, s.uiUpdateOrgControl)
	s.handle("POST", "/soa/controls/{id}/delete", UI, ismsEditors, s.uiDeleteOrgControl)
	s.handle("GET", "/soa/{ref}", UI, ismsReaders, s.uiSoAControl)
	s.handle("POST", "/soa/{ref}", UI, ismsEditors, s.uiUpdateSoAControl)
}

// soaView is what the SoA pages share: people by name and the way
// applicability reads.
type soaView struct {
	People     ismsPeople
	Applicable func(*bool) string
}

func (s *Server) soaView(r *http.Request) (soaView, error) {
	p, err := s.ismsPeople(r.Context(), actorOf(r).OrgID)
	return soaView{People: p, Applicable: vigil.ApplicableText}, err
}

type soaPage struct {
	soaView
	CanEdit  bool
	Rows     []vigil.SoARow
	Shown    int
	Stats    store.SoAStats
	Versions []vigil.SoAVersion
	Show     string // "" (all) or "undecided"
	// NextVersion is the number the next approval gets.
	NextVersion int
	Theme       string
	Themes      []string
}

func (s *Server) uiSoA(w http.ResponseWriter, r *http.Request) {
	s.soaPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")})
}

func (s *Server) soaPage(w http.ResponseWriter, r *http.Request, status int, v view) {
	a := actorOf(r)
	ctx := r.Context()
	q := r.URL.Query()
	d := soaPage{CanEdit: canEditISMS(a), Show: q.Get("show"), Theme: q.Get("theme"),
		Themes: []string{string(catalog.ThemeOrganizational), string(catalog.ThemePeople), string(catalog.ThemePhysical), string(catalog.ThemeTechnological)}}
	var err error
	if d.soaView, err = s.soaView(r); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.Versions, err = s.store.ListSoAVersions(ctx, a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	rows, err := s.store.SoA(ctx, a.OrgID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	var latest *vigil.SoAVersion
	if len(d.Versions) > 0 {
		v, err := s.store.GetSoAVersion(ctx, a.OrgID, d.Versions[0].Version)
		if err != nil {
			s.uiFail(w, r, err)
			return
		}
		latest = &v
	}
	d.Stats = store.NewSoAStats(rows, latest)
	d.NextVersion = d.Stats.LatestVersion + 1
	for _, row := range rows {
		if (d.Show == "undecided" && row.Decided()) || (d.Theme != "" && row.Theme != d.Theme) {
			continue
		}
		d.Rows = append(d.Rows, row)
	}
	v.Title, v.Nav, v.Actor, v.Data = "Statement of Applicability", "soa", a, d
	s.render(w, r, status, "soa", v)
}

func (s *Server) uiApproveSoA(w http.ResponseWriter, r *http.Request) {
	ver, err := s.store.ApproveSoA(r.Context(), actorOf(r).OrgID)
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.soaPage(w, r, status, v) })
		return
	}
	redirect(w, r, "/soa?done="+url.QueryEscape("Approved version "+strconv.Itoa(ver.Version)+" of the SoA."))
}

// soaForm holds the decision form's values as typed.
type soaForm struct {
	Applicable, Justification, Status, Owner string
}

type soaControlPage struct {
	soaView
	CanEdit  bool
	Row      vigil.SoARow
	Purpose  string
	Form     soaForm
	Statuses []string
}

func (s *Server) soaControlPage(w http.ResponseWriter, r *http.Request, status int, v view, form *soaForm) {
	a := actorOf(r)
	row, err := s.store.SoAControl(r.Context(), a.OrgID, r.PathValue("ref"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d := soaControlPage{CanEdit: canEditISMS(a), Row: row, Statuses: ismsStrings(vigil.SoAStatuses)}
	if c, ok := catalog.ISO27001v2022().Control(row.Ref); ok {
		d.Purpose = c.Purpose
	}
	if d.soaView, err = s.soaView(r); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if form != nil {
		d.Form = *form
	} else {
		// The form edits the stored decision, not the citation of risks
		// the SoA adds to it.
		e, err := s.store.SoADecision(r.Context(), a.OrgID, row.Ref)
		if err != nil {
			s.uiFail(w, r, err)
			return
		}
		d.Form = soaForm{Justification: e.Justification, Status: string(e.Status), Owner: e.Owner}
		if e.Applicable != nil {
			d.Form.Applicable = strconv.FormatBool(*e.Applicable)
		}
	}
	v.Title, v.Nav, v.Actor, v.Data = row.Ref+" "+row.Title, "soa", a, d
	s.render(w, r, status, "soa_edit", v)
}

func (s *Server) uiSoAControl(w http.ResponseWriter, r *http.Request) {
	s.soaControlPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, nil)
}

func (s *Server) uiUpdateSoAControl(w http.ResponseWriter, r *http.Request) {
	v := r.PostFormValue
	form := soaForm{Applicable: v("applicable"), Justification: v("justification"), Status: v("status"), Owner: v("owner")}
	status := vigil.SoAStatus(form.Status)
	upd := vigil.SoAUpdate{SetApplicable: true, Justification: &form.Justification, Status: &status, Owner: &form.Owner}
	var err error
	switch form.Applicable {
	case "true", "false":
		b := form.Applicable == "true"
		upd.Applicable = &b
	case "":
	default:
		err = vigil.Invalid("applicable", "must be yes, no or undecided")
	}
	var row vigil.SoARow
	if err == nil {
		row, err = s.store.UpdateSoA(r.Context(), actorOf(r).OrgID, r.PathValue("ref"), upd)
	}
	if err != nil {
		if vigil.ErrorCode(err) == vigil.ENotFound {
			s.uiFail(w, r, err)
			return
		}
		s.formFailed(w, r, err, func(status int, v view) { s.soaControlPage(w, r, status, v, &form) })
		return
	}
	redirect(w, r, "/soa/"+row.Ref+"?done="+url.QueryEscape("Saved the decision about "+row.Ref+"."))
}

type soaVersionPage struct {
	soaView
	Version  vigil.SoAVersion
	Approver string
	Previous int
}

func (s *Server) uiSoAVersion(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	n, err := soaVersionNumber("n", r.PathValue("n"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	ver, err := s.store.GetSoAVersion(r.Context(), a.OrgID, n)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d := soaVersionPage{Version: ver, Approver: soaApproverName(r.Context(), s.store, ver.ApprovedBy), Previous: ver.Version - 1}
	if d.soaView, err = s.soaView(r); err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "soa_version", view{Title: "Statement of Applicability, version " + strconv.Itoa(n), Nav: "soa", Actor: a, Data: d})
}

type soaDiffPage struct {
	From, To int // To 0: the current SoA
	Versions []vigil.SoAVersion
	Changes  []vigil.SoAChange
	Value    func(any) string
}

// soaChangeValue renders a diff value for people.
func soaChangeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "undecided"
	case bool:
		return vigil.ApplicableText(&x)
	case vigil.SoAStatus:
		return string(x)
	case string:
		if x == "" {
			return "(empty)"
		}
		return x
	}
	return ""
}

func (s *Server) uiSoADiff(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	from, to, err := soaDiffRange(r)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d := soaDiffPage{From: from, To: to, Value: soaChangeValue}
	if d.Changes, err = s.store.SoADiff(r.Context(), a.OrgID, from, to); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.Versions, err = s.store.ListSoAVersions(r.Context(), a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "soa_diff", view{Title: "Changes to the Statement of Applicability", Nav: "soa", Actor: a, Data: d})
}

func (s *Server) uiExportSoA(w http.ResponseWriter, r *http.Request) {
	f, version, err := soaExportRequest(r)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	t, cover, err := SoAExport(r.Context(), s.store, actorOf(r).OrgID, version, time.Now())
	if err == nil {
		err = arSendExport(w, f, t, cover, soaFileName(version))
	}
	if err != nil {
		s.uiFail(w, r, err)
	}
}

// ---- Own controls ----

type orgControlsPage struct {
	CanEdit bool
	Item    *vigil.OrgControl
	Items   []vigil.OrgControl
	Total   int
	Next    string
	Form    vigil.OrgControlInput
	People  ismsPeople
	Risks   []vigil.Risk
}

func (s *Server) orgControlsPage(w http.ResponseWriter, r *http.Request, status int, v view, item *vigil.OrgControl, form vigil.OrgControlInput) {
	a := actorOf(r)
	ctx := r.Context()
	d := orgControlsPage{CanEdit: canEditISMS(a), Item: item, Form: form}
	var err error
	if d.People, err = s.ismsPeople(ctx, a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	v.Title = "Own controls"
	if item != nil {
		v.Title = item.Ref + " " + item.Title
		d.Risks, _, err = s.store.ListRisks(ctx, a.OrgID, store.RiskFilter{Control: item.Ref, Limit: arPageSize})
	} else {
		d.Items, d.Total, err = s.store.ListOrgControls(ctx, a.OrgID, r.URL.Query().Get("after"), arPageSize+1)
		if len(d.Items) > arPageSize {
			d.Items = d.Items[:arPageSize]
			d.Next = "/soa/controls?" + url.Values{"after": {d.Items[arPageSize-1].ID}}.Encode()
		}
	}
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	v.Nav, v.Actor, v.Data = "soa", a, d
	s.render(w, r, status, "soa_controls", v)
}

func readOrgControlForm(r *http.Request) vigil.OrgControlInput {
	return vigil.OrgControlInput{Title: r.PostFormValue("title"), Description: r.PostFormValue("description"), Owner: r.PostFormValue("owner")}
}

func (s *Server) uiOrgControls(w http.ResponseWriter, r *http.Request) {
	s.orgControlsPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, nil, vigil.OrgControlInput{})
}

func (s *Server) uiCreateOrgControl(w http.ResponseWriter, r *http.Request) {
	form := readOrgControlForm(r)
	c, err := s.store.CreateOrgControl(r.Context(), actorOf(r).OrgID, form)
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.orgControlsPage(w, r, status, v, nil, form) })
		return
	}
	redirect(w, r, "/soa/controls/"+c.ID+"?done="+url.QueryEscape("Added "+c.Ref+"."))
}

func (s *Server) uiOrgControl(w http.ResponseWriter, r *http.Request) {
	c, err := s.store.GetOrgControl(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.orgControlsPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, &c, c.Input())
}

func (s *Server) uiUpdateOrgControl(w http.ResponseWriter, r *http.Request) {
	org := actorOf(r).OrgID
	cur, err := s.store.GetOrgControl(r.Context(), org, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	form := readOrgControlForm(r)
	c, err := s.store.UpdateOrgControl(r.Context(), org, cur.ID, vigil.OrgControlUpdate{Title: &form.Title, Description: &form.Description, Owner: &form.Owner})
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.orgControlsPage(w, r, status, v, &cur, form) })
		return
	}
	redirect(w, r, "/soa/controls/"+c.ID+"?done="+url.QueryEscape("Saved "+c.Ref+"."))
}

func (s *Server) uiDeleteOrgControl(w http.ResponseWriter, r *http.Request) {
	org := actorOf(r).OrgID
	cur, err := s.store.GetOrgControl(r.Context(), org, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	if err := s.store.DeleteOrgControl(r.Context(), org, cur.ID); err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.orgControlsPage(w, r, status, v, &cur, cur.Input()) })
		return
	}
	redirect(w, r, "/soa/controls?done="+url.QueryEscape("Deleted "+cur.Ref+" "+cur.Title+"."))
}
