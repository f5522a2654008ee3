package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/calendar"
	"github.com/vigilhq/vigil/export"
	"github.com/vigilhq/vigil/store"
)

// Audits (9.2), findings and corrective actions (10.2), management review
// (9.3), the certification cycle, external auditors and the calendar.

var (
	// auditEditors plan audits and record their results.
	auditEditors = []vigil.Role{vigil.RoleAdmin, vigil.RoleISMSManager, vigil.RoleInternalAuditor}
	// actionWorkers may update corrective actions: editors any, others
	// only those they own.
	actionWorkers = []vigil.Role{vigil.RoleAdmin, vigil.RoleISMSManager, vigil.RoleInternalAuditor, vigil.RoleRiskOwner, vigil.RoleEmployee}
	// calendarUsers subscribe to the calendar feed.
	calendarUsers = staff
)

func (s *Server) auditRoutes() {
	s.handle("GET", "/api/v1/audit-programme", API, ismsReaders, s.apiGetProgramme)
	s.handle("PUT", "/api/v1/audit-programme", API, ismsEditors, s.apiPutProgramme)
	s.handle("GET", "/api/v1/audit-programme/coverage", API, ismsReaders, s.apiCoverage)

	s.handle("GET", "/api/v1/audits", API, ismsReaders, s.apiListAudits)
	s.handle("POST", "/api/v1/audits", API, auditEditors, s.apiCreateAudit)
	s.handle("GET", "/api/v1/audits/{id}", API, ismsReaders, s.apiGetAudit)
	s.handle("PATCH", "/api/v1/audits/{id}", API, auditEditors, s.apiUpdateAudit)
	s.handle("DELETE", "/api/v1/audits/{id}", API, auditEditors, s.apiDeleteAudit)
	s.handle("GET", "/api/v1/audits/{id}/checklist", API, ismsReaders, s.apiChecklist)
	s.handle("PATCH", "/api/v1/audits/{id}/checklist/{item_id}", API, auditEditors, s.apiUpdateChecklistItem)
	s.handle("POST", "/api/v1/audits/{id}/report", API, auditEditors, s.apiIssueReport)
	s.handle("GET", "/api/v1/audits/{id}/report.pdf", API, ismsReaders, s.apiReportPDF)
	s.handle("GET", "/api/v1/audits/{id}/guests", API, ismsEditors, s.apiListGuests)
	s.handle("POST", "/api/v1/audits/{id}/guests", API, ismsEditors, s.apiInviteGuest)
	s.handle("DELETE", "/api/v1/audits/{id}/guests/{guest_id}", API, ismsEditors, s.apiRevokeGuest)

	s.handle("GET", "/api/v1/findings", API, ismsReaders, s.apiListFindings)
	s.handle("POST", "/api/v1/findings", API, auditEditors, s.apiCreateFinding)
	s.handle("GET", "/api/v1/findings/{id}", API, ismsReaders, s.apiGetFinding)
	s.handle("PATCH", "/api/v1/findings/{id}", API, auditEditors, s.apiUpdateFinding)

	s.handle("GET", "/api/v1/corrective-actions", API, ismsReaders, s.apiListActions)
	s.handle("POST", "/api/v1/corrective-actions", API, auditEditors, s.apiCreateAction)
	s.handle("GET", "/api/v1/corrective-actions/{id}", API, ismsReaders, s.apiGetAction)
	s.handle("PATCH", "/api/v1/corrective-actions/{id}", API, actionWorkers, s.apiUpdateAction)

	s.handle("GET", "/api/v1/management-reviews", API, ismsReaders, s.apiListReviews)
	s.handle("POST", "/api/v1/management-reviews", API, ismsEditors, s.apiCreateReview)
	s.handle("GET", "/api/v1/management-reviews/{id}", API, ismsReaders, s.apiGetReview)
	s.handle("PATCH", "/api/v1/management-reviews/{id}", API, ismsEditors, s.apiUpdateReview)
	s.handle("DELETE", "/api/v1/management-reviews/{id}", API, ismsEditors, s.apiDeleteReview)
	s.handle("POST", "/api/v1/management-reviews/{id}/sign-off", API, ismsEditors, s.apiSignOffReview)

	s.handle("GET", "/api/v1/certification", API, ismsReaders, s.apiGetCertification)
	s.handle("PUT", "/api/v1/certification", API, ismsEditors, s.apiPutCertification)
	s.handle("GET", "/api/v1/certification/schedule", API, ismsReaders, s.apiSchedule)

	s.handle("GET", "/api/v1/changes", API, ismsReaders, s.apiListChanges)
	s.handle("POST", "/api/v1/changes", API, ismsEditors, s.apiCreateChange)
	s.handle("GET", "/api/v1/changes/{id}", API, ismsReaders, s.apiGetChange)
	s.handle("PUT", "/api/v1/changes/{id}", API, ismsEditors, s.apiUpdateChange)
	s.handle("DELETE", "/api/v1/changes/{id}", API, ismsEditors, s.apiDeleteChange)

	s.handle("POST", "/api/v1/calendar/feed", API, calendarUsers, s.apiNewCalendarFeed)
	// The feed is fetched by calendar programs, which cannot send a bearer
	// token: the per-user secret in the URL authenticates it.
	s.handle("GET", "/api/v1/calendar.ics", Public, nil, s.apiCalendar)
}

