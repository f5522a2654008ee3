package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// incidentPDFText extracts the text of a PDF.
func incidentPDFText(t *testing.T, b []byte) string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		rows, err := p.GetTextByRow()
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			for _, w := range row.Content {
				sb.WriteString(w.S)
			}
			sb.WriteString("\n")
		}
	}
	return sb.String()
}

func TestIncidentsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		ctx := vigil.WithActor(context.Background(), vigil.SystemActor("test"))
		manager, viewer, employee, auditor := h.tokens[vigil.RoleISMSManager], h.tokens[vigil.RoleViewer], h.tokens[vigil.RoleEmployee], h.tokens[vigil.RoleInternalAuditor]
		agent := h.enrol(h.orgA.ID, "web1")
		agent.recordTestSession("sess-1", 1)
		asset := h.auditMust(201, "POST", "/api/v1/assets", manager, `{"name":"CRM","type":"software","owner":"isms_manager@a.test","classification":"internal","confidentiality":2,"integrity":2,"availability":2}`)

		// Roles: an employee can neither read nor report; a viewer only reads.
		body := `{"title":"Phishing wave","category":"phishing","severity":"medium"}`
		for _, c := range []struct {
			method, path, token, body string
			want                      int
		}{
			{"GET", "/api/v1/incidents", employee, "", 403},
			{"POST", "/api/v1/incidents", employee, body, 403},
			{"POST", "/api/v1/incidents", viewer, body, 403},
			{"POST", "/api/v1/incidents", auditor, body, 403},
			{"GET", "/api/v1/incidents", viewer, "", 200},
		} {
			if resp, out := h.api(c.method, c.path, c.token, c.body); resp.StatusCode != c.want {
				t.Errorf("%s %s as %s = %d %s; want %d", c.method, c.path, c.token[:8], resp.StatusCode, out, c.want)
			}
		}

		// Bad input names the field.
		for b, field := range map[string]string{
			`{"category":"phishing","severity":"low"}`:                                      "title",
			`{"title":"x","category":"aliens","severity":"low"}`:                            "category",
			`{"title":"x","severity":"urgent"}`:                                             "severity",
			`{"title":"x","severity":"low","sessions":["nope"]}`:                            "sessions[0]",
			`{"title":"x","severity":"low","assets":["AST-99"]}`:                            "assets[0]",
			`{"title":"x","severity":"low","owner":"stranger@b.test"}`:                      "owner",
			`{"title":"x","severity":"low","from_alerts":["ALR-404"]}`:                      "from_alerts[0]",
			`{"title":"x","severity":"low","status":"closed"}`:                              "status",
			`{"title":"x","severity":"low","personal_data_breach":"yes"}`:                   "personal_data_breach",
			`{"title":"x","severity":"low","authority_notified_at":"2999-01-01T00:00:00Z"}`: "authority_notified_at",
		} {
			resp, out := h.api("POST", "/api/v1/incidents", manager, b)
			if resp.StatusCode != 400 || !strings.Contains(out, `"field":"`+field+`"`) {
				t.Errorf("%s = %d %s; want 400 naming %s", b, resp.StatusCode, out, field)
			}
		}

		// A high incident with its links; the session goes under legal hold.
		inc := h.auditMust(201, "POST", "/api/v1/incidents", manager, fmt.Sprintf(`{"title":"Root shell on web1","category":"unauthorised_access","severity":"high",
			"description":"Unknown key used.","sessions":["sess-1"],"hosts":["web1"],"assets":[%q],"owner":"isms_manager@a.test"}`, asset["ref"]))
		id := inc["id"].(string)
		if inc["ref"] != "INC-1" || inc["status"] != "reported" || fmt.Sprint(inc["suggestions"]) != "[special_audit risk_register]" || fmt.Sprint(inc["hosts"]) != "["+agent.id+"]" {
			t.Fatalf("incident = %v", inc)
		}
		if r, err := st.GetRecordedSession(ctx, h.orgA.ID, "sess-1"); err != nil || !r.LegalHold {
			t.Fatalf("legal hold = %v, %v", r.LegalHold, err)
		}
		got := h.auditMust(200, "GET", "/api/v1/incidents/INC-1", viewer, "")
		if got["id"] != id || len(got["timeline"].([]any)) < 2 || got["suggestions"] == nil {
			t.Fatalf("get = %v", got)
		}

		// Status: forward, never back; closing needs lessons learned.
		h.auditMust(200, "PATCH", "/api/v1/incidents/"+id, manager, `{"status":"contained"}`)
		for b, field := range map[string]string{
			`{"status":"triaged"}`:       "status",
			`{"status":"closed"}`:        "lessons_learned",
			`{"status":"finished"}`:      "status",
			`{"sessions":["sess-x"]}`:    "sessions[0]",
			`{"severity":"enormous"}`:    "severity",
			`{"personal_data_breach":1}`: "personal_data_breach",
		} {
			resp, out := h.api("PATCH", "/api/v1/incidents/"+id, manager, b)
			if resp.StatusCode != 400 || !strings.Contains(out, `"field":"`+field+`"`) {
				t.Errorf("PATCH %s = %d %s; want 400 naming %s", b, resp.StatusCode, out, field)
			}
		}
		if resp, _ := h.api("PATCH", "/api/v1/incidents/"+id, viewer, `{"title":"x"}`); resp.StatusCode != 403 {
			t.Fatalf("viewer PATCH = %d", resp.StatusCode)
		}

		// Timeline entries by hand.
		e := h.auditMust(201, "POST", "/api/v1/incidents/"+id+"/timeline", manager, `{"what":"Rotated the SSH keys on web1","at":"2026-11-02T10:30:00Z"}`)
		if e["who"] != h.users[vigil.RoleISMSManager].ID || e["who_name"] != "isms_manager" || e["at"] != "2026-11-02T10:30:00Z" {
			t.Fatalf("entry = %v", e)
		}
		for b, field := range map[string]string{`{"what":""}`: "what", `{"what":"x","at":"noon"}`: "at", `{"what":"x","who":"me"}`: "who"} {
			if resp, out := h.api("POST", "/api/v1/incidents/"+id+"/timeline", manager, b); resp.StatusCode != 400 || !strings.Contains(out, `"field":"`+field+`"`) {
				t.Errorf("timeline %s = %d %s", b, resp.StatusCode, out)
			}
		}

		// The 72-hour clock.
		br := h.auditMust(200, "PATCH", "/api/v1/incidents/"+id, manager, `{"personal_data_breach":true}`)
		detected, err1 := time.Parse(time.RFC3339Nano, br["breach_detected_at"].(string))
		deadline, err2 := time.Parse(time.RFC3339Nano, br["notification_deadline"].(string))
		if err1 != nil || err2 != nil || deadline.Sub(detected) != 72*time.Hour {
			t.Fatalf("clock = %v .. %v (%v %v)", br["breach_detected_at"], br["notification_deadline"], err1, err2)
		}

		closed := h.auditMust(200, "PATCH", "/api/v1/incidents/"+id, manager, `{"status":"closed","lessons_learned":"Keys need an owner and an expiry."}`)
		if closed["status"] != "closed" || closed["closed_at"] == nil {
			t.Fatalf("closed = %v", closed)
		}

		// The report: PDF with the title, a timeline entry and the lessons.
		resp, raw := h.api("GET", "/api/v1/incidents/"+id+"/report.pdf", auditor, "")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("report.pdf = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		text := incidentPDFText(t, []byte(raw))
		for _, want := range []string{"Root shell on web1", "Rotated the SSH keys on web1", "Keys need an owner and an expiry.", "INC-1"} {
			if !strings.Contains(text, want) {
				t.Errorf("PDF lacks %q", want)
			}
		}
		if _, again := h.api("GET", "/api/v1/incidents/"+id+"/report.pdf", manager, ""); again != raw {
			t.Error("the same incident renders a different PDF")
		}
		if resp, _ := h.api("GET", "/api/v1/incidents/"+id+"/report.pdf", employee, ""); resp.StatusCode != 403 {
			t.Fatalf("employee report = %d", resp.StatusCode)
		}

		// Opening from alerts: highest severity, the alert's session, acknowledged.
		rule := vigil.Rule{ID: "rule-1", Ref: "RUL-1", Name: "Root shell", Severity: vigil.SeverityCritical}
		a1, _, err := st.RaiseAlert(ctx, h.orgA.ID, rule, "g1", vigil.RuleEvent{ID: "ev1", HostID: agent.id, Host: "web1", Time: time.Now(), SessionID: "sess-1"})
		if err != nil {
			t.Fatal(err)
		}
		rule.Severity = vigil.SeverityLow
		a2, _, err := st.RaiseAlert(ctx, h.orgA.ID, rule, "g2", vigil.RuleEvent{ID: "ev2", Time: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		fa := h.auditMust(201, "POST", "/api/v1/incidents", manager, fmt.Sprintf(`{"title":"Root shells","from_alerts":[%q,%q]}`, a1.Ref, a2.ID))
		if fa["severity"] != "critical" || fmt.Sprint(fa["alerts"]) != fmt.Sprintf("[%s %s]", a1.ID, a2.ID) || fmt.Sprint(fa["sessions"]) != "[sess-1]" {
			t.Fatalf("from alerts = %v", fa)
		}
		if al, err := st.GetAlert(ctx, h.orgA.ID, a1.ID); err != nil || al.Status != vigil.AlertAcknowledged {
			t.Fatalf("alert after incident = %+v, %v", al, err)
		}

		// Listing with filters, paginated.
		h.auditMust(201, "POST", "/api/v1/incidents", manager, body)
		page := h.auditMust(200, "GET", "/api/v1/incidents?limit=1", viewer, "")
		if items := page["items"].([]any); len(items) != 1 || page["next_cursor"] == nil {
			t.Fatalf("page = %v", page)
		}
		crit := h.auditMust(200, "GET", "/api/v1/incidents?severity=critical", viewer, "")
		if items := crit["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != fa["id"] {
			t.Fatalf("critical = %v", crit)
		}
		if resp, out := h.api("GET", "/api/v1/incidents?status=done", viewer, ""); resp.StatusCode != 400 || !strings.Contains(out, `"field":"status"`) {
			t.Fatalf("bad filter = %d %s", resp.StatusCode, out)
		}
		// Other organisations see nothing.
		if resp, _ := h.api("GET", "/api/v1/incidents/"+id, h.tokenB, ""); resp.StatusCode != 404 {
			t.Fatalf("org B reads A's incident: %d", resp.StatusCode)
		}
	})
}

