package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
)

// The pages of audits (9.2), findings and corrective actions (10.2),
// management review (9.3), the certification cycle and the audit
// programme. Every form goes through the store calls the API uses.

// auditUIRoutes registers the audit pages; reads and writes are open to the
// roles of their API counterparts.
func (s *Server) auditUIRoutes() {
	s.handle("GET", "/audits", UI, ismsReaders, s.uiAudits)
	s.handle("POST", "/audits", UI, auditEditors, s.uiCreateAudit)
	s.handle("GET", "/audits/{id}", UI, ismsReaders, s.uiAudit)
	s.handle("POST", "/audits/{id}/checklist/{item_id}", UI, auditEditors, s.uiChecklistItem)
	s.handle("POST", "/audits/{id}/report", UI, auditEditors, s.uiIssueReport)
	s.handle("GET", "/audits/{id}/report.pdf", UI, ismsReaders, s.uiReportPDF)
	s.handle("POST", "/audits/{id}/guests", UI, ismsEditors, s.uiInviteGuest)
	s.handle("POST", "/audits/{id}/guests/{guest_id}/revoke", UI, ismsEditors, s.uiRevokeGuest)
	s.handle("POST", "/audits/{id}/dates", UI, auditEditors, s.uiAuditDates)
	s.handle("POST", "/audits/{id}/findings", UI, auditEditors, s.uiRecordFinding)
	s.handle("POST", "/findings/{id}/status", UI, auditEditors, s.uiFindingStatus)

	s.handle("GET", "/findings", UI, ismsReaders, s.uiFindings)
	s.handle("GET", "/findings/{id}", UI, ismsReaders, s.uiFinding)
	s.handle("POST", "/findings/{id}/actions", UI, auditEditors, s.uiCreateAction)
	s.handle("POST", "/corrective-actions/{id}", UI, actionWorkers, s.uiUpdateAction)

	s.handle("GET", "/management-reviews", UI, ismsReaders, s.uiReviews)
	s.handle("POST", "/management-reviews", UI, ismsEditors, s.uiCreateReview)
	s.handle("GET", "/management-reviews/{id}", UI, ismsReaders, s.uiReview)
	s.handle("POST", "/management-reviews/{id}", UI, ismsEditors, s.uiUpdateReview)
	s.handle("POST", "/management-reviews/{id}/sign-off", UI, ismsEditors, s.uiSignOffReview)

	s.handle("GET", "/certification", UI, ismsReaders, s.uiCertification)
	s.handle("POST", "/certification", UI, ismsEditors, s.uiPutCertification)
	s.handle("POST", "/changes", UI, ismsEditors, s.uiCreateChange)

	s.handle("GET", "/audit-programme", UI, ismsReaders, s.uiProgramme)
	s.handle("POST", "/audit-programme", UI, ismsEditors, s.uiPutProgramme)
}

// auPageSize is how many rows a list page shows.
const auPageSize = 100

// auLines splits a text area into its trimmed, non-empty lines.
func auLines(s string) []string { return []string(vigil.ParseTextList(s)) }

// auConflicts returns the lines of a conflict error (an impartiality
// refusal lists one per thing an auditor owns).
func auConflicts(err error) []string {
	var ve *vigil.Error
	if errors.As(err, &ve) {
		return ve.Conflicts
	}
	return nil
}

// auFailed answers a failed form: a record that is not there is an error
// page, anything else the form's page again with the message.
func (s *Server) auFailed(w http.ResponseWriter, r *http.Request, err error, rerender func(status int, v view)) {
	if vigil.ErrorCode(err) == vigil.ENotFound {
		s.uiFail(w, r, err)
		return
	}
	s.formFailed(w, r, err, rerender)
}

// done redirects to to with a confirmation for the page to show.
func auDone(w http.ResponseWriter, r *http.Request, to, msg string) {
	redirect(w, r, to+"?done="+url.QueryEscape(msg))
}

// ---- Audits ----

// auditForm holds the plan-an-audit form as typed.
type auditForm struct {
	Type, Title, Criteria, Requirements, Assets, Processes string
	PlannedStart, PlannedEnd, LeadAuditor, Auditors        string
	CertificationBody, BodyAuditors, Override, Change      string
}

