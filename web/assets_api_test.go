package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
	"github.com/xuri/excelize/v2"
)

// arList is a list page with its total, as the asset, risk, control and
// SoA lists return it.
type arList[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
	Total      int     `json:"total"`
}

// arDecode decodes a JSON body or fails the test.
func arDecode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %T: %v: %.300s", v, err, body)
	}
	return v
}

// arMust sends an API request and fails unless the status is want.
func (h *harness) arMust(want int, method, path, token, body string) string {
	h.t.Helper()
	resp, b := h.api(method, path, token, body)
	if resp.StatusCode != want {
		h.t.Fatalf("%s %s: status %d, want %d: %.400s", method, path, resp.StatusCode, want, b)
	}
	return b
}

func TestAssetsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mgr, viewer := h.tokens[vigil.RoleISMSManager], h.tokens[vigil.RoleViewer]
		owner := h.users[vigil.RoleRiskOwner]
		body := h.arMust(201, "POST", "/api/v1/assets", mgr, `{"name":"CRM database","type":"information","owner":"risk_owner@a.test","classification":"confidential","confidentiality":3,"integrity":2,"availability":null,"location":"EU"}`)
		a := arDecode[vigil.Asset](t, body)
		if a.Ref != "AST-1" || a.Owner != owner.ID || !strings.Contains(body, `"availability":null`) || !strings.Contains(body, `"ref":"AST-1"`) {
			t.Fatalf("created %s", body)
		}
		h.arMust(201, "POST", "/api/v1/assets", mgr, `{"name":"Laptops","type":"hardware"}`)
		tests := []struct {
			name, method, url, token, body string
			status                         int
			contains                       []string
		}{
			{"duplicate name", "POST", "/api/v1/assets", mgr, `{"name":"crm DATABASE","type":"information"}`, 400, []string{`"field":"name"`}},
			{"bad type and rating", "POST", "/api/v1/assets", mgr, `{"name":"X","type":"car","integrity":7}`, 400, []string{`"field":"type"`, `"field":"integrity"`}},
			{"owner not a member", "POST", "/api/v1/assets", mgr, `{"name":"X","type":"site","owner":"admin@b.test"}`, 400, []string{`"field":"owner"`}},
			{"unknown field", "POST", "/api/v1/assets", mgr, `{"name":"X","type":"site","colour":"red"}`, 400, []string{`"field":"colour"`}},
			{"viewer may not write", "POST", "/api/v1/assets", viewer, `{"name":"X","type":"site"}`, 403, nil},
			{"get by ref", "GET", "/api/v1/assets/AST-1", viewer, "", 200, []string{`"id":"` + a.ID, `"name":"CRM database"`}},
			{"patch clears a rating", "PATCH", "/api/v1/assets/" + a.ID, mgr, `{"confidentiality":0,"description":"Customer data"}`, 200, []string{`"confidentiality":null`, `"description":"Customer data"`}},
			{"patch onto a taken name", "PATCH", "/api/v1/assets/AST-1", mgr, `{"name":"laptops"}`, 400, []string{`"field":"name"`}},
			{"unknown asset", "GET", "/api/v1/assets/AST-99", mgr, "", 404, nil},
			{"bad type filter", "GET", "/api/v1/assets?type=car", mgr, "", 400, []string{`"field":"type"`}},
			{"bad owner filter", "GET", "/api/v1/assets?owner=nobody@a.test", mgr, "", 400, []string{`"field":"owner"`}},
			{"bad export format", "GET", "/api/v1/assets/export?format=pdf", mgr, "", 400, []string{`"field":"format"`}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before, _ := st.TrailLength(context.Background())
				resp, b := h.api(tt.method, tt.url, tt.token, tt.body)
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, tt.status, b)
				}
				for _, c := range tt.contains {
					if !strings.Contains(b, c) {
						t.Errorf("body lacks %s: %.300s", c, b)
					}
				}
				if resp.StatusCode == 400 || resp.StatusCode == 404 {
					if resp.Header.Get("Content-Type") != "application/problem+json" {
						t.Errorf("content type %q", resp.Header.Get("Content-Type"))
					}
					if after, _ := st.TrailLength(context.Background()); after != before {
						t.Errorf("failed request grew the trail")
					}
				}
			})
		}
		// Pagination with a total, and the owner filter by email.
		l := arDecode[arList[vigil.Asset]](t, h.arMust(200, "GET", "/api/v1/assets?limit=1", viewer, ""))
		if l.Total != 2 || len(l.Items) != 1 || l.NextCursor == nil {
			t.Fatalf("page 1 = %+v", l)
		}
		l2 := arDecode[arList[vigil.Asset]](t, h.arMust(200, "GET", "/api/v1/assets?limit=1&cursor="+*l.NextCursor, viewer, ""))
		if l2.Total != 2 || len(l2.Items) != 1 || l2.NextCursor != nil || l2.Items[0].ID == l.Items[0].ID {
			t.Fatalf("page 2 = %+v", l2)
		}
		if l = arDecode[arList[vigil.Asset]](t, h.arMust(200, "GET", "/api/v1/assets?owner=RISK_OWNER@a.test", viewer, "")); l.Total != 1 || l.Items[0].ID != a.ID {
			t.Fatalf("owner filter = %+v", l)
		}
		h.arMust(204, "DELETE", "/api/v1/assets/AST-2", mgr, "")
		h.arMust(404, "GET", "/api/v1/assets/AST-2", mgr, "")
	})
}