func TestIncidentsUI(t *testing.T) {
	st := storetest.OpenSQLite(t)
	h := newHarness(t, st)
	mgr := h.session(h.users[vigil.RoleISMSManager].ID, h.orgA.ID)
	viewer := h.session(h.users[vigil.RoleViewer].ID, h.orgA.ID)
	employee := h.session(h.users[vigil.RoleEmployee].ID, h.orgA.ID)

	// Without the CSRF token the form is refused and nothing is recorded.
	form := url.Values{"title": {"Stolen laptop"}, "category": {"lost_device"}, "severity": {"critical"}, "owner": {"isms_manager@a.test"}, "personal_data_breach": {"1"}}
	if resp, _ := h.ui("POST", "/incidents", mgr, form, true); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST without CSRF = %d", resp.StatusCode)
	}
	if l, _ := st.ListIncidents(context.Background(), h.orgA.ID, vigil.IncidentFilter{}, "", 10); len(l) != 0 {
		t.Fatal("an incident was recorded without a CSRF token")
	}
	resp, body := h.ui("POST", "/incidents", mgr, form, false)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("report: %d %.500s", resp.StatusCode, body)
	}
	id := auditIDFrom(t, resp, "/incidents/")

	_, body = h.ui("GET", "/incidents/"+id, mgr, nil, false)
	mustContain(t, "incident page", body, "INC-1 Stolen laptop", "Raise a special audit", "/audits?title=", "type=special", "#plan", `href="/risks"`,
		"72-hour clock", "hours remaining", "Notify the supervisory authority by", `name="csrf_token"`, "/incidents/"+id+"/report.pdf", "Change the status", "Add entry")
	_, body = h.ui("GET", "/incidents", viewer, nil, false)
	mustContain(t, "list", body, "INC-1", "Stolen laptop", `href="/incidents"`)
	if strings.Contains(body, "Report an incident") {
		t.Error("a viewer is offered the report form")
	}
	if resp, _ := h.ui("GET", "/incidents/"+id, employee, nil, false); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("employee page = %d", resp.StatusCode)
	}

	// Status and timeline through the forms; closing without lessons fails.
	if resp, body := h.ui("POST", "/incidents/"+id+"/status", mgr, url.Values{"status": {"closed"}, "lessons_learned": {""}}, false); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "lessons_learned") {
		t.Fatalf("close without lessons: %d %.300s", resp.StatusCode, body)
	}
	if resp, body := h.ui("POST", "/incidents/"+id+"/timeline", mgr, url.Values{"what": {"Laptop wiped remotely"}, "at": {"2026-11-01T08:00"}}, false); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("timeline: %d %.300s", resp.StatusCode, body)
	}
	if resp, body := h.ui("POST", "/incidents/"+id+"/links", mgr, url.Values{"sessions": {"no-such"}}, false); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "sessions[0]") {
		t.Fatalf("bad link: %d %.300s", resp.StatusCode, body)
	}
	if resp, body := h.ui("POST", "/incidents/"+id+"/status", mgr, url.Values{"status": {"closed"}, "lessons_learned": {"Encrypt every disk."}}, false); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %d %.300s", resp.StatusCode, body)
	}
	_, body = h.ui("GET", "/incidents/"+id, mgr, nil, false)
	mustContain(t, "closed page", body, "Laptop wiped remotely", "Encrypt every disk.", "Status reported → closed")
	resp, pdfBody := h.ui("GET", "/incidents/"+id+"/report.pdf", viewer, nil, false)
	if resp.StatusCode != http.StatusOK || !strings.Contains(incidentPDFText(t, []byte(pdfBody)), "Encrypt every disk.") {
		t.Fatalf("ui report = %d", resp.StatusCode)
	}
}