func readAuditForm(r *http.Request) auditForm {
	v := r.PostFormValue
	return auditForm{Type: v("type"), Title: v("title"), Criteria: v("criteria"), Requirements: v("requirements"), Assets: v("assets"),
		Processes: v("processes"), PlannedStart: v("planned_start"), PlannedEnd: v("planned_end"), LeadAuditor: v("lead_auditor"),
		Auditors: v("auditors"), CertificationBody: v("certification_body"), BodyAuditors: v("body_auditors"),
		Override: v("impartiality_override"), Change: v("change")}
}

func (f auditForm) input() vigil.AuditInput {
	return vigil.AuditInput{Type: vigil.AuditType(f.Type), Title: f.Title, Criteria: f.Criteria,
		Scope:        vigil.AuditScope{Requirements: auLines(f.Requirements), Assets: auLines(f.Assets), Processes: auLines(f.Processes)},
		PlannedStart: f.PlannedStart, PlannedEnd: f.PlannedEnd, LeadAuditor: f.LeadAuditor, Auditors: auLines(f.Auditors),
		CertificationBody: f.CertificationBody, BodyAuditors: auLines(f.BodyAuditors), ImpartialityOverride: f.Override, Change: f.Change}
}

type auditsPage struct {
	Items     []vigil.Audit
	Next      string
	CanEdit   bool
	IsAdmin   bool
	Types     []vigil.AuditType
	Form      auditForm
	Conflicts []string
	People    ismsPeople
}

func (s *Server) auditsPage(w http.ResponseWriter, r *http.Request, status int, v view, form auditForm, conflicts []string) {
	a := actorOf(r)
	ctx := r.Context()
	d := auditsPage{CanEdit: slices.Contains(auditEditors, a.Role), IsAdmin: a.Role == vigil.RoleAdmin, Types: vigil.AuditTypes, Form: form, Conflicts: conflicts}
	var err error
	if d.People, err = s.ismsPeople(ctx, a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.Items, err = s.store.ListAudits(ctx, a.OrgID, vigil.AuditFilter{}, r.URL.Query().Get("after"), auPageSize+1); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if len(d.Items) > auPageSize {
		d.Items = d.Items[:auPageSize]
		d.Next = "/audits?after=" + url.QueryEscape(d.Items[auPageSize-1].ID)
	}
	v.Title, v.Nav, v.Actor, v.Data = "Audits", "audits", a, d
	s.render(w, r, status, "audits", v)
}

func (s *Server) uiAudits(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	form := auditForm{Type: string(vigil.AuditInternal)}
	// A special audit can be planned straight from the change it follows.
	if t := q.Get("type"); slices.Contains(vigil.AuditTypes, vigil.AuditType(t)) {
		form.Type = t
	}
	form.Change = q.Get("change")
	form.Title = q.Get("title")
	s.auditsPage(w, r, http.StatusOK, view{Flash: q.Get("done")}, form, nil)
}

func (s *Server) uiCreateAudit(w http.ResponseWriter, r *http.Request) {
	form := readAuditForm(r)
	au, err := s.store.CreateAudit(r.Context(), actorOf(r).OrgID, form.input(), auditWrite(r))
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.auditsPage(w, r, status, v, form, auConflicts(err)) })
		return
	}
	auDone(w, r, "/audits/"+au.ID, "Planned "+au.Ref+" "+au.Title+".")
}

