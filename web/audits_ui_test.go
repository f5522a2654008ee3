package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// auditIDFrom returns the id in a redirect to /<base>/{id}?done=….
func auditIDFrom(t *testing.T, resp *http.Response, base string) string {
	t.Helper()
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, base) {
		t.Fatalf("redirect to %q, want %s…", loc, base)
	}
	id, _, _ := strings.Cut(strings.TrimPrefix(loc, base), "?")
	return id
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: missing %q", what, w)
		}
	}
}

func TestAuditsUI(t *testing.T) {
	st := storetest.OpenSQLite(t)
	h := newHarness(t, st)
	ctx := vigil.WithActor(context.Background(), vigil.SystemActor("test"))
	org := h.orgA.ID
	mgr := h.session(h.users[vigil.RoleISMSManager].ID, org)
	owner := h.session(h.users[vigil.RoleRiskOwner].ID, org)
	today := time.Now().UTC().Format(time.DateOnly)

	// Plan an internal audit through the form.
	resp, body := h.ui("POST", "/audits", mgr, url.Values{
		"type": {"internal"}, "title": {"Access control audit"}, "criteria": {"ISO/IEC 27001:2022"},
		"requirements": {"A.5.15\n9.2"}, "planned_start": {"2026-12-01"}, "planned_end": {"2026-12-02"},
		"lead_auditor": {"internal_auditor@a.test"},
	}, false)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("plan audit: %d %.500s", resp.StatusCode, body)
	}
	auditID := auditIDFrom(t, resp, "/audits/")
	items, err := st.Checklist(ctx, org, auditID)
	if err != nil || len(items) == 0 {
		t.Fatalf("checklist: %v (%d items)", err, len(items))
	}
	var item vigil.ChecklistItem
	for _, it := range items {
		if it.Ref == "A.5.15" {
			item = it
		}
	}
	if item.ID == "" {
		t.Fatalf("no A.5.15 item in %+v", items)
	}

	// A checklist result raises a finding that the findings page lists.
	resp, body = h.ui("POST", "/audits/"+auditID+"/checklist/"+item.ID, mgr, url.Values{"result": {"minor_nc"}, "notes": {"No access review in Q3"}}, false)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("checklist result: %d %.500s", resp.StatusCode, body)
	}
	fs, err := st.ListFindings(ctx, org, vigil.FindingFilter{Audit: auditID}, "", 10)
	if err != nil || len(fs) != 1 {
		t.Fatalf("findings: %v %+v", err, fs)
	}
	finding := fs[0]
	_, body = h.ui("GET", "/findings", mgr, nil, false)
	mustContain(t, "findings", body, finding.Ref, "/findings/"+finding.ID, "A.5.15")

	// A corrective action owned by the risk owner, past its due date.
	resp, body = h.ui("POST", "/findings/"+finding.ID+"/actions", mgr, url.Values{
		"correction": {"Review access now"}, "root_cause": {"No schedule"}, "action": {"Quarterly access reviews"},
		"owner": {"risk_owner@a.test"}, "due_date": {"2020-01-31"},
	}, false)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add action: %d %.500s", resp.StatusCode, body)
	}
	acts, err := st.ListCorrectiveActions(ctx, org, vigil.CorrectiveActionFilter{Finding: finding.ID}, "", 10)
	if err != nil || len(acts) != 1 {
		t.Fatalf("actions: %v %+v", err, acts)
	}
	act := acts[0]
	_, body = h.ui("GET", "/findings/"+finding.ID, mgr, nil, false)
	mustContain(t, "finding page", body, act.Ref, "overdue", `action="/corrective-actions/`+act.ID+`"`)
	_, body = h.ui("GET", "/", mgr, nil, false)
	mustContain(t, "dashboard", body, "Audits and certification", "Overdue corrective actions", act.Ref, "/audit-programme", "not covered by the audit programme")

	// The owner may move their action but not verify it: the store's 403
	// is shown on the page.
	if resp, body = h.ui("POST", "/corrective-actions/"+act.ID, owner, url.Values{"status": {"done"}}, false); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("owner marks done: %d %.500s", resp.StatusCode, body)
	}
	resp, body = h.ui("POST", "/corrective-actions/"+act.ID, owner, url.Values{"status": {"verified_effective"}, "verification_notes": {"fine"}}, false)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "must be verified by someone other than its owner") {
		t.Errorf("owner verifies own action: %d %.800s", resp.StatusCode, body)
	}

	// Issue the report: the page then offers the PDF.
	if resp, body = h.ui("POST", "/audits/"+auditID+"/report", mgr, url.Values{"summary": {"Access reviews are missing."}}, false); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("issue report: %d %.500s", resp.StatusCode, body)
	}
	_, body = h.ui("GET", "/audits/"+auditID, mgr, nil, false)
	mustContain(t, "audit after report", body, "Report issued on", "SHA-256", `href="/audits/`+auditID+`/report.pdf"`)
	if strings.Contains(body, "/checklist/"+item.ID+`"`) {
		t.Error("checklist still editable after the report was issued")
	}
	resp, body = h.ui("GET", "/audits/"+auditID+"/report.pdf", mgr, nil, false)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(body, "%PDF") {
		t.Errorf("report.pdf: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// Invite an external auditor: the token is shown once.
	resp, body = h.ui("POST", "/audits/"+auditID+"/guests", mgr, url.Values{"email": {"ext@body.test"}, "name": {"Ext"},
		"valid_from": {today}, "valid_until": {time.Now().UTC().AddDate(0, 0, 14).Format(time.DateOnly)}}, false)
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("invite guest: %d %.500s", resp.StatusCode, body)
	}
	mustContain(t, "invitation", body, "shown only now", "ext@body.test")

	// An auditor who owns an asset in scope is refused, each conflict shown.
	asset, err := st.CreateAsset(ctx, org, vigil.AssetInput{Name: "Payroll database", Type: vigil.AssetInformation, Owner: "risk_owner@a.test", Classification: vigil.ClassConfidential})
	if err != nil {
		t.Fatal(err)
	}
	resp, body = h.ui("POST", "/audits", mgr, url.Values{
		"type": {"internal"}, "title": {"Payroll audit"}, "assets": {asset.Ref}, "planned_start": {"2026-12-10"},
		"lead_auditor": {"risk_owner@a.test"},
	}, false)
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("conflicting audit: %d %.500s", resp.StatusCode, body)
	}
	mustContain(t, "conflict", body, `id="conflicts"`, "auditor risk_owner@a.test owns "+asset.Ref, `value="Payroll audit"`)
	if strings.Contains(body, `name="impartiality_override"`) {
		t.Error("the override field is shown to a non-admin")
	}
	admin := h.session(h.users[vigil.RoleAdmin].ID, org)
	_, body = h.ui("GET", "/audits", admin, nil, false)
	mustContain(t, "admin audits", body, `name="impartiality_override"`)

	// Management review: create, sign off, locked.
	resp, body = h.ui("POST", "/management-reviews", mgr, url.Values{"title": {"Annual review"}, "meeting_date": {today}}, false)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create review: %d %.500s", resp.StatusCode, body)
	}
	reviewID := auditIDFrom(t, resp, "/management-reviews/")
	if resp, body = h.ui("POST", "/management-reviews/"+reviewID, mgr, url.Values{"title": {"Annual review"}, "meeting_date": {today}, "decisions": {"Hire a second auditor"}}, false); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit review: %d %.500s", resp.StatusCode, body)
	}
	_, body = h.ui("GET", "/management-reviews/"+reviewID, mgr, nil, false)
	mustContain(t, "draft review", body, "a) Status of actions", "f) Opportunities", "Hire a second auditor", "Save draft")
	if resp, body = h.ui("POST", "/management-reviews/"+reviewID+"/sign-off", mgr, nil, false); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign off: %d %.500s", resp.StatusCode, body)
	}
	_, body = h.ui("GET", "/management-reviews/"+reviewID, mgr, nil, false)
	mustContain(t, "signed-off review", body, "locked")
	if strings.Contains(body, "Save draft") {
		t.Error("a signed-off review still has its edit form")
	}

	// Certification with an old issue date: overdue surveillance flagged.
	if resp, body = h.ui("POST", "/certification", mgr, url.Values{"certification_body": {"CB Ltd"}, "issue_date": {"2020-01-15"}, "surveillance_interval_months": {"12"}}, false); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("certification: %d %.500s", resp.StatusCode, body)
	}
	if resp, body = h.ui("POST", "/changes", mgr, url.Values{"title": {"Moved to new cloud"}, "changed_on": {today}, "significant": {"true"}}, false); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d %.500s", resp.StatusCode, body)
	}
	if resp, body = h.ui("POST", "/audit-programme", mgr, url.Values{"cycle_start": {"2026-01-01"}, "objectives": {"Audit every control yearly"}, "default_frequency_months": {"12"}}, false); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("programme: %d %.500s", resp.StatusCode, body)
	}

	// Every page renders for the ISMS manager with its key content.
	for _, tc := range []struct {
		path  string
		wants []string
	}{
		{"/audits", []string{"Access control audit", "Plan an audit", `name="csrf_token"`, "<th scope=\"col\">Lead auditor</th>"}},
		{"/audits/" + auditID, []string{"Checklist", "A.5.15", "Impartiality", finding.Ref, "External auditors", "ext@body.test"}},
		{"/findings", []string{"Open findings"}},
		{"/findings?status=all", []string{finding.Ref}},
		{"/findings/" + finding.ID, []string{finding.Ref, act.Ref, "Corrective actions"}},
		{"/management-reviews", []string{"Annual review", "Start a management review"}},
		{"/certification", []string{"CB Ltd", "needs attention", "Moved to new cloud", "Plan a special audit", "Save certification"}},
		{"/audit-programme", []string{"Audit every control yearly", "not covered", "Coverage", "A.5.15"}},
		{"/", []string{"Certification dates needing attention", "overdue"}},
	} {
		t.Run("page "+tc.path, func(t *testing.T) {
			resp, body := h.ui("GET", tc.path, mgr, nil, false)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d %.500s", resp.StatusCode, body)
			}
			mustContain(t, tc.path, body, tc.wants...)
		})
	}

	// Refusals.
	for _, tc := range []struct {
		name, method, path string
		role               vigil.Role
		form               url.Values
		noCSRF             bool
		want               int
	}{
		{"post without CSRF token", "POST", "/audits", vigil.RoleISMSManager, url.Values{"title": {"x"}}, true, http.StatusForbidden},
		{"employee reads audits", "GET", "/audits", vigil.RoleEmployee, nil, false, http.StatusForbidden},
		{"viewer plans an audit", "POST", "/audits", vigil.RoleViewer, url.Values{"title": {"x"}}, false, http.StatusForbidden},
		{"auditor signs off a review", "POST", "/management-reviews/" + reviewID + "/sign-off", vigil.RoleInternalAuditor, nil, false, http.StatusForbidden},
		{"unknown audit", "GET", "/audits/01900000-0000-7000-8000-000000000000", vigil.RoleISMSManager, nil, false, http.StatusNotFound},
		{"other org's audit", "GET", "/audits/" + auditID, "", nil, false, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sess := h.session(h.adminB.ID, h.orgB.ID)
			if tc.role != "" {
				sess = h.session(h.users[tc.role].ID, org)
			}
			resp, body := h.ui(tc.method, tc.path, sess, tc.form, tc.noCSRF)
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d (%.300s)", resp.StatusCode, tc.want, body)
			}
		})
	}
}

