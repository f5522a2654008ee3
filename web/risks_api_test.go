package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
	"github.com/xuri/excelize/v2"
)

func TestRiskMethodAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mgr := h.tokens[vigil.RoleISMSManager]
		m := arDecode[vigil.RiskMethod](t, h.arMust(200, "GET", "/api/v1/risk-method", h.tokens[vigil.RoleViewer], ""))
		if m.Configured || m.Formula != "likelihood × impact" || len(m.ImpactScale) != 5 || m.AcceptanceThreshold != 8 {
			t.Fatalf("default = %+v", m)
		}
		resp, body := h.api("PUT", "/api/v1/risk-method", mgr, `{"likelihood_scale":["a","b"],"impact_scale":["x","y","z"],"acceptance_threshold":9}`)
		if resp.StatusCode != 400 || !strings.Contains(body, `"field":"likelihood_scale"`) || !strings.Contains(body, `"field":"acceptance_threshold"`) {
			t.Fatalf("bad method: %d %s", resp.StatusCode, body)
		}
		m = arDecode[vigil.RiskMethod](t, h.arMust(200, "PUT", "/api/v1/risk-method", mgr,
			`{"likelihood_scale":["Low","Medium","High"],"impact_scale":["Low","Medium","High","Critical"],"formula":"likelihood x impact","acceptance_threshold":4}`))
		if !m.Configured || m.MaxScore != 12 || m.UpdatedBy != h.users[vigil.RoleISMSManager].ID {
			t.Fatalf("set = %+v", m)
		}
		h.arMust(403, "PUT", "/api/v1/risk-method", h.tokens[vigil.RoleRiskOwner], `{"likelihood_scale":["a","b","c"],"impact_scale":["a","b","c"],"acceptance_threshold":4}`)
		// Scores outside the new scale are refused, naming the field.
		resp, body = h.api("POST", "/api/v1/risks", mgr, `{"title":"T","likelihood":4,"impact":1}`)
		if resp.StatusCode != 400 || !strings.Contains(body, `"field":"likelihood"`) {
			t.Fatalf("likelihood off the scale: %d %s", resp.StatusCode, body)
		}
		h.arMust(201, "POST", "/api/v1/risks", mgr, `{"title":"T","likelihood":3,"impact":4}`)
		resp, body = h.api("PUT", "/api/v1/risk-method", mgr, `{"likelihood_scale":["Low","Medium","High"],"impact_scale":["Low","Medium","High"],"acceptance_threshold":4}`)
		if resp.StatusCode != 409 || !strings.Contains(body, `"conflicts":["RSK-1"]`) {
			t.Fatalf("shrinking under a risk: %d %s", resp.StatusCode, body)
		}
	})
}

