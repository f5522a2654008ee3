package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
)

// The pages of the incident register. Every form goes through the store
// calls the API uses.

// incidentUIRoutes registers the incident pages with the roles of their
// API counterparts.
func (s *Server) incidentUIRoutes() {
	s.handle("GET", "/incidents", UI, incidentReaders, s.uiIncidents)
	s.handle("POST", "/incidents", UI, incidentEditors, s.uiCreateIncident)
	s.handle("GET", "/incidents/{id}", UI, incidentReaders, s.uiIncident)
	s.handle("POST", "/incidents/{id}", UI, incidentEditors, s.uiUpdateIncident)
	s.handle("POST", "/incidents/{id}/status", UI, incidentEditors, s.uiIncidentStatus)
	s.handle("POST", "/incidents/{id}/links", UI, incidentEditors, s.uiIncidentLinks)
	s.handle("POST", "/incidents/{id}/timeline", UI, incidentEditors, s.uiIncidentTimeline)
	s.handle("GET", "/incidents/{id}/report.pdf", UI, incidentReaders, s.uiIncidentPDF)
}

// incidentForm holds the report-an-incident form as typed.
type incidentForm struct {
	Title, Description, Category, Severity, Owner string
	Alerts, Sessions, Hosts, Assets, Risks        string
	PersonalDataBreach                            bool
}

func readIncidentForm(r *http.Request) incidentForm {
	v := r.PostFormValue
	return incidentForm{Title: v("title"), Description: v("description"), Category: v("category"), Severity: v("severity"), Owner: v("owner"),
		Alerts: v("alerts"), Sessions: v("sessions"), Hosts: v("hosts"), Assets: v("assets"), Risks: v("risks"),
		PersonalDataBreach: v("personal_data_breach") != ""}
}

type incidentsPage struct {
	Items      []vigil.Incident
	Next       string
	CanEdit    bool
	Form       incidentForm
	Categories []vigil.IncidentCategory
	Severities []vigil.Severity
	Statuses   []vigil.IncidentStatus
	Status     string // list filter
	Severity   string
	People     ismsPeople
}

func (s *Server) incidentsPage(w http.ResponseWriter, r *http.Request, status int, v view, form incidentForm) {
	a := actorOf(r)
	ctx := r.Context()
	q := r.URL.Query()
	d := incidentsPage{CanEdit: slices.Contains(incidentEditors, a.Role), Form: form, Categories: vigil.IncidentCategories,
		Severities: vigil.Severities, Statuses: vigil.IncidentStatuses, Status: q.Get("status"), Severity: q.Get("severity")}
	f := vigil.IncidentFilter{Status: vigil.IncidentStatus(d.Status), Severity: vigil.Severity(d.Severity)}
	if f.Check() != nil {
		f, d.Status, d.Severity = vigil.IncidentFilter{}, "", ""
	}
	var err error
	if d.People, err = s.ismsPeople(ctx, a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if d.Items, err = s.store.ListIncidents(ctx, a.OrgID, f, q.Get("after"), auPageSize+1); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if len(d.Items) > auPageSize {
		d.Items = d.Items[:auPageSize]
		d.Next = "/incidents?" + url.Values{"status": {d.Status}, "severity": {d.Severity}, "after": {d.Items[auPageSize-1].ID}}.Encode()
	}
	v.Title, v.Nav, v.Actor, v.Data = "Incidents", "incidents", a, d
	s.render(w, r, status, "incidents", v)
}

func (s *Server) uiIncidents(w http.ResponseWriter, r *http.Request) {
	s.incidentsPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, incidentForm{Category: string(vigil.IncidentOther), Severity: string(vigil.SeverityMedium)})
}

func (s *Server) uiCreateIncident(w http.ResponseWriter, r *http.Request) {
	form := readIncidentForm(r)
	in := vigil.IncidentInput{Title: form.Title, Description: form.Description, Category: vigil.IncidentCategory(form.Category),
		Severity: vigil.Severity(form.Severity), Owner: form.Owner, PersonalDataBreach: form.PersonalDataBreach,
		Alerts: auLines(form.Alerts), Sessions: auLines(form.Sessions), Hosts: auLines(form.Hosts), Assets: auLines(form.Assets), Risks: auLines(form.Risks)}
	inc, err := s.store.CreateIncident(r.Context(), actorOf(r).OrgID, in)
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.incidentsPage(w, r, status, v, form) })
		return
	}
	auDone(w, r, "/incidents/"+inc.ID, "Reported "+inc.Ref+" "+inc.Title+".")
}