func (s *Server) today() string { return s.store.Now().UTC().Format(time.DateOnly) }

// respond writes v or the error.
func respond[T any](s *Server, w http.ResponseWriter, r *http.Request, status int, v T, err error) {
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, status, v)
}

// decodeAnd decodes the body into In and runs fn with it.
func decodeAnd[In, T any](s *Server, w http.ResponseWriter, r *http.Request, status int, fn func(ctx context.Context, orgID string, in In) (T, error)) {
	var in In
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	v, err := fn(r.Context(), actorOf(r).OrgID, in)
	respond(s, w, r, status, v, err)
}

// listed pages a list fetched with limit+1.
func listed[T any](s *Server, w http.ResponseWriter, r *http.Request, key func(T) string, fetch func(after string, limit int) ([]T, error)) {
	p, err := parsePage(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	items, err := fetch(p.Cursor, p.Limit+1)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(items, p.Limit, key))
}

func auditWrite(r *http.Request) store.AuditWrite {
	return store.AuditWrite{MayOverride: actorOf(r).Role == vigil.RoleAdmin}
}

func (s *Server) apiGetProgramme(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.AuditProgramme(r.Context(), actorOf(r).OrgID)
	respond(s, w, r, http.StatusOK, p, err)
}

func (s *Server) apiPutProgramme(w http.ResponseWriter, r *http.Request) {
	decodeAnd(s, w, r, http.StatusOK, s.store.PutAuditProgramme)
}

func (s *Server) apiCoverage(w http.ResponseWriter, r *http.Request) {
	c, err := s.store.AuditCoverage(r.Context(), actorOf(r).OrgID, s.today())
	respond(s, w, r, http.StatusOK, c, err)
}

func (s *Server) apiListAudits(w http.ResponseWriter, r *http.Request) {
	f := vigil.AuditFilter{Type: vigil.AuditType(r.URL.Query().Get("type"))}
	if f.Type != "" && !slices.Contains(vigil.AuditTypes, f.Type) {
		s.apiError(w, r, vigil.Invalid("type", "unknown audit type %q", f.Type))
		return
	}
	if g, ok := guestOf(r); ok {
		f.IDs = g.audits
	}
	listed(s, w, r, func(a vigil.Audit) string { return a.ID }, func(after string, limit int) ([]vigil.Audit, error) {
		return s.store.ListAudits(r.Context(), actorOf(r).OrgID, f, after, limit)
	})
}

func (s *Server) apiCreateAudit(w http.ResponseWriter, r *http.Request) {
	var in vigil.AuditInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	a, err := s.store.CreateAudit(r.Context(), actorOf(r).OrgID, in, auditWrite(r))
	if err == nil {
		w.Header().Set("Location", "/api/v1/audits/"+a.ID)
	}
	respond(s, w, r, http.StatusCreated, a, err)
}

// guestAudit loads the audit of the path, refusing a guest another audit.
func (s *Server) guestAudit(r *http.Request) (vigil.Audit, error) {
	a, err := s.store.GetAudit(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		return a, err
	}
	if g, ok := guestOf(r); ok && !slices.Contains(g.audits, a.ID) {
		return vigil.Audit{}, vigil.Errorf(vigil.ENotFound, "audit %s not found", r.PathValue("id"))
	}
	return a, nil
}

