package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// auditMust calls the API and fails unless the status is want.
func (h *harness) auditMust(want int, method, path, token, body string) map[string]any {
	h.t.Helper()
	resp, out := h.api(method, path, token, body)
	if resp.StatusCode != want {
		h.t.Fatalf("%s %s = %d %s; want %d", method, path, resp.StatusCode, out, want)
	}
	var v map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/") && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			h.t.Fatal(err)
		}
	}
	return v
}

func TestAuditsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		admin, manager, auditor := h.tokens[vigil.RoleAdmin], h.tokens[vigil.RoleISMSManager], h.tokens[vigil.RoleInternalAuditor]
		asset := h.auditMust(201, "POST", "/api/v1/assets", manager, `{"name":"CRM","type":"software","owner":"internal_auditor@a.test","classification":"internal","confidentiality":2,"integrity":2,"availability":2}`)
		evidence := func() string {
			ev, err := st.CreateEvidence(vigil.WithActor(context.Background(), vigil.SystemActor("test")), h.orgA.ID, vigil.EvidenceInput{Title: "Log retention settings", Collector: "admin@a.test", Filename: "retention.txt"}, []byte("retention=7d"))
			if err != nil {
				t.Fatal(err)
			}
			return ev.ID
		}

		// Bad input names the field.
		for body, field := range map[string]string{
			`{"type":"internal","title":"IA","planned_start":"2026-12-02","planned_end":"2026-12-01","lead_auditor":"admin@a.test","scope":{"requirements":["9.2"]}}`: "planned_end",
			`{"type":"internal","title":"IA","planned_start":"2026-12-01","lead_auditor":"admin@a.test","scope":{"requirements":["Z.1"]}}`:                            "scope.requirements[0]",
		} {
			resp, out := h.api("POST", "/api/v1/audits", manager, body)
			if resp.StatusCode != 400 || !strings.Contains(out, field) {
				t.Errorf("%s = %d %s; want 400 naming %s", body, resp.StatusCode, out, field)
			}
		}
		// Impartiality: 409 with the conflict; the manager cannot override, the admin can.
		body := fmt.Sprintf(`{"type":"internal","title":"CRM audit","planned_start":"2026-12-01","lead_auditor":"internal_auditor@a.test","scope":{"requirements":["9","A.8.15"],"assets":[%q]}}`, asset["ref"])
		resp, out := h.api("POST", "/api/v1/audits", manager, body)
		if resp.StatusCode != 409 || !strings.Contains(out, "auditor internal_auditor@a.test owns AST-1 in scope") || !strings.Contains(out, `"conflicts"`) {
			t.Fatalf("conflict = %d %s", resp.StatusCode, out)
		}
		override := strings.Replace(body, `"title"`, `"impartiality_override":"Sole auditor; CISO reviews the results.","title"`, 1)
		if resp, out := h.api("POST", "/api/v1/audits", manager, override); resp.StatusCode != 403 {
			t.Fatalf("manager override = %d %s", resp.StatusCode, out)
		}
		a := h.auditMust(201, "POST", "/api/v1/audits", admin, override)
		id := a["id"].(string)
		if a["ref"] != "AUD-1" || a["impartiality_override"] == "" {
			t.Fatalf("audit = %v", a)
		}

		// Checklist → finding → corrective action.
		list := h.auditMust(200, "GET", "/api/v1/audits/"+id+"/checklist", auditor, "")
		items := list["items"].([]any)
		var logging string
		for _, it := range items {
			m := it.(map[string]any)
			if m["ref"] == "A.8.15" {
				logging = m["id"].(string)
			}
		}
		if logging == "" {
			t.Fatalf("checklist = %v", items)
		}
		evID := evidence()
		item := h.auditMust(200, "PATCH", "/api/v1/audits/"+id+"/checklist/"+logging, auditor,
			fmt.Sprintf(`{"result":"minor_nc","notes":"Retention is 7 days","evidence":[{"type":"evidence","ref":%q}]}`, evID))
		if item["finding"] == "" {
			t.Fatalf("item = %v", item)
		}
		findings := h.auditMust(200, "GET", "/api/v1/findings?audit="+id, auditor, "")
		fl := findings["items"].([]any)
		if len(fl) != 1 || fl[0].(map[string]any)["ref"] != "NC-1" || fl[0].(map[string]any)["kind"] != "minor_nc" {
			t.Fatalf("findings = %v", findings)
		}
		ca := h.auditMust(201, "POST", "/api/v1/corrective-actions", manager, `{"finding":"NC-1","action":"Raise retention to 90 days","owner":"employee@a.test","due_date":"2027-01-31"}`)
		caID := ca["id"].(string)
		employee := h.tokens[vigil.RoleEmployee]
		if resp, out := h.api("PATCH", "/api/v1/corrective-actions/"+caID, employee, `{"status":"done"}`); resp.StatusCode != 400 || !strings.Contains(out, "root_cause") {
			t.Fatalf("done without root cause = %d %s", resp.StatusCode, out)
		}
		h.auditMust(200, "PATCH", "/api/v1/corrective-actions/"+caID, employee, `{"status":"done","root_cause":"Default never changed"}`)
		if resp, out := h.api("PATCH", "/api/v1/corrective-actions/"+caID, employee, `{"status":"verified_effective"}`); resp.StatusCode != 403 {
			t.Fatalf("owner verifies own action = %d %s", resp.StatusCode, out)
		}
		if resp, _ := h.api("PATCH", "/api/v1/corrective-actions/"+caID, h.tokens[vigil.RoleRiskOwner], `{"action":"x"}`); resp.StatusCode != 403 {
			t.Fatalf("a stranger's update = %d", resp.StatusCode)
		}
		h.auditMust(200, "PATCH", "/api/v1/corrective-actions/"+caID, auditor, `{"status":"verified_effective","verification_notes":"Checked config"}`)

		// Report: issued once, PDF hash matches, immutable.
		rep := h.auditMust(201, "POST", "/api/v1/audits/"+id+"/report", auditor, `{"summary":"Logging needs longer retention."}`)
		resp, pdf := h.api("GET", "/api/v1/audits/"+id+"/report.pdf", manager, "")
		sum := sha256.Sum256([]byte(pdf))
		if resp.StatusCode != 200 || !strings.HasPrefix(pdf, "%PDF") || rep["report_sha256"] != hex.EncodeToString(sum[:]) || resp.Header.Get("X-Content-SHA256") != rep["report_sha256"] {
			t.Fatalf("report.pdf = %d, sha %v", resp.StatusCode, rep["report_sha256"])
		}
		if resp, _ := h.api("POST", "/api/v1/audits/"+id+"/report", auditor, `{"summary":"again"}`); resp.StatusCode != 409 {
			t.Fatalf("reissue = %d", resp.StatusCode)
		}
		if resp, _ := h.api("PATCH", "/api/v1/audits/"+id, admin, `{"title":"changed"}`); resp.StatusCode != 409 {
			t.Fatalf("change after issue = %d", resp.StatusCode)
		}
		trail := h.auditMust(200, "GET", "/api/v1/trail?entity=audit:"+id, admin, "")
		if !strings.Contains(fmt.Sprint(trail), rep["report_sha256"].(string)) {
			t.Fatal("report hash not in the trail")
		}

		// Roles: an employee cannot plan audits or read them.
		if resp, _ := h.api("POST", "/api/v1/audits", employee, body); resp.StatusCode != 403 {
			t.Fatalf("employee plans an audit = %d", resp.StatusCode)
		}
		if resp, _ := h.api("GET", "/api/v1/audits", employee, ""); resp.StatusCode != 403 {
			t.Fatalf("employee lists audits = %d", resp.StatusCode)
		}

		// Certification schedule.
		h.auditMust(200, "PUT", "/api/v1/certification", manager, `{"certification_body":"CertCo","certificate_number":"C-1","issue_date":"2026-01-15","surveillance_interval_months":12}`)
		sched := h.auditMust(200, "GET", "/api/v1/certification/schedule", auditor, "")
		var got []string
		for _, it := range sched["items"].([]any) {
			m := it.(map[string]any)
			got = append(got, m["kind"].(string)+" "+m["due_date"].(string))
		}
		if strings.Join(got, ",") != "surveillance 2027-01-15,surveillance 2028-01-15,recertification 2028-10-15,expiry 2029-01-15" {
			t.Fatalf("schedule = %v", got)
		}
		if resp, out := h.api("PUT", "/api/v1/certification", manager, `{"issue_date":"2026-01-15","surveillance_interval_months":9}`); resp.StatusCode != 400 || !strings.Contains(out, "surveillance_interval_months") {
			t.Fatalf("interval 9 = %d %s", resp.StatusCode, out)
		}
		cov := h.auditMust(200, "GET", "/api/v1/audit-programme/coverage", auditor, "")
		if cov["not_covered"].(float64) == 0 || len(cov["items"].([]any)) < 34 {
			t.Fatalf("coverage = %v", cov["not_covered"])
		}
	})
}

func TestAuditGuestAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		manager := h.tokens[vigil.RoleISMSManager]
		inScope := h.auditMust(201, "POST", "/api/v1/assets", manager, `{"name":"ERP","type":"software","owner":"admin@a.test","classification":"internal","confidentiality":2,"integrity":2,"availability":2}`)
		outScope := h.auditMust(201, "POST", "/api/v1/assets", manager, `{"name":"HR","type":"software","owner":"admin@a.test","classification":"internal","confidentiality":2,"integrity":2,"availability":2}`)
		a := h.auditMust(201, "POST", "/api/v1/audits", manager, fmt.Sprintf(`{"type":"surveillance","title":"Surveillance 1","planned_start":"2027-01-10","certification_body":"CertCo","scope":{"requirements":["9"],"assets":[%q]}}`, inScope["id"]))
		other := h.auditMust(201, "POST", "/api/v1/audits", manager, `{"type":"internal","title":"Other","planned_start":"2027-02-10","lead_auditor":"admin@a.test","scope":{"requirements":["A.5.1"]}}`)
		id := a["id"].(string)

		if resp, out := h.api("POST", "/api/v1/audits/"+id+"/guests", manager, `{"email":"rita@certco.test","valid_from":"2027-01-10","valid_until":"2027-01-09"}`); resp.StatusCode != 400 || !strings.Contains(out, "valid_until") {
			t.Fatalf("backwards window = %d %s", resp.StatusCode, out)
		}
		// A window that opens tomorrow: refused today.
		now := st.Now()
		later := h.auditMust(201, "POST", "/api/v1/audits/"+id+"/guests", manager, fmt.Sprintf(`{"email":"sam@certco.test","valid_from":%q,"valid_until":%q}`,
			now.Add(24*time.Hour).Format(time.RFC3339), now.Add(72*time.Hour).Format(time.RFC3339)))
		if resp, out := h.api("GET", "/api/v1/audits/"+id, later["token"].(string), ""); resp.StatusCode != 403 || !strings.Contains(out, "valid from") {
			t.Fatalf("before the window = %d %s", resp.StatusCode, out)
		}
		// An open window: the audit, its checklist, findings and in-scope assets only.
		g := h.auditMust(201, "POST", "/api/v1/audits/"+id+"/guests", manager, fmt.Sprintf(`{"email":"rita@certco.test","valid_from":%q,"valid_until":%q}`,
			now.Add(-time.Hour).Format(time.RFC3339), now.Add(48*time.Hour).Format(time.RFC3339)))
		tok := g["token"].(string)
		for _, tc := range []struct {
			path string
			want int
		}{
			{"/api/v1/audits/" + id, 200},
			{"/api/v1/audits/" + id + "/checklist", 200},
			{"/api/v1/findings?audit=" + id, 200},
			{"/api/v1/assets/" + inScope["id"].(string), 200},
			{"/api/v1/assets/" + outScope["id"].(string), 403},
			{"/api/v1/audits/" + other["id"].(string), 404},
			{"/api/v1/findings?audit=" + other["id"].(string), 400},
			{"/api/v1/risks", 403},
			{"/api/v1/soa", 403},
			{"/api/v1/trail", 403},
		} {
			if resp, out := h.api("GET", tc.path, tok, ""); resp.StatusCode != tc.want {
				t.Errorf("guest GET %s = %d %s; want %d", tc.path, resp.StatusCode, out, tc.want)
			}
		}
		list := h.auditMust(200, "GET", "/api/v1/audits", tok, "")
		if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != id {
			t.Fatalf("guest sees audits %v", items)
		}
		// Every read is in the trail.
		trail := h.auditMust(200, "GET", "/api/v1/trail?entity_type=user&entity_id="+g["user_id"].(string)+"&limit=100", h.tokens[vigil.RoleAdmin], "")
		seen := fmt.Sprint(trail)
		for _, p := range []string{"/api/v1/audits/" + id + "/checklist", "/api/v1/assets/" + inScope["id"].(string), "guest.denied"} {
			if !strings.Contains(seen, p) {
				t.Errorf("trail lacks %s", p)
			}
		}
		// After the window: refused.
		st.Now = func() time.Time { return now.Add(50 * time.Hour) }
		if resp, _ := h.api("GET", "/api/v1/audits/"+id, tok, ""); resp.StatusCode != 401 && resp.StatusCode != 403 {
			t.Fatalf("after the window = %d", resp.StatusCode)
		}
	})
}

func TestCalendarFeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		manager := h.tokens[vigil.RoleISMSManager]
		h.auditMust(201, "POST", "/api/v1/audits", manager, `{"type":"internal","title":"Access control, review; \"2027\"","planned_start":"2027-02-10","planned_end":"2027-02-12","lead_auditor":"admin@a.test","scope":{"requirements":["A.5.15"]}}`)
		h.auditMust(200, "PUT", "/api/v1/certification", manager, `{"certification_body":"CertCo","issue_date":"2024-02-29","surveillance_interval_months":6}`)
		if resp, _ := h.api("GET", "/api/v1/calendar.ics?token=vcal_nope", "", ""); resp.StatusCode != 401 {
			t.Fatalf("bad feed token = %d", resp.StatusCode)
		}
		feed := h.auditMust(201, "POST", "/api/v1/calendar/feed", h.tokens[vigil.RoleEmployee], "")
		u, err := url.Parse(feed["url"].(string))
		if err != nil {
			t.Fatal(err)
		}
		resp, body := h.api("GET", u.RequestURI(), "", "")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
			t.Fatalf("feed = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		cal, err := ics.ParseCalendar(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, ev := range cal.Events() {
			start, err := ev.GetAllDayStartAt()
			if err != nil {
				t.Fatal(err)
			}
			got[ev.GetProperty(ics.ComponentPropertySummary).Value] = start.Format(time.DateOnly)
		}
		for summary, day := range map[string]string{
			`AUD-1 internal audit: Access control, review; "2027"`: "2027-02-10",
			"Surveillance audit due (1)":                           "2024-08-29",
			"Surveillance audit due (2)":                           "2025-02-28",
			"Certificate expires":                                  "2027-02-28",
		} {
			if got[summary] != day {
				t.Errorf("%q on %q; want %s (events %v)", summary, got[summary], day, got)
			}
		}
		// A new feed URL replaces the old one.
		h.auditMust(201, "POST", "/api/v1/calendar/feed", h.tokens[vigil.RoleEmployee], "")
		if resp, _ := h.api("GET", u.RequestURI(), "", ""); resp.StatusCode != 401 {
			t.Fatalf("old feed = %d", resp.StatusCode)
		}
	})
}