// TestAuditUIRecords covers the forms that record an audit's work:
// evidence links on checklist items, the dates, findings recorded by hand,
// closing an opportunity, ending a guest's access.
func TestAuditUIRecords(t *testing.T) {
	st := storetest.OpenSQLite(t)
	h := newHarness(t, st)
	ctx := vigil.WithActor(context.Background(), vigil.SystemActor("test"))
	org := h.orgA.ID
	mgr := h.session(h.users[vigil.RoleISMSManager].ID, org)
	au, err := st.CreateAudit(ctx, org, vigil.AuditInput{Type: vigil.AuditSurveillance, Title: "Surveillance", PlannedStart: "2026-12-01",
		CertificationBody: "CB Ltd", Scope: vigil.AuditScope{Requirements: []string{"A.8.15"}}}, store.AuditWrite{})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := st.CreateEvidence(ctx, org, vigil.EvidenceInput{Title: "Retention config", Collector: "admin@a.test", Filename: "r.txt"}, []byte("retention=90d"))
	if err != nil {
		t.Fatal(err)
	}
	items, _ := st.Checklist(ctx, org, au.ID)
	path := "/audits/" + au.ID
	for _, tc := range []struct {
		name   string
		path   string
		form   url.Values
		status int
		want   string
	}{
		{"evidence links", path + "/checklist/" + items[0].ID, url.Values{"result": {"conform"}, "notes": {"ok"},
			"evidence": {ev.Ref + "\nhttps://wiki.acme.test/logging\ntrail 1"}}, http.StatusSeeOther, ""},
		{"bad evidence link", path + "/checklist/" + items[0].ID, url.Values{"result": {"conform"}, "evidence": {"evidence EVD-999"}}, http.StatusBadRequest, "EVD-999"},
		{"dates backwards", path + "/dates", url.Values{"actual_start": {"2026-12-02"}, "actual_end": {"2026-12-01"}}, http.StatusBadRequest, "actual_end"},
		{"dates", path + "/dates", url.Values{"actual_start": {"2026-12-01"}, "actual_end": {"2026-12-02"}}, http.StatusSeeOther, ""},
		{"finding without requirement", path + "/findings", url.Values{"kind": {"ofi"}}, http.StatusBadRequest, "requirement"},
		{"finding", path + "/findings", url.Values{"requirement": {"A.8.15"}, "kind": {"ofi"}, "description": {"Centralise logs"}}, http.StatusSeeOther, ""},
	} {
		resp, body := h.ui("POST", tc.path, mgr, tc.form, false)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %.300s; want %d with %q", tc.name, resp.StatusCode, body, tc.status, tc.want)
		}
	}
	items, _ = st.Checklist(ctx, org, au.ID)
	if len(items[0].Evidence) != 3 || items[0].Evidence[0].Ref != ev.ID || items[0].Evidence[1].Type != "url" {
		t.Fatalf("evidence links = %+v", items[0].Evidence)
	}
	_, body := h.ui("GET", path, mgr, nil, false)
	mustContain(t, "audit page", body, "/evidence/"+ev.ID, "https://wiki.acme.test/logging", "Record a finding", "2026-12-02")
	fs, _ := st.ListFindings(ctx, org, vigil.FindingFilter{Audit: au.ID}, "", 10)
	if len(fs) != 1 {
		t.Fatalf("findings = %+v", fs)
	}
	if resp, body := h.ui("POST", "/findings/"+fs[0].ID+"/status", mgr, url.Values{"status": {"closed"}}, false); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("close ofi: %d %.300s", resp.StatusCode, body)
	}
	if f, _ := st.GetFinding(ctx, org, fs[0].ID); f.Status != vigil.FindingClosed {
		t.Fatalf("finding = %+v", f)
	}
	now := st.Now()
	g, _, err := st.InviteAuditGuest(ctx, org, au.ID, vigil.AuditGuestInput{Email: "ext@cb.test", ValidFrom: now.Format(time.RFC3339), ValidUntil: now.Add(time.Hour).Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := h.ui("POST", path+"/guests/"+g.ID+"/revoke", mgr, nil, false); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke guest: %d %.300s", resp.StatusCode, body)
	}
	if gs, _ := st.ListAuditGuests(ctx, org, au.ID); gs[0].RevokedAt == nil {
		t.Fatal("guest not revoked")
	}
	// The plan form can be prefilled, as an incident's link does.
	_, body = h.ui("GET", "/audits?type=special&title=After+INC-1", mgr, nil, false)
	mustContain(t, "prefilled plan form", body, `value="After INC-1"`)

	// The profile page makes a calendar feed URL that calendar programs can fetch.
	resp, body := h.ui("POST", "/profile/calendar", mgr, nil, false)
	i := strings.Index(body, "/api/v1/calendar.ics?token=")
	if resp.StatusCode != http.StatusOK || i < 0 {
		t.Fatalf("calendar feed: %d %.300s", resp.StatusCode, body)
	}
	feed := body[i:]
	feed = feed[:strings.IndexAny(feed, "<\"")]
	if resp, ics := h.api("GET", strings.ReplaceAll(feed, "&amp;", "&"), "", ""); resp.StatusCode != http.StatusOK || !strings.Contains(ics, "BEGIN:VCALENDAR") {
		t.Fatalf("feed %s: %d", feed, resp.StatusCode)
	}
}