func (s *Server) apiGetAudit(w http.ResponseWriter, r *http.Request) {
	a, err := s.guestAudit(r)
	respond(s, w, r, http.StatusOK, a, err)
}

func (s *Server) apiUpdateAudit(w http.ResponseWriter, r *http.Request) {
	var upd vigil.AuditUpdate
	if err := decodeJSON(w, r, &upd); err != nil {
		s.apiError(w, r, err)
		return
	}
	a, err := s.store.UpdateAudit(r.Context(), actorOf(r).OrgID, r.PathValue("id"), upd, auditWrite(r))
	respond(s, w, r, http.StatusOK, a, err)
}

func (s *Server) apiDeleteAudit(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteAudit(r.Context(), actorOf(r).OrgID, r.PathValue("id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiChecklist(w http.ResponseWriter, r *http.Request) {
	a, err := s.guestAudit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	items, err := s.store.Checklist(r.Context(), actorOf(r).OrgID, a.ID)
	respond(s, w, r, http.StatusOK, List[vigil.ChecklistItem]{Items: items}, err)
}

func (s *Server) apiUpdateChecklistItem(w http.ResponseWriter, r *http.Request) {
	var upd vigil.ChecklistUpdate
	if err := decodeJSON(w, r, &upd); err != nil {
		s.apiError(w, r, err)
		return
	}
	it, err := s.store.UpdateChecklistItem(r.Context(), actorOf(r).OrgID, r.PathValue("id"), r.PathValue("item_id"), upd)
	respond(s, w, r, http.StatusOK, it, err)
}

// renderReport renders an audit report as PDF.
func renderReport(rep vigil.AuditReport) ([]byte, error) {
	var b bytes.Buffer
	err := export.AuditReportPDF(&b, rep)
	return b.Bytes(), err
}

func (s *Server) apiIssueReport(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Summary string `json:"summary"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	a, err := s.store.IssueAuditReport(r.Context(), actorOf(r).OrgID, r.PathValue("id"), in.Summary, renderReport)
	respond(s, w, r, http.StatusCreated, a, err)
}

func (s *Server) apiReportPDF(w http.ResponseWriter, r *http.Request) {
	a, err := s.guestAudit(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	_, pdf, digest, err := s.store.AuditReportPDF(r.Context(), actorOf(r).OrgID, a.ID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-report.pdf"`, a.Ref))
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	w.Header().Set("X-Content-SHA256", digest)
	if _, err := w.Write(pdf); err != nil {
		s.logger.WarnContext(r.Context(), "write report", "error", err.Error())
	}
}

// GuestInvitation is the answer to an invitation: the grant and, when the
// window is not over, the guest's API token (shown once).
type GuestInvitation struct {
	vigil.AuditGuest
	Token string `json:"token,omitempty"`
}

func (s *Server) apiInviteGuest(w http.ResponseWriter, r *http.Request) {
	var in vigil.AuditGuestInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	g, tok, err := s.store.InviteAuditGuest(r.Context(), actorOf(r).OrgID, r.PathValue("id"), in)
	respond(s, w, r, http.StatusCreated, GuestInvitation{AuditGuest: g, Token: tok}, err)
}