func TestAssetExports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mgr := h.tokens[vigil.RoleISMSManager]
		h.arMust(201, "POST", "/api/v1/assets", mgr, `{"name":"CRM database","type":"information","owner":"risk_owner@a.test","classification":"confidential","confidentiality":3,"integrity":2}`)
		h.arMust(201, "POST", "/api/v1/assets", mgr, `{"name":"=cmd()","type":"software","description":"formula, defused"}`)

		resp, body := h.api("GET", "/api/v1/assets/export", h.tokens[vigil.RoleViewer], "")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), `filename="assets-`) {
			t.Fatalf("csv export: %d %v", resp.StatusCode, resp.Header)
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(recs) != 3 {
			t.Fatalf("csv = %q, %v", recs, err)
		}
		if strings.Join(recs[0], ",") != strings.Join(vigil.AssetExportColumns, ",") ||
			strings.Join(recs[1], ",") != "AST-1,CRM database,information,risk_owner@a.test,confidential,3,2,,," || recs[2][1] != "'=cmd()" {
			t.Fatalf("csv rows = %q", recs)
		}

		resp, body = h.api("GET", "/api/v1/assets/export?format=xlsx", mgr, "")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
			t.Fatalf("xlsx export: %d", resp.StatusCode)
		}
		f, err := excelize.OpenReader(bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sheet := f.GetSheetName(0)
		for cell, want := range map[string]string{"A1": "ref", "B1": "name", "D1": "owner_email", "A2": "AST-1", "B2": "CRM database", "D2": "risk_owner@a.test", "F2": "3", "A3": "AST-2", "J3": "formula, defused"} {
			if got, _ := f.GetCellValue(sheet, cell); got != want {
				t.Errorf("%s = %q, want %q", cell, got, want)
			}
		}
		if panes, err := f.GetPanes(sheet); err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Fatalf("panes = %+v, %v", panes, err)
		}
		// The UI offers the same file to a signed-in reader.
		resp, _ = h.ui("GET", "/assets/export?format=xlsx", h.session(h.users[vigil.RoleViewer].ID, h.orgA.ID), nil, false)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), ".xlsx") {
			t.Fatalf("UI export: %d", resp.StatusCode)
		}
	})
}