func TestRisksAPIAndAcceptance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mgr, ownerTok, admin := h.tokens[vigil.RoleISMSManager], h.tokens[vigil.RoleRiskOwner], h.tokens[vigil.RoleAdmin]
		owner := h.users[vigil.RoleRiskOwner]
		h.arMust(201, "POST", "/api/v1/assets", mgr, `{"name":"CRM database","type":"information"}`)
		h.arMust(201, "POST", "/api/v1/controls", mgr, `{"title":"Backup restore drill"}`)
		body := h.arMust(201, "POST", "/api/v1/risks", ownerTok, `{"title":"Ransomware","assets":["AST-1"],"threat":"Ransomware","vulnerability":"Flat network",
			"owner":"risk_owner@a.test","likelihood":4,"impact":5,"treatment":"modify","controls":["8.7","A.8.13","ctl-1"],"residual_likelihood":3,"residual_impact":4,"next_review":"2027-03-01"}`)
		r := arDecode[vigil.Risk](t, body)
		for _, want := range []string{`"ref":"RSK-1"`, `"inherent_score":20`, `"residual_score":12`, `"above_threshold":true`, `"acceptance":null`, `"controls":["8.7","8.13","CTL-1"]`, `"next_review":"2027-03-01"`} {
			if !strings.Contains(body, want) {
				t.Errorf("created risk lacks %s: %s", want, body)
			}
		}
		tests := []struct {
			name, method, url, token, body string
			status                         int
			contains                       []string
		}{
			{"unknown control ref", "POST", "/api/v1/risks", mgr, `{"title":"X","controls":["8.99"]}`, 400, []string{`"field":"controls"`, `8.99`}},
			{"unknown asset", "POST", "/api/v1/risks", mgr, `{"title":"X","assets":["AST-9"]}`, 400, []string{`"field":"assets"`}},
			{"owner not a member", "POST", "/api/v1/risks", mgr, `{"title":"X","owner":"admin@b.test"}`, 400, []string{`"field":"owner"`}},
			{"score outside the scale", "POST", "/api/v1/risks", mgr, `{"title":"X","likelihood":6,"impact":2}`, 400, []string{`"field":"likelihood"`}},
			{"half an assessment", "POST", "/api/v1/risks", mgr, `{"title":"X","residual_likelihood":2}`, 400, []string{`"field":"residual_impact"`}},
			{"bad treatment", "POST", "/api/v1/risks", mgr, `{"title":"X","treatment":"ignore"}`, 400, []string{`"field":"treatment"`}},
			{"bad date", "POST", "/api/v1/risks", mgr, `{"title":"X","next_review":"next year"}`, 400, []string{`"field":"next_review"`}},
			{"accepted by hand", "PATCH", "/api/v1/risks/RSK-1", mgr, `{"status":"accepted"}`, 400, []string{`"field":"status"`}},
			{"viewer may not write", "POST", "/api/v1/risks", h.tokens[vigil.RoleViewer], `{"title":"X"}`, 403, nil},
			{"auditor may not write", "PATCH", "/api/v1/risks/RSK-1", h.tokens[vigil.RoleInternalAuditor], `{"title":"X"}`, 403, nil},
			{"admin may not accept", "POST", "/api/v1/risks/" + r.ID + "/accept", admin, `{}`, 403, []string{"only the owner of RSK-1"}},
			{"manager may not accept", "POST", "/api/v1/risks/RSK-1/accept", mgr, "", 403, nil},
			{"employee may not accept", "POST", "/api/v1/risks/RSK-1/accept", h.tokens[vigil.RoleEmployee], "", 403, nil},
			{"external auditor is refused by role", "POST", "/api/v1/risks/RSK-1/accept", h.tokens[vigil.RoleExternalAuditor], "", 403, nil},
			{"filter by control", "GET", "/api/v1/risks?control=8.13", h.tokens[vigil.RoleViewer], "", 200, []string{`"total":1`, `"ref":"RSK-1"`}},
			{"filter by owner email", "GET", "/api/v1/risks?owner=risk_owner@a.test&treatment=modify", h.tokens[vigil.RoleViewer], "", 200, []string{`"total":1`}},
			{"bad status filter", "GET", "/api/v1/risks?status=done", mgr, "", 400, []string{`"field":"status"`}},
			{"bad asset filter", "GET", "/api/v1/risks?asset=AST-7", mgr, "", 400, []string{`"field":"asset"`}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp, b := h.api(tt.method, tt.url, tt.token, tt.body)
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, tt.status, b)
				}
				for _, c := range tt.contains {
					if !strings.Contains(b, c) {
						t.Errorf("body lacks %s: %.300s", c, b)
					}
				}
			})
		}
		// The owner accepts; who, when and the score are recorded.
		body = h.arMust(200, "POST", "/api/v1/risks/RSK-1/accept", ownerTok, `{"comment":"Cyber insurance"}`)
		acc := arDecode[vigil.Risk](t, body)
		if acc.Acceptance == nil || acc.Acceptance.AcceptedBy != owner.ID || acc.Acceptance.ResidualScore != 12 || acc.Acceptance.AcceptedAt.IsZero() || acc.Status != vigil.RiskAccepted {
			t.Fatalf("accepted: %s", body)
		}
		h.arMust(409, "POST", "/api/v1/risks/RSK-1/accept", ownerTok, "")
		hist := arDecode[arList[vigil.RiskAcceptance]](t, h.arMust(200, "GET", "/api/v1/risks/RSK-1/acceptances", h.tokens[vigil.RoleViewer], ""))
		if len(hist.Items) != 1 || hist.Items[0].Comment != "Cyber insurance" {
			t.Fatalf("acceptances: %+v", hist)
		}
		es, _ := st.ListTrail(context.Background(), h.orgA.ID, vigil.TrailFilter{EntityType: "risk", EntityID: r.ID})
		if len(es) == 0 || es[0].Action != "risk.accept" || !strings.Contains(string(es[0].Changes), `"accepted_by":"`+owner.ID+`"`) {
			t.Fatalf("trail of the acceptance: %+v", es)
		}
		// A new residual score needs a new acceptance.
		body = h.arMust(200, "PATCH", "/api/v1/risks/RSK-1", mgr, `{"residual_impact":5}`)
		if !strings.Contains(body, `"acceptance":null`) || !strings.Contains(body, `"status":"open"`) || !strings.Contains(body, `"residual_score":15`) {
			t.Fatalf("after a new residual score: %s", body)
		}
		// Treatment actions.
		act := arDecode[vigil.RiskAction](t, h.arMust(201, "POST", "/api/v1/risks/RSK-1/actions", ownerTok, `{"title":"Segment the network","owner":"isms_manager@a.test","due_date":"2026-06-30"}`))
		if act.Status != vigil.RiskActionPlanned || *act.DueDate != "2026-06-30" {
			t.Fatalf("action %+v", act)
		}
		resp, b := h.api("POST", "/api/v1/risks/RSK-1/actions", ownerTok, `{"title":"","due_date":"30/06/2026","status":"maybe"}`)
		if resp.StatusCode != 400 || !strings.Contains(b, `"field":"title"`) || !strings.Contains(b, `"field":"due_date"`) || !strings.Contains(b, `"field":"status"`) {
			t.Fatalf("bad action: %d %s", resp.StatusCode, b)
		}
		h.arMust(200, "PATCH", "/api/v1/risks/RSK-1/actions/"+act.ID, ownerTok, `{"status":"done"}`)
		l := arDecode[arList[vigil.RiskAction]](t, h.arMust(200, "GET", "/api/v1/risks/RSK-1/actions", h.tokens[vigil.RoleViewer], ""))
		if len(l.Items) != 1 || l.Items[0].Status != vigil.RiskActionDone {
			t.Fatalf("actions: %+v", l)
		}
		h.arMust(204, "DELETE", "/api/v1/risks/RSK-1/actions/"+act.ID, ownerTok, "")
		// Heat map.
		hm := arDecode[vigil.RiskHeatMap](t, h.arMust(200, "GET", "/api/v1/risks/heatmap", h.tokens[vigil.RoleViewer], ""))
		if hm.Inherent[3][4] != 1 || hm.Residual[2][4] != 1 || hm.AcceptanceThreshold != 8 {
			t.Fatalf("heat map %+v", hm)
		}
		h.arMust(204, "DELETE", "/api/v1/risks/RSK-1", mgr, "")
		h.arMust(404, "GET", "/api/v1/risks/RSK-1", mgr, "")
	})
}

func TestRiskExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mgr := h.tokens[vigil.RoleISMSManager]
		h.arMust(201, "POST", "/api/v1/assets", mgr, `{"name":"CRM database","type":"information"}`)
		h.arMust(201, "POST", "/api/v1/assets", mgr, `{"name":"Website","type":"service"}`)
		h.arMust(201, "POST", "/api/v1/risks", mgr, `{"title":"Ransomware","assets":["AST-1","AST-2"],"owner":"risk_owner@a.test","likelihood":4,"impact":5,"treatment":"modify","controls":["8.7","8.13"],"residual_likelihood":2,"residual_impact":5}`)
		h.arMust(200, "POST", "/api/v1/risks/RSK-1/accept", h.tokens[vigil.RoleRiskOwner], "")
		h.arMust(201, "POST", "/api/v1/risks", mgr, `{"title":"Defacement"}`)
		resp, body := h.api("GET", "/api/v1/risks/export?format=xlsx", h.tokens[vigil.RoleInternalAuditor], "")
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), `filename="risks-`) {
			t.Fatalf("xlsx: %d", resp.StatusCode)
		}
		f, err := excelize.OpenReader(bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sheet := f.GetSheetName(0)
		if sheet != "Risk register" {
			t.Fatalf("sheet %q", sheet)
		}
		for cell, want := range map[string]string{
			"A1": "ref", "J1": "inherent_score", "O1": "residual_score", "R1": "accepted_by",
			"A2": "RSK-1", "B2": "Ransomware", "D2": "AST-1;AST-2", "G2": "risk_owner@a.test", "H2": "4", "I2": "5", "J2": "20", "K2": "modify",
			"L2": "8.7;8.13", "O2": "10", "P2": "accepted", "R2": "risk_owner@a.test", "T2": "10",
			"A3": "RSK-2", "J3": "", "P3": "open",
		} {
			if got, _ := f.GetCellValue(sheet, cell); got != want {
				t.Errorf("%s = %q, want %q", cell, got, want)
			}
		}
		if panes, err := f.GetPanes(sheet); err != nil || !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
			t.Fatalf("panes = %+v, %v", panes, err)
		}
		if rows, _ := f.GetRows(sheet); len(rows) != 3 {
			t.Fatalf("%d rows", len(rows))
		}
		resp, body = h.api("GET", "/api/v1/risks/export", mgr, "")
		if resp.StatusCode != 200 || !strings.HasPrefix(body, strings.Join(vigil.RiskExportColumns, ",")+"\n") || !strings.Contains(body, "RSK-2,Defacement") {
			t.Fatalf("csv: %d %s", resp.StatusCode, body)
		}
	})
}