func (s *Server) apiListGuests(w http.ResponseWriter, r *http.Request) {
	gs, err := s.store.ListAuditGuests(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	respond(s, w, r, http.StatusOK, List[vigil.AuditGuest]{Items: gs}, err)
}

func (s *Server) apiRevokeGuest(w http.ResponseWriter, r *http.Request) {
	if err := s.store.RevokeAuditGuest(r.Context(), actorOf(r).OrgID, r.PathValue("id"), r.PathValue("guest_id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiListFindings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := vigil.FindingFilter{Audit: q.Get("audit"), Status: vigil.FindingStatus(q.Get("status"))}
	if g, ok := guestOf(r); ok {
		// A guest sees the findings of their audits only.
		if f.Audit == "" && len(g.audits) == 1 {
			f.Audit = g.audits[0]
		}
		a, err := s.store.GetAudit(r.Context(), actorOf(r).OrgID, f.Audit)
		if err != nil || !slices.Contains(g.audits, a.ID) {
			s.apiError(w, r, vigil.Invalid("audit", "name the audit you were invited to"))
			return
		}
	}
	listed(s, w, r, func(f vigil.Finding) string { return f.ID }, func(after string, limit int) ([]vigil.Finding, error) {
		return s.store.ListFindings(r.Context(), actorOf(r).OrgID, f, after, limit)
	})
}

func (s *Server) apiCreateFinding(w http.ResponseWriter, r *http.Request) {
	decodeAnd(s, w, r, http.StatusCreated, s.store.CreateFinding)
}

func (s *Server) apiGetFinding(w http.ResponseWriter, r *http.Request) {
	f, err := s.store.GetFinding(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if g, ok := guestOf(r); ok && err == nil && !slices.Contains(g.audits, f.Audit) {
		err = vigil.Errorf(vigil.ENotFound, "finding %s not found", r.PathValue("id"))
	}
	respond(s, w, r, http.StatusOK, f, err)
}

func (s *Server) apiUpdateFinding(w http.ResponseWriter, r *http.Request) {
	var upd vigil.FindingUpdate
	if err := decodeJSON(w, r, &upd); err != nil {
		s.apiError(w, r, err)
		return
	}
	f, err := s.store.UpdateFinding(r.Context(), actorOf(r).OrgID, r.PathValue("id"), upd)
	respond(s, w, r, http.StatusOK, f, err)
}

func (s *Server) apiListActions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := vigil.CorrectiveActionFilter{Finding: q.Get("finding"), Status: vigil.ActionStatus(q.Get("status"))}
	switch q.Get("overdue") {
	case "", "false":
	case "true":
		f.OverdueOn = s.today()
	default:
		s.apiError(w, r, vigil.Invalid("overdue", "must be true or false"))
		return
	}
	listed(s, w, r, func(a vigil.CorrectiveAction) string { return a.ID }, func(after string, limit int) ([]vigil.CorrectiveAction, error) {
		return s.store.ListCorrectiveActions(r.Context(), actorOf(r).OrgID, f, after, limit)
	})
}

func (s *Server) apiCreateAction(w http.ResponseWriter, r *http.Request) {
	decodeAnd(s, w, r, http.StatusCreated, s.store.CreateCorrectiveAction)
}

func (s *Server) apiGetAction(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.GetCorrectiveAction(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	respond(s, w, r, http.StatusOK, a, err)
}

func (s *Server) apiUpdateAction(w http.ResponseWriter, r *http.Request) {
	var upd vigil.CorrectiveActionUpdate
	if err := decodeJSON(w, r, &upd); err != nil {
		s.apiError(w, r, err)
		return
	}
	actor := actorOf(r)
	if !slices.Contains(auditEditors, actor.Role) {
		a, err := s.store.GetCorrectiveAction(r.Context(), actor.OrgID, r.PathValue("id"))
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		if a.Owner != actor.UserID {
			s.apiError(w, r, vigil.Errorf(vigil.EForbidden, "only the owner of %s or an auditor may update it", a.Ref))
			return
		}
	}
	a, err := s.store.UpdateCorrectiveAction(r.Context(), actor.OrgID, r.PathValue("id"), upd)
	respond(s, w, r, http.StatusOK, a, err)
}

func (s *Server) apiListReviews(w http.ResponseWriter, r *http.Request) {
	listed(s, w, r, func(m vigil.ManagementReview) string { return m.ID }, func(after string, limit int) ([]vigil.ManagementReview, error) {
		return s.store.ListManagementReviews(r.Context(), actorOf(r).OrgID, after, limit)
	})
}

func (s *Server) apiCreateReview(w http.ResponseWriter, r *http.Request) {
	decodeAnd(s, w, r, http.StatusCreated, s.store.CreateManagementReview)
}

func (s *Server) apiGetReview(w http.ResponseWriter, r *http.Request) {
	m, err := s.store.GetManagementReview(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	respond(s, w, r, http.StatusOK, m, err)
}

func (s *Server) apiUpdateReview(w http.ResponseWriter, r *http.Request) {
	var upd vigil.ManagementReviewUpdate
	if err := decodeJSON(w, r, &upd); err != nil {
		s.apiError(w, r, err)
		return
	}
	m, err := s.store.UpdateManagementReview(r.Context(), actorOf(r).OrgID, r.PathValue("id"), upd)
	respond(s, w, r, http.StatusOK, m, err)
}

func (s *Server) apiDeleteReview(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteManagementReview(r.Context(), actorOf(r).OrgID, r.PathValue("id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiSignOffReview(w http.ResponseWriter, r *http.Request) {
	m, err := s.store.SignOffManagementReview(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	respond(s, w, r, http.StatusOK, m, err)
}

func (s *Server) apiGetCertification(w http.ResponseWriter, r *http.Request) {
	c, err := s.store.Certification(r.Context(), actorOf(r).OrgID)
	respond(s, w, r, http.StatusOK, c, err)
}

func (s *Server) apiPutCertification(w http.ResponseWriter, r *http.Request) {
	decodeAnd(s, w, r, http.StatusOK, s.store.PutCertification)
}

func (s *Server) apiSchedule(w http.ResponseWriter, r *http.Request) {
	items, err := s.store.CertificationSchedule(r.Context(), actorOf(r).OrgID, s.today())
	respond(s, w, r, http.StatusOK, List[vigil.ScheduleItem]{Items: items}, err)
}

func (s *Server) apiListChanges(w http.ResponseWriter, r *http.Request) {
	listed(s, w, r, func(c vigil.Change) string { return c.ID }, func(after string, limit int) ([]vigil.Change, error) {
		return s.store.ListChanges(r.Context(), actorOf(r).OrgID, after, limit)
	})
}

func (s *Server) apiCreateChange(w http.ResponseWriter, r *http.Request) {
	decodeAnd(s, w, r, http.StatusCreated, s.store.CreateChange)
}

func (s *Server) apiGetChange(w http.ResponseWriter, r *http.Request) {
	c, err := s.store.GetChange(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	respond(s, w, r, http.StatusOK, c, err)
}

func (s *Server) apiUpdateChange(w http.ResponseWriter, r *http.Request) {
	var in vigil.ChangeInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	c, err := s.store.UpdateChange(r.Context(), actorOf(r).OrgID, r.PathValue("id"), in)
	respond(s, w, r, http.StatusOK, c, err)
}

func (s *Server) apiDeleteChange(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteChange(r.Context(), actorOf(r).OrgID, r.PathValue("id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// CalendarFeed is the URL of a member's calendar feed.
type CalendarFeed struct {
	URL string `json:"url"`
}

func (s *Server) apiNewCalendarFeed(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	tok, err := s.store.NewCalendarFeed(r.Context(), a.OrgID, a.UserID)
	respond(s, w, r, http.StatusCreated, CalendarFeed{URL: s.baseURL(r) + "/api/v1/calendar.ics?token=" + tok}, err)
}

// baseURL is the scheme and host the request came to.
func (s *Server) baseURL(r *http.Request) string {
	scheme := "http"
	if s.tls || r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) apiCalendar(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if tok == "" {
		s.apiError(w, r, vigil.Errorf(vigil.EUnauthorized, "the feed URL carries its token: create one with POST /api/v1/calendar/feed"))
		return
	}
	orgID, _, err := s.store.CalendarFeedOwner(r.Context(), tok)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	org, err := s.store.GetOrg(r.Context(), orgID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	dues, err := s.store.DueDates(r.Context(), orgID, s.today())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	base := s.baseURL(r)
	events := make([]calendar.Event, 0, len(dues))
	for _, d := range dues {
		if d.Date == "" {
			continue
		}
		desc := d.Title
		if d.Overdue {
			desc += " (overdue)"
		}
		events = append(events, calendar.Event{UID: d.UID + "-" + orgID, Summary: d.Title, Description: desc, URL: base + d.Link,
			Date: d.Date, EndDate: d.EndDate, Categories: []string{d.Kind}})
	}
	var b bytes.Buffer
	if err := calendar.Write(&b, "Vigil: "+org.Name, events, s.store.Now()); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=300")
	if _, err := w.Write(b.Bytes()); err != nil {
		s.logger.WarnContext(r.Context(), "write calendar", "error", err.Error())
	}
}