type auditPage struct {
	Audit     vigil.Audit
	Statement string
	Assets    []string // refs of the assets in scope
	Checklist []vigil.ChecklistItem
	Findings  []vigil.Finding
	Results   []vigil.ChecklistResult
	CanEdit   bool // record results and issue the report
	CanGuests bool
	Guests    []vigil.AuditGuest
	GuestForm vigil.AuditGuestInput
	Token     string // a new guest's API token, shown once
	Summary   string
	People    ismsPeople
	Now       time.Time
	// FindingForm is the record-a-finding form as typed.
	FindingForm vigil.FindingInput
	Kinds       []vigil.FindingKind
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, status int, v view, fill func(*auditPage)) {
	a := actorOf(r)
	ctx := r.Context()
	au, err := s.store.GetAudit(ctx, a.OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d := auditPage{Audit: au, Statement: vigil.ImpartialityStatement(au), Results: vigil.ChecklistResults, Now: s.store.Now(), Kinds: vigil.FindingKinds,
		CanEdit:   slices.Contains(auditEditors, a.Role) && au.ReportIssuedAt == nil,
		CanGuests: slices.Contains(ismsEditors, a.Role)}
	if d.People, err = s.ismsPeople(ctx, a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	for _, id := range au.Scope.Assets {
		ref := id
		if as, err := s.store.GetAsset(ctx, a.OrgID, id); err == nil {
			ref = as.Ref + " " + as.Name
		}
		d.Assets = append(d.Assets, ref)
	}
	if d.Checklist, err = s.store.Checklist(ctx, a.OrgID, au.ID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.Findings, err = s.store.ListFindings(ctx, a.OrgID, vigil.FindingFilter{Audit: au.ID}, "", 1000); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.CanGuests {
		if d.Guests, err = s.store.ListAuditGuests(ctx, a.OrgID, au.ID); err != nil {
			s.uiFail(w, r, err)
			return
		}
	}
	if fill != nil {
		fill(&d)
	}
	v.Title, v.Nav, v.Actor, v.Data = au.Ref+" "+au.Title, "audits", a, d
	s.render(w, r, status, "audits_view", v)
}

func (s *Server) uiAudit(w http.ResponseWriter, r *http.Request) {
	s.auditPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, nil)
}

// parseEvidenceLinks reads one link per line: "evidence EVD-3",
// "trail 42", "session <id>" or a bare http(s) URL.
func parseEvidenceLinks(text string) []vigil.EvidenceLink {
	out := []vigil.EvidenceLink{}
	for _, line := range auLines(text) {
		typ, ref, ok := strings.Cut(line, " ")
		switch {
		case strings.HasPrefix(line, "http://") || strings.HasPrefix(line, "https://"):
			out = append(out, vigil.EvidenceLink{Type: "url", Ref: line})
		case ok:
			out = append(out, vigil.EvidenceLink{Type: strings.ToLower(typ), Ref: strings.TrimSpace(ref)})
		default:
			out = append(out, vigil.EvidenceLink{Type: "evidence", Ref: line})
		}
	}
	return out
}

// evidenceLinksText shows links the way the form takes them.
func evidenceLinksText(ls []vigil.EvidenceLink) string {
	var b strings.Builder
	for _, l := range ls {
		if l.Type == "url" {
			b.WriteString(l.Ref + "\n")
			continue
		}
		b.WriteString(l.Type + " " + l.Ref + "\n")
	}
	return b.String()
}

func (s *Server) uiChecklistItem(w http.ResponseWriter, r *http.Request) {
	res := vigil.ChecklistResult(r.PostFormValue("result"))
	notes := r.PostFormValue("notes")
	upd := vigil.ChecklistUpdate{Result: &res, Notes: &notes}
	if _, ok := r.PostForm["evidence"]; ok {
		links := parseEvidenceLinks(r.PostFormValue("evidence"))
		upd.Evidence = &links
	}
	it, err := s.store.UpdateChecklistItem(r.Context(), actorOf(r).OrgID, r.PathValue("id"), r.PathValue("item_id"), upd)
	if err != nil {
		s.auFailed(w, r, err, func(status int, v view) { s.auditPage(w, r, status, v, nil) })
		return
	}
	msg := "Saved " + it.Ref + "."
	if it.Finding != "" {
		msg = "Saved " + it.Ref + ": it raised a finding."
	}
	redirect(w, r, "/audits/"+url.PathEscape(r.PathValue("id"))+"?done="+url.QueryEscape(msg)+"#item-"+url.QueryEscape(it.ID))
}

func (s *Server) uiIssueReport(w http.ResponseWriter, r *http.Request) {
	summary := r.PostFormValue("summary")
	au, err := s.store.IssueAuditReport(r.Context(), actorOf(r).OrgID, r.PathValue("id"), summary, renderReport)
	if err != nil {
		s.auFailed(w, r, err, func(status int, v view) {
			s.auditPage(w, r, status, v, func(d *auditPage) { d.Summary = summary })
		})
		return
	}
	auDone(w, r, "/audits/"+au.ID, "Issued the report of "+au.Ref+".")
}

func (s *Server) uiReportPDF(w http.ResponseWriter, r *http.Request) {
	org := actorOf(r).OrgID
	au, pdf, digest, err := s.store.AuditReportPDF(r.Context(), org, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-report.pdf"`, au.Ref))
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	w.Header().Set("X-Content-SHA256", digest)
	if _, err := w.Write(pdf); err != nil {
		s.logger.WarnContext(r.Context(), "write report", "error", err.Error())
	}
}

func (s *Server) uiInviteGuest(w http.ResponseWriter, r *http.Request) {
	in := vigil.AuditGuestInput{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"),
		ValidFrom: r.PostFormValue("valid_from"), ValidUntil: r.PostFormValue("valid_until")}
	g, tok, err := s.store.InviteAuditGuest(r.Context(), actorOf(r).OrgID, r.PathValue("id"), in)
	if err != nil {
		s.auFailed(w, r, err, func(status int, v view) {
			s.auditPage(w, r, status, v, func(d *auditPage) { d.GuestForm = in })
		})
		return
	}
	// The token is shown in this response only; the store keeps a hash.
	s.auditPage(w, r, http.StatusCreated, view{Flash: "Invited " + g.Email + "."}, func(d *auditPage) { d.Token = tok })
}

func (s *Server) uiRevokeGuest(w http.ResponseWriter, r *http.Request) {
	if err := s.store.RevokeAuditGuest(r.Context(), actorOf(r).OrgID, r.PathValue("id"), r.PathValue("guest_id")); err != nil {
		s.auFailed(w, r, err, func(status int, v view) { s.auditPage(w, r, status, v, nil) })
		return
	}
	auDone(w, r, "/audits/"+url.PathEscape(r.PathValue("id")), "Ended the guest's access.")
}

// uiAuditDates records when the audit was carried out.
func (s *Server) uiAuditDates(w http.ResponseWriter, r *http.Request) {
	start, end := r.PostFormValue("actual_start"), r.PostFormValue("actual_end")
	au, err := s.store.UpdateAudit(r.Context(), actorOf(r).OrgID, r.PathValue("id"), vigil.AuditUpdate{ActualStart: &start, ActualEnd: &end}, auditWrite(r))
	if err != nil {
		s.auFailed(w, r, err, func(status int, v view) { s.auditPage(w, r, status, v, nil) })
		return
	}
	auDone(w, r, "/audits/"+au.ID, "Recorded the dates of "+au.Ref+".")
}

// uiRecordFinding records a finding by hand, such as the certification
// body's.
func (s *Server) uiRecordFinding(w http.ResponseWriter, r *http.Request) {
	in := vigil.FindingInput{Audit: r.PathValue("id"), Requirement: r.PostFormValue("requirement"), Kind: vigil.FindingKind(r.PostFormValue("kind")),
		Description: r.PostFormValue("description"), Deadline: r.PostFormValue("deadline")}
	f, err := s.store.CreateFinding(r.Context(), actorOf(r).OrgID, in)
	if err != nil {
		s.auFailed(w, r, err, func(status int, v view) { s.auditPage(w, r, status, v, func(d *auditPage) { d.FindingForm = in }) })
		return
	}
	auDone(w, r, "/findings/"+f.ID, "Recorded "+f.Ref+".")
}

// uiFindingStatus closes or reopens an observation or opportunity.
func (s *Server) uiFindingStatus(w http.ResponseWriter, r *http.Request) {
	st := vigil.FindingStatus(r.PostFormValue("status"))
	f, err := s.store.UpdateFinding(r.Context(), actorOf(r).OrgID, r.PathValue("id"), vigil.FindingUpdate{Status: &st})
	if err != nil {
		s.auFailed(w, r, err, func(status int, v view) { s.findingPage(w, r, status, v, r.PathValue("id"), actionForm{}) })
		return
	}
	auDone(w, r, "/findings/"+f.ID, f.Ref+" is "+string(f.Status)+".")
}

// ---- Findings and corrective actions ----

type findingsPage struct {
	Items  []vigil.Finding
	Next   string
	Status string // open or all
}

func (s *Server) uiFindings(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	q := r.URL.Query()
	d := findingsPage{Status: "open"}
	f := vigil.FindingFilter{Status: vigil.FindingOpen}
	if q.Get("status") == "all" {
		d.Status, f.Status = "all", ""
	}
	items, err := s.store.ListFindings(r.Context(), a.OrgID, f, q.Get("after"), auPageSize+1)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	if len(items) > auPageSize {
		items = items[:auPageSize]
		d.Next = "/findings?" + url.Values{"status": {d.Status}, "after": {items[auPageSize-1].ID}}.Encode()
	}
	d.Items = items
	s.render(w, r, http.StatusOK, "findings", view{Title: "Findings", Nav: "findings", Actor: a, Flash: q.Get("done"), Data: d})
}

// actionForm holds the add-a-corrective-action form as typed.
type actionForm struct {
	Correction, RootCause, Action, Owner, DueDate string
}

// actionRow is a corrective action with what the viewer may do with it.
type actionRow struct {
	vigil.CorrectiveAction
	Overdue   bool
	CanUpdate bool
	Next      []vigil.ActionStatus
}

type findingPage struct {
	Finding    vigil.Finding
	Actions    []actionRow
	CanAdd     bool
	ActionForm actionForm
	People     ismsPeople
	Today      string
}

func (s *Server) findingPage(w http.ResponseWriter, r *http.Request, status int, v view, id string, form actionForm) {
	a := actorOf(r)
	ctx := r.Context()
	f, err := s.store.GetFinding(ctx, a.OrgID, id)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	editor := slices.Contains(auditEditors, a.Role)
	d := findingPage{Finding: f, CanAdd: editor && f.Status == vigil.FindingOpen, ActionForm: form, Today: s.today()}
	if d.People, err = s.ismsPeople(ctx, a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	acts, err := s.store.ListCorrectiveActions(ctx, a.OrgID, vigil.CorrectiveActionFilter{Finding: f.ID}, "", 1000)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	for _, ca := range acts {
		row := actionRow{CorrectiveAction: ca, Overdue: ca.Overdue(d.Today)}
		row.CanUpdate = (editor || ca.Owner == a.UserID) && !ca.Status.Closed()
		for _, st := range vigil.ActionStatuses {
			if ca.Status.CanMove(st) {
				row.Next = append(row.Next, st)
			}
		}
		d.Actions = append(d.Actions, row)
	}
	v.Title, v.Nav, v.Actor, v.Data = f.Ref+" finding", "findings", a, d
	s.render(w, r, status, "findings_view", v)
}

func (s *Server) uiFinding(w http.ResponseWriter, r *http.Request) {
	s.findingPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, r.PathValue("id"), actionForm{})
}

func (s *Server) uiCreateAction(w http.ResponseWriter, r *http.Request) {
	v := r.PostFormValue
	form := actionForm{Correction: v("correction"), RootCause: v("root_cause"), Action: v("action"), Owner: v("owner"), DueDate: v("due_date")}
	org := actorOf(r).OrgID
	f, err := s.store.GetFinding(r.Context(), org, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	ca, err := s.store.CreateCorrectiveAction(r.Context(), org, vigil.CorrectiveActionInput{Finding: f.ID, Correction: form.Correction,
		RootCause: form.RootCause, Action: form.Action, Owner: form.Owner, DueDate: form.DueDate})
	if err != nil {
		s.auFailed(w, r, err, func(status int, vw view) { s.findingPage(w, r, status, vw, f.ID, form) })
		return
	}
	auDone(w, r, "/findings/"+f.ID, "Added "+ca.Ref+".")
}

func (s *Server) uiUpdateAction(w http.ResponseWriter, r *http.Request) {
	actor := actorOf(r)
	ctx := r.Context()
	ca, err := s.store.GetCorrectiveAction(ctx, actor.OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	reader := slices.Contains(ismsReaders, actor.Role)
	rerender := func(status int, v view) {
		if reader {
			s.findingPage(w, r, status, v, ca.Finding, actionForm{})
			return
		}
		s.uiError(w, r, status, v.Error)
	}
	if !slices.Contains(auditEditors, actor.Role) && ca.Owner != actor.UserID {
		s.formFailed(w, r, vigil.Errorf(vigil.EForbidden, "only the owner of %s or an auditor may update it", ca.Ref), rerender)
		return
	}
	var upd vigil.CorrectiveActionUpdate
	if st := vigil.ActionStatus(r.PostFormValue("status")); st != "" {
		upd.Status = &st
	}
	if r.PostForm.Has("root_cause") {
		rc := r.PostFormValue("root_cause")
		upd.RootCause = &rc
	}
	if r.PostForm.Has("verification_notes") {
		vn := r.PostFormValue("verification_notes")
		upd.VerificationNotes = &vn
	}
	saved, err := s.store.UpdateCorrectiveAction(ctx, actor.OrgID, ca.ID, upd)
	if err != nil {
		s.auFailed(w, r, err, rerender)
		return
	}
	if !reader {
		redirect(w, r, "/")
		return
	}
	auDone(w, r, "/findings/"+saved.Finding, "Saved "+saved.Ref+" ("+string(saved.Status)+").")
}

// ---- Management reviews ----

type reviewsPage struct {
	Items   []vigil.ManagementReview
	Next    string
	CanEdit bool
	Form    vigil.ManagementReviewInput
}

func (s *Server) reviewsPage(w http.ResponseWriter, r *http.Request, status int, v view, form vigil.ManagementReviewInput) {
	a := actorOf(r)
	d := reviewsPage{CanEdit: slices.Contains(ismsEditors, a.Role), Form: form}
	var err error
	if d.Items, err = s.store.ListManagementReviews(r.Context(), a.OrgID, r.URL.Query().Get("after"), auPageSize+1); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if len(d.Items) > auPageSize {
		d.Items = d.Items[:auPageSize]
		d.Next = "/management-reviews?after=" + url.QueryEscape(d.Items[auPageSize-1].ID)
	}
	v.Title, v.Nav, v.Actor, v.Data = "Management reviews", "reviews", a, d
	s.render(w, r, status, "reviews", v)
}

func (s *Server) uiReviews(w http.ResponseWriter, r *http.Request) {
	s.reviewsPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, vigil.ManagementReviewInput{MeetingDate: s.today()})
}

func (s *Server) uiCreateReview(w http.ResponseWriter, r *http.Request) {
	in := vigil.ManagementReviewInput{Title: r.PostFormValue("title"), MeetingDate: r.PostFormValue("meeting_date"),
		Attendees: vigil.ParseTextList(r.PostFormValue("attendees"))}
	m, err := s.store.CreateManagementReview(r.Context(), actorOf(r).OrgID, in)
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.reviewsPage(w, r, status, v, in) })
		return
	}
	auDone(w, r, "/management-reviews/"+m.ID, "Created "+m.Ref+".")
}

type reviewPage struct {
	Review  vigil.ManagementReview
	CanEdit bool // a draft, for an ISMS editor
	Form    vigil.ManagementReviewInput
	People  ismsPeople
}

func (s *Server) reviewPage(w http.ResponseWriter, r *http.Request, status int, v view, form *vigil.ManagementReviewInput) {
	a := actorOf(r)
	m, err := s.store.GetManagementReview(r.Context(), a.OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d := reviewPage{Review: m, CanEdit: slices.Contains(ismsEditors, a.Role) && m.Status == vigil.ReviewDraft, Form: m.Input()}
	if form != nil {
		d.Form = *form
	}
	if d.People, err = s.ismsPeople(r.Context(), a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	v.Title, v.Nav, v.Actor, v.Data = m.Ref+" "+m.Title, "reviews", a, d
	s.render(w, r, status, "reviews_view", v)
}

func (s *Server) uiReview(w http.ResponseWriter, r *http.Request) {
	s.reviewPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, nil)
}

func (s *Server) uiUpdateReview(w http.ResponseWriter, r *http.Request) {
	v := r.PostFormValue
	in := vigil.ManagementReviewInput{Title: v("title"), MeetingDate: v("meeting_date"), Attendees: vigil.ParseTextList(v("attendees")),
		Decisions: vigil.ParseTextList(v("decisions")), Changes: vigil.ParseTextList(v("changes")), Notes: v("notes")}
	// The review's actions are not on the form and stay as they are.
	upd := vigil.ManagementReviewUpdate{Title: &in.Title, MeetingDate: &in.MeetingDate, Attendees: &in.Attendees,
		Decisions: &in.Decisions, Changes: &in.Changes, Notes: &in.Notes}
	m, err := s.store.UpdateManagementReview(r.Context(), actorOf(r).OrgID, r.PathValue("id"), upd)
	if err != nil {
		s.auFailed(w, r, err, func(status int, vw view) { s.reviewPage(w, r, status, vw, &in) })
		return
	}
	auDone(w, r, "/management-reviews/"+m.ID, "Saved "+m.Ref+".")
}

func (s *Server) uiSignOffReview(w http.ResponseWriter, r *http.Request) {
	m, err := s.store.SignOffManagementReview(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.auFailed(w, r, err, func(status int, vw view) { s.reviewPage(w, r, status, vw, nil) })
		return
	}
	auDone(w, r, "/management-reviews/"+m.ID, "Signed off "+m.Ref+": it is now locked.")
}

// ---- Certification and changes ----

type certificationPage struct {
	Cert       vigil.Certification
	Form       vigil.CertificationInput
	Outcomes   []vigil.AuditOutcome
	Schedule   []vigil.ScheduleItem
	Changes    []vigil.Change
	ChangeForm vigil.ChangeInput
	CanEdit    bool
}

func (s *Server) certificationPage(w http.ResponseWriter, r *http.Request, status int, v view, form *vigil.CertificationInput, change vigil.ChangeInput) {
	a := actorOf(r)
	ctx := r.Context()
	d := certificationPage{Outcomes: vigil.AuditOutcomes, ChangeForm: change, CanEdit: slices.Contains(ismsEditors, a.Role)}
	var err error
	if d.Cert, err = s.store.Certification(ctx, a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	d.Form = d.Cert.Input()
	if form != nil {
		d.Form = *form
	}
	if d.Schedule, err = s.store.CertificationSchedule(ctx, a.OrgID, s.today()); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.Changes, err = s.store.ListChanges(ctx, a.OrgID, "", 1000); err != nil {
		s.uiFail(w, r, err)
		return
	}
	v.Title, v.Nav, v.Actor, v.Data = "Certification", "certification", a, d
	s.render(w, r, status, "certification", v)
}

func (s *Server) uiCertification(w http.ResponseWriter, r *http.Request) {
	s.certificationPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, nil, vigil.ChangeInput{ChangedOn: s.today()})
}

func (s *Server) uiPutCertification(w http.ResponseWriter, r *http.Request) {
	v := r.PostFormValue
	in := vigil.CertificationInput{CertificationBody: v("certification_body"), CertificateNumber: v("certificate_number"), Scope: v("scope"),
		Stage1Date: v("stage1_date"), Stage1Outcome: vigil.AuditOutcome(v("stage1_outcome")), Stage2Date: v("stage2_date"),
		Stage2Outcome: vigil.AuditOutcome(v("stage2_outcome")), IssueDate: v("issue_date")}
	rerender := func(status int, vw view) {
		s.certificationPage(w, r, status, vw, &in, vigil.ChangeInput{ChangedOn: s.today()})
	}
	if m := v("surveillance_interval_months"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil {
			s.formFailed(w, r, vigil.Invalid("surveillance_interval_months", "must be 6 or 12"), rerender)
			return
		}
		in.SurveillanceIntervalMonths = n
	}
	if _, err := s.store.PutCertification(r.Context(), actorOf(r).OrgID, in); err != nil {
		s.formFailed(w, r, err, rerender)
		return
	}
	auDone(w, r, "/certification", "Saved the certification.")
}

func (s *Server) uiCreateChange(w http.ResponseWriter, r *http.Request) {
	v := r.PostFormValue
	in := vigil.ChangeInput{Title: v("title"), Description: v("description"), ChangedOn: v("changed_on"), Reason: v("reason"), Significant: v("significant") == "true"}
	c, err := s.store.CreateChange(r.Context(), actorOf(r).OrgID, in)
	if err != nil {
		s.formFailed(w, r, err, func(status int, vw view) { s.certificationPage(w, r, status, vw, nil, in) })
		return
	}
	redirect(w, r, "/certification?done="+url.QueryEscape("Recorded "+c.Ref+" "+c.Title+".")+"#changes")
}

// ---- Audit programme ----

// programmeForm holds the programme form as typed.
type programmeForm struct {
	CycleStart, Objectives, DefaultFrequencyMonths string
}

type programmePage struct {
	Programme vigil.AuditProgramme
	Coverage  vigil.Coverage
	Form      programmeForm
	CanEdit   bool
}

func (s *Server) programmePage(w http.ResponseWriter, r *http.Request, status int, v view, form *programmeForm) {
	a := actorOf(r)
	ctx := r.Context()
	d := programmePage{CanEdit: slices.Contains(ismsEditors, a.Role)}
	var err error
	if d.Programme, err = s.store.AuditProgramme(ctx, a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.Coverage, err = s.store.AuditCoverage(ctx, a.OrgID, s.today()); err != nil {
		s.uiFail(w, r, err)
		return
	}
	d.Form = programmeForm{CycleStart: d.Programme.CycleStart, Objectives: d.Programme.Objectives.Text(), DefaultFrequencyMonths: strconv.Itoa(d.Programme.DefaultFrequencyMonths)}
	if form != nil {
		d.Form = *form
	}
	v.Title, v.Nav, v.Actor, v.Data = "Audit programme", "audits", a, d
	s.render(w, r, status, "programme", v)
}

func (s *Server) uiProgramme(w http.ResponseWriter, r *http.Request) {
	s.programmePage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, nil)
}

func (s *Server) uiPutProgramme(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	ctx := r.Context()
	form := programmeForm{CycleStart: r.PostFormValue("cycle_start"), Objectives: r.PostFormValue("objectives"), DefaultFrequencyMonths: r.PostFormValue("default_frequency_months")}
	rerender := func(status int, v view) { s.programmePage(w, r, status, v, &form) }
	cur, err := s.store.AuditProgramme(ctx, a.OrgID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	// The form replaces the whole programme: its areas, which the form
	// does not show, are kept.
	in := vigil.AuditProgrammeInput{CycleStart: form.CycleStart, Objectives: vigil.ParseTextList(form.Objectives), Areas: cur.Areas}
	if form.DefaultFrequencyMonths != "" {
		if in.DefaultFrequencyMonths, err = strconv.Atoi(form.DefaultFrequencyMonths); err != nil {
			s.formFailed(w, r, vigil.Invalid("default_frequency_months", "must be a number of months between 1 and 36"), rerender)
			return
		}
	}
	if _, err := s.store.PutAuditProgramme(ctx, a.OrgID, in); err != nil {
		s.formFailed(w, r, err, rerender)
		return
	}
	auDone(w, r, "/audit-programme", "Saved the audit programme.")
}

// ---- Dashboard ----

// auditDashboard is the dashboard's audits and certification section.
type auditDashboard struct {
	NotCovered int
	Uncovered  []string // up to auDashboardList refs
	More       int      // uncovered refs not listed
	Schedule   []vigil.ScheduleItem
	Overdue    []vigil.CorrectiveAction
	Today      string
}

// auDashboardList is how many items of each kind the dashboard lists.
const auDashboardList = 10

// auditDashboardOf gathers what the dashboard flags: areas no audit
// covers, certification dates that need attention and corrective actions
// past their due date.
func (s *Server) auditDashboardOf(ctx context.Context, orgID string) (*auditDashboard, error) {
	d := &auditDashboard{Today: s.today()}
	cov, err := s.store.AuditCoverage(ctx, orgID, d.Today)
	if err != nil {
		return nil, err
	}
	d.NotCovered = cov.NotCovered
	d.Uncovered = cov.Uncovered()
	if len(d.Uncovered) > auDashboardList {
		d.More = len(d.Uncovered) - auDashboardList
		d.Uncovered = d.Uncovered[:auDashboardList]
	}
	sched, err := s.store.CertificationSchedule(ctx, orgID, d.Today)
	if err != nil {
		return nil, err
	}
	for _, it := range sched {
		if it.Problem() {
			d.Schedule = append(d.Schedule, it)
		}
	}
	if d.Overdue, err = s.store.ListCorrectiveActions(ctx, orgID, vigil.CorrectiveActionFilter{OverdueOn: d.Today}, "", 50); err != nil {
		return nil, err
	}
	return d, nil
}