// incidentLinkRow is one linked record as the page shows it.
type incidentLinkRow struct {
	ID, Label, Href string
}

type incidentPage struct {
	Incident   vigil.Incident
	CanEdit    bool
	Next       []vigil.IncidentStatus
	Categories []vigil.IncidentCategory
	Severities []vigil.Severity
	People     ismsPeople
	Links      map[string][]incidentLinkRow // by field: alerts, sessions, ...
	// LinkText is the link form's text areas: one ref or id per line.
	LinkText      map[string]string
	Owner         string // the owner's email, for the form
	HighSeverity  bool
	AuditHref     string // plan a special audit, prefilled
	Clock         bool   // the 72-hour clock runs
	HoursLeft     int
	Overdue       bool
	NotifiedInput string // authority_notified_at for a datetime-local input
	Status        string // status form: lessons typed before a refusal
	Lessons       string
	Entry         vigil.TimelineInput
}

func (s *Server) incidentPage(w http.ResponseWriter, r *http.Request, status int, v view, fill func(*incidentPage)) {
	a := actorOf(r)
	ctx := r.Context()
	inc, err := s.store.GetIncident(ctx, a.OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	names, err := s.store.IncidentNames(ctx, a.OrgID, inc)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d := incidentPage{Incident: inc, CanEdit: slices.Contains(incidentEditors, a.Role), Next: inc.Status.Next(),
		Categories: vigil.IncidentCategories, Severities: vigil.Severities, Lessons: inc.LessonsLearned,
		HighSeverity: len(inc.Suggestions) > 0, Links: map[string][]incidentLinkRow{}, LinkText: map[string]string{}}
	if d.People, err = s.ismsPeople(ctx, a.OrgID); err != nil {
		s.uiFail(w, r, err)
		return
	}
	for _, m := range d.People.Members {
		if m.ID == inc.Owner {
			d.Owner = m.Email
		}
	}
	if d.Owner == "" {
		d.Owner = inc.Owner
	}
	label := func(id string) string {
		if n, ok := names[id]; ok && n != "" {
			return n
		}
		return id
	}
	monitoring := slices.Contains(monitoringReaders, a.Role)
	for _, l := range []struct {
		field string
		ids   []string
		href  func(id string) string
	}{
		{"alerts", inc.Alerts, nil},
		{"sessions", inc.Sessions, func(id string) string {
			if monitoring {
				return "/sessions/" + url.PathEscape(id)
			}
			return ""
		}},
		{"hosts", inc.Hosts, nil},
		{"assets", inc.Assets, func(id string) string { return "/assets/" + url.PathEscape(id) }},
		{"risks", inc.Risks, func(id string) string { return "/risks/" + url.PathEscape(id) }},
	} {
		var lines []string
		for _, id := range l.ids {
			row := incidentLinkRow{ID: id, Label: label(id)}
			if l.href != nil {
				row.Href = l.href(id)
			}
			d.Links[l.field] = append(d.Links[l.field], row)
			// The form shows refs where there are: "AST-2 CRM" → "AST-2".
			ref, _, _ := strings.Cut(row.Label, " ")
			if l.field == "hosts" || ref == "" {
				ref = id
			}
			lines = append(lines, ref)
		}
		d.LinkText[l.field] = strings.Join(lines, "\n")
	}
	d.AuditHref = "/audits?" + url.Values{"type": {string(vigil.AuditSpecial)}, "title": {"Special audit after " + inc.Ref + " " + inc.Title}}.Encode() + "#plan"
	if h, ok := inc.HoursLeft(s.store.Now()); ok {
		d.Clock, d.HoursLeft, d.Overdue = true, h, h < 0
		if d.Overdue {
			d.HoursLeft = -h
		}
	}
	if inc.AuthorityNotifiedAt != nil {
		d.NotifiedInput = inc.AuthorityNotifiedAt.UTC().Format("2006-01-02T15:04")
	}
	if fill != nil {
		fill(&d)
	}
	v.Title, v.Nav, v.Actor, v.Data = inc.Ref+" "+inc.Title, "incidents", a, d
	s.render(w, r, status, "incidents_view", v)
}

func (s *Server) uiIncident(w http.ResponseWriter, r *http.Request) {
	s.incidentPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, nil)
}