func TestAssetsUI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mgr := h.session(h.users[vigil.RoleISMSManager].ID, h.orgA.ID)
		resp, body := h.ui("POST", "/assets", mgr, url.Values{"name": {"Payroll"}, "type": {"information"}, "owner": {h.users[vigil.RoleRiskOwner].ID},
			"classification": {"restricted"}, "confidentiality": {"3"}, "integrity": {""}, "availability": {"1"}}, false)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/assets/") {
			t.Fatalf("create: %d %.300s", resp.StatusCode, body)
		}
		resp, body = h.ui("GET", resp.Header.Get("Location"), mgr, nil, false)
		if resp.StatusCode != 200 || !strings.Contains(body, "AST-1 Payroll") || !strings.Contains(body, "3 high") || !strings.Contains(body, "No risk covers this asset") {
			t.Fatalf("asset page: %d", resp.StatusCode)
		}
		// A refused form comes back with the problem and the values typed.
		resp, body = h.ui("POST", "/assets", mgr, url.Values{"name": {"payroll"}, "type": {"information"}, "location": {"Basement"}}, false)
		if resp.StatusCode != 400 || !strings.Contains(body, "already exists") || !strings.Contains(body, `value="Basement"`) {
			t.Fatalf("duplicate via UI: %d", resp.StatusCode)
		}
		resp, body = h.ui("POST", "/assets/AST-1", mgr, url.Values{"name": {"Payroll data"}, "type": {"information"}, "confidentiality": {""}}, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("update via UI: %d %.300s", resp.StatusCode, body)
		}
		a, _ := st.GetAsset(context.Background(), h.orgA.ID, "AST-1")
		if a.Name != "Payroll data" || a.Confidentiality != nil || a.Owner != "" {
			t.Fatalf("after UI update: %+v", a)
		}
		// A reader sees the register without the forms.
		resp, body = h.ui("GET", "/assets", h.session(h.users[vigil.RoleExternalAuditor].ID, h.orgA.ID), nil, false)
		if resp.StatusCode != 200 || !strings.Contains(body, "Payroll data") || strings.Contains(body, "Add an asset") || !strings.Contains(body, "Asset register (1)") {
			t.Fatalf("auditor's asset list: %d", resp.StatusCode)
		}
		resp, _ = h.ui("POST", "/assets/AST-1/delete", mgr, nil, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete via UI: %d", resp.StatusCode)
		}
	})
}

func TestAssetsRisksSoAIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mgr := h.tokens[vigil.RoleISMSManager]
		a := arDecode[vigil.Asset](t, h.arMust(201, "POST", "/api/v1/assets", mgr, `{"name":"A's secret asset","type":"information"}`))
		c := arDecode[vigil.OrgControl](t, h.arMust(201, "POST", "/api/v1/controls", mgr, `{"title":"A's own control"}`))
		r := arDecode[vigil.Risk](t, h.arMust(201, "POST", "/api/v1/risks", mgr, fmt.Sprintf(
			`{"title":"A's risk","assets":[%q],"owner":"risk_owner@a.test","likelihood":5,"impact":5,"treatment":"modify","controls":["8.7","CTL-1"],"residual_likelihood":4,"residual_impact":4}`, a.ID)))
		act := arDecode[vigil.RiskAction](t, h.arMust(201, "POST", "/api/v1/risks/"+r.ID+"/actions", mgr, `{"title":"A's action"}`))
		h.arMust(200, "PATCH", "/api/v1/soa/7.4", mgr, `{"applicable":false,"justification":"A has no premises"}`)
		h.arMust(201, "POST", "/api/v1/soa/versions", mgr, "")

		b := h.tokenB
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/api/v1/assets/" + a.ID, ""},
			{"PATCH", "/api/v1/assets/" + a.ID, `{"name":"taken"}`},
			{"DELETE", "/api/v1/assets/" + a.ID, ""},
			{"GET", "/api/v1/risks/" + r.ID, ""},
			{"PATCH", "/api/v1/risks/" + r.ID, `{"title":"taken"}`},
			{"DELETE", "/api/v1/risks/" + r.ID, ""},
			{"POST", "/api/v1/risks/" + r.ID + "/accept", `{}`},
			{"GET", "/api/v1/risks/" + r.ID + "/actions", ""},
			{"GET", "/api/v1/risks/" + r.ID + "/acceptances", ""},
			{"PATCH", "/api/v1/risks/" + r.ID + "/actions/" + act.ID, `{"status":"done"}`},
			{"DELETE", "/api/v1/risks/" + r.ID + "/actions/" + act.ID, ""},
			{"GET", "/api/v1/controls/" + c.ID, ""},
			{"PATCH", "/api/v1/controls/" + c.ID, `{"title":"taken"}`},
			{"DELETE", "/api/v1/controls/" + c.ID, ""},
			{"GET", "/api/v1/soa/versions/1", ""},
			{"GET", "/api/v1/soa/diff?from=1", ""},
			{"GET", "/api/v1/soa/export?version=1", ""},
		} {
			resp, body := h.api(c.method, c.path, b, c.body)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("B %s %s: %d, want 404 (%.200s)", c.method, c.path, resp.StatusCode, body)
			}
		}
		// B's lists, SoA, heat map and exports show nothing of A.
		leaks := []string{a.ID, r.ID, c.ID, act.ID, "A's", "A has no premises", "RSK-1"}
		for _, path := range []string{"/api/v1/assets", "/api/v1/risks", "/api/v1/controls", "/api/v1/soa?limit=200", "/api/v1/soa/8.7", "/api/v1/soa/versions",
			"/api/v1/risks/heatmap", "/api/v1/assets/export", "/api/v1/risks/export", "/api/v1/soa/export", "/api/v1/risk-method"} {
			resp, body := h.api("GET", path, b, "")
			if resp.StatusCode != 200 {
				t.Fatalf("B %s: %d %.200s", path, resp.StatusCode, body)
			}
			for _, leak := range leaks {
				if strings.Contains(body, leak) {
					t.Errorf("B's %s leaks %q", path, leak)
				}
			}
		}
		for _, path := range []string{"/api/v1/assets", "/api/v1/risks", "/api/v1/controls"} {
			if l := arDecode[arList[json.RawMessage]](t, h.arMust(200, "GET", path, b, "")); l.Total != 0 {
				t.Errorf("B's %s total = %d", path, l.Total)
			}
		}
		// B cannot name A's asset or own control in its own risk.
		resp, body := h.api("POST", "/api/v1/risks", b, fmt.Sprintf(`{"title":"x","assets":[%q],"controls":["CTL-1"]}`, a.ID))
		if resp.StatusCode != 400 || !strings.Contains(body, `"field":"assets"`) || !strings.Contains(body, `"field":"controls"`) {
			t.Fatalf("B naming A's asset and control: %d %s", resp.StatusCode, body)
		}
		// The UI refuses the same way.
		sess := h.session(h.adminB.ID, h.orgB.ID)
		for _, path := range []string{"/assets/" + a.ID, "/risks/" + r.ID, "/soa/controls/" + c.ID, "/soa/versions/1"} {
			if resp, _ := h.ui("GET", path, sess, nil, false); resp.StatusCode != http.StatusNotFound {
				t.Errorf("B's UI %s: %d", path, resp.StatusCode)
			}
		}
		for _, path := range []string{"/assets/" + a.ID, "/risks/" + r.ID, "/risks/" + r.ID + "/accept", "/soa/controls/" + c.ID + "/delete"} {
			if resp, _ := h.ui("POST", path, sess, url.Values{"name": {"x"}, "title": {"x"}, "type": {"site"}}, false); resp.StatusCode != http.StatusNotFound {
				t.Errorf("B's UI POST %s: %d", path, resp.StatusCode)
			}
		}
		// Nothing of A changed.
		got, err := st.GetRisk(context.Background(), h.orgA.ID, r.ID)
		if err != nil || got.Title != "A's risk" || got.Acceptance != nil {
			t.Fatalf("A's risk after B: %+v, %v", got, err)
		}
		if rows, _ := st.SoA(context.Background(), h.orgB.ID); rows[0].Applicable != nil {
			t.Fatal("B's SoA has a decision")
		}
	})
}