func TestRisksUI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mgrTok := h.tokens[vigil.RoleISMSManager]
		h.arMust(201, "POST", "/api/v1/assets", mgrTok, `{"name":"CRM database","type":"information"}`)
		owner := h.users[vigil.RoleRiskOwner]
		mgr := h.session(h.users[vigil.RoleISMSManager].ID, h.orgA.ID)
		resp, body := h.ui("POST", "/risks", mgr, url.Values{"title": {"Ransomware"}, "assets": {"CRM database"}, "owner": {owner.ID},
			"likelihood": {"4"}, "impact": {"5"}, "treatment": {"modify"}, "controls": {"8.7, A.8.13"}, "residual_likelihood": {"3"}, "residual_impact": {"3"}, "status": {"in_treatment"}}, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("create via UI: %d %.500s", resp.StatusCode, body)
		}
		loc, _, _ := strings.Cut(resp.Header.Get("Location"), "?")
		// The list shows both heat maps as inline SVG.
		resp, body = h.ui("GET", "/risks", h.session(h.users[vigil.RoleViewer].ID, h.orgA.ID), nil, false)
		if resp.StatusCode != 200 || strings.Count(body, "<svg") != 2 || !strings.Contains(body, "Inherent risk") || !strings.Contains(body, "Residual risk") ||
			!strings.Contains(body, "Likelihood 4 (Likely) × impact 5 (Severe), score 20: 1 risk(s)") || !strings.Contains(body, "Risk register (1)") || strings.Contains(body, "Add a risk") {
			t.Fatalf("risk list: %d", resp.StatusCode)
		}
		// The admin sees no accept form and is refused when posting anyway.
		admin := h.session(h.users[vigil.RoleAdmin].ID, h.orgA.ID)
		resp, body = h.ui("GET", loc, admin, nil, false)
		if resp.StatusCode != 200 || strings.Contains(body, "Accept the residual risk") || !strings.Contains(body, "Only the risk's owner") {
			t.Fatalf("admin's risk page: %d", resp.StatusCode)
		}
		resp, body = h.ui("POST", loc+"/accept", admin, nil, false)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "only the owner of RSK-1") {
			t.Fatalf("admin accepting via UI: %d", resp.StatusCode)
		}
		own := h.session(owner.ID, h.orgA.ID)
		resp, body = h.ui("GET", loc, own, nil, false)
		if resp.StatusCode != 200 || !strings.Contains(body, "Accept the residual risk") {
			t.Fatalf("owner's risk page: %d", resp.StatusCode)
		}
		resp, _ = h.ui("POST", loc+"/accept", own, url.Values{"comment": {"OK for a year"}}, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("owner accepting via UI: %d", resp.StatusCode)
		}
		resp, body = h.ui("GET", loc, own, nil, false)
		if !strings.Contains(body, "accepted by risk_owner") || !strings.Contains(body, "OK for a year") {
			t.Fatalf("after acceptance: %d", resp.StatusCode)
		}
		// A bad update comes back with the problem; the method page works.
		resp, body = h.ui("POST", loc, mgr, url.Values{"title": {"Ransomware"}, "controls": {"9.9"}, "status": {"open"}}, false)
		if resp.StatusCode != 400 || !strings.Contains(body, "9.9 is neither an Annex A control") {
			t.Fatalf("bad control via UI: %d", resp.StatusCode)
		}
		resp, _ = h.ui("POST", loc+"/actions", mgr, url.Values{"title": {"Segment the network"}, "due_date": {"2026-05-01"}, "status": {"planned"}}, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("add action via UI: %d", resp.StatusCode)
		}
		resp, body = h.ui("POST", "/risks/method", mgr, url.Values{"likelihood": {"Rare", "Unlikely", "Possible", "Likely", "Frequent"}, "impact": {"Low", "Medium", "High", "Very high", "Extreme"}, "acceptance_threshold": {"6"}}, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("method via UI: %d %.300s", resp.StatusCode, body)
		}
		if m, _ := st.RiskMethod(context.Background(), h.orgA.ID); m.LikelihoodScale[4] != "Frequent" || m.AcceptanceThreshold != 6 {
			t.Fatalf("method after UI: %+v", m)
		}
		resp, body = h.ui("GET", "/risks/method", mgr, nil, false)
		if resp.StatusCode != 200 || !strings.Contains(body, `value="Extreme"`) {
			t.Fatalf("method page: %d", resp.StatusCode)
		}
	})
}