// incidentSaved redirects back to the incident with a confirmation.
func incidentSaved(w http.ResponseWriter, r *http.Request, inc vigil.Incident, msg, anchor string) {
	redirect(w, r, "/incidents/"+url.PathEscape(inc.ID)+"?done="+url.QueryEscape(msg)+anchor)
}

// parseFormTime reads a datetime-local value (taken as UTC) or RFC 3339.
func parseFormTime(field, s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, vigil.Invalid(field, "must be a date and time such as 2026-01-31T09:00")
}

func (s *Server) uiUpdateIncident(w http.ResponseWriter, r *http.Request) {
	v := r.PostFormValue
	title, desc, owner, lessons := v("title"), v("description"), v("owner"), v("lessons_learned")
	cat, sev := vigil.IncidentCategory(v("category")), vigil.Severity(v("severity"))
	breach := v("personal_data_breach") != ""
	upd := vigil.IncidentUpdate{Title: &title, Description: &desc, Category: &cat, Severity: &sev, Owner: &owner,
		LessonsLearned: &lessons, PersonalDataBreach: &breach}
	notified, err := parseFormTime("authority_notified_at", v("authority_notified_at"))
	if err == nil {
		upd.AuthorityNotifiedAt = notified
		var inc vigil.Incident
		if inc, err = s.store.UpdateIncident(r.Context(), actorOf(r).OrgID, r.PathValue("id"), upd); err == nil {
			incidentSaved(w, r, inc, "Saved "+inc.Ref+".", "")
			return
		}
	}
	s.auFailed(w, r, err, func(status int, v view) { s.incidentPage(w, r, status, v, nil) })
}

func (s *Server) uiIncidentStatus(w http.ResponseWriter, r *http.Request) {
	st := vigil.IncidentStatus(r.PostFormValue("status"))
	lessons := r.PostFormValue("lessons_learned")
	upd := vigil.IncidentUpdate{Status: &st}
	if _, ok := r.PostForm["lessons_learned"]; ok {
		upd.LessonsLearned = &lessons
	}
	inc, err := s.store.UpdateIncident(r.Context(), actorOf(r).OrgID, r.PathValue("id"), upd)
	if err != nil {
		s.auFailed(w, r, err, func(status int, v view) {
			s.incidentPage(w, r, status, v, func(d *incidentPage) { d.Status, d.Lessons = string(st), lessons })
		})
		return
	}
	incidentSaved(w, r, inc, inc.Ref+" is now "+string(inc.Status)+".", "")
}

func (s *Server) uiIncidentLinks(w http.ResponseWriter, r *http.Request) {
	v := r.PostFormValue
	lines := func(field string) *[]string { l := auLines(v(field)); return &l }
	upd := vigil.IncidentUpdate{Alerts: lines("alerts"), Sessions: lines("sessions"), Hosts: lines("hosts"), Assets: lines("assets"), Risks: lines("risks")}
	inc, err := s.store.UpdateIncident(r.Context(), actorOf(r).OrgID, r.PathValue("id"), upd)
	if err != nil {
		s.auFailed(w, r, err, func(status int, vw view) {
			s.incidentPage(w, r, status, vw, func(d *incidentPage) {
				for _, f := range []string{"alerts", "sessions", "hosts", "assets", "risks"} {
					d.LinkText[f] = v(f)
				}
			})
		})
		return
	}
	incidentSaved(w, r, inc, "Saved the links of "+inc.Ref+".", "#links")
}

func (s *Server) uiIncidentTimeline(w http.ResponseWriter, r *http.Request) {
	in := vigil.TimelineInput{What: r.PostFormValue("what"), At: r.PostFormValue("at")}
	at, err := parseFormTime("at", in.At)
	if err == nil {
		if at != nil {
			in.At = at.Format(time.RFC3339)
		}
		if _, err = s.store.AddIncidentTimeline(r.Context(), actorOf(r).OrgID, r.PathValue("id"), in); err == nil {
			redirect(w, r, "/incidents/"+url.PathEscape(r.PathValue("id"))+"?done="+url.QueryEscape("Added to the timeline.")+"#timeline")
			return
		}
	}
	s.auFailed(w, r, err, func(status int, v view) {
		s.incidentPage(w, r, status, v, func(d *incidentPage) {
			d.Entry = vigil.TimelineInput{What: r.PostFormValue("what"), At: r.PostFormValue("at")}
		})
	})
}

func (s *Server) uiIncidentPDF(w http.ResponseWriter, r *http.Request) {
	s.writeIncidentPDF(w, r, s.uiFail)
}
