package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
	"github.com/xuri/excelize/v2"
)

func TestSoAAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mgr, viewer := h.tokens[vigil.RoleISMSManager], h.tokens[vigil.RoleViewer]
		l := arDecode[arList[vigil.SoARow]](t, h.arMust(200, "GET", "/api/v1/soa?limit=200", viewer, ""))
		if l.Total != 93 || len(l.Items) != 93 || l.Items[0].Ref != "5.1" || l.Items[92].Ref != "8.34" || l.NextCursor != nil {
			t.Fatalf("soa = %d items, total %d", len(l.Items), l.Total)
		}
		body := h.arMust(200, "GET", "/api/v1/soa/5.1", viewer, "")
		for _, want := range []string{`"ref":"5.1"`, `"title":"Policies for information security"`, `"applicable":null`, `"justification":""`, `"status":"not_started"`, `"owner":""`, `"risks":[]`, `"evidence_count":0`} {
			if !strings.Contains(body, want) {
				t.Errorf("5.1 lacks %s: %s", want, body)
			}
		}
		// Pages of the SoA.
		p1 := arDecode[arList[vigil.SoARow]](t, h.arMust(200, "GET", "/api/v1/soa?limit=90", viewer, ""))
		p2 := arDecode[arList[vigil.SoARow]](t, h.arMust(200, "GET", "/api/v1/soa?limit=90&cursor="+*p1.NextCursor, viewer, ""))
		if len(p1.Items) != 90 || len(p2.Items) != 3 || p2.Items[0].Ref != "8.32" || p2.NextCursor != nil {
			t.Fatalf("pages %d + %d", len(p1.Items), len(p2.Items))
		}
		h.arMust(201, "POST", "/api/v1/risks", mgr, `{"title":"Malware","treatment":"modify","controls":["8.7"]}`)
		h.arMust(201, "POST", "/api/v1/risks", mgr, `{"title":"Ransomware","treatment":"modify","controls":["8.7","8.13"]}`)
		h.arMust(201, "POST", "/api/v1/risks", mgr, `{"title":"Cloud outage","treatment":"share","controls":["8.7"]}`)
		body = h.arMust(200, "GET", "/api/v1/soa/8.7", viewer, "")
		if !strings.Contains(body, `"applicable":true`) || !strings.Contains(body, `"risks":["RSK-1","RSK-2","RSK-3"]`) || !strings.Contains(body, `"justification":"Treats RSK-1, RSK-2."`) {
			t.Fatalf("8.7 = %s", body)
		}
		tests := []struct {
			name, method, url, token, body string
			status                         int
			contains                       []string
		}{
			{"lock: not applicable refused", "PATCH", "/api/v1/soa/8.7", mgr, `{"applicable":false,"justification":"We do not need it"}`, 409,
				[]string{`"type":"urn:vigil:problem:conflict"`, `"conflicts":["RSK-1","RSK-2"]`, `RSK-1, RSK-2`}},
			{"not applicable needs a justification", "PATCH", "/api/v1/soa/7.4", mgr, `{"applicable":false}`, 400, []string{`"field":"justification"`}},
			{"bad applicable", "PATCH", "/api/v1/soa/7.4", mgr, `{"applicable":"no"}`, 400, []string{`"field":"applicable"`}},
			{"bad status", "PATCH", "/api/v1/soa/7.4", mgr, `{"status":"done"}`, 400, []string{`"field":"status"`}},
			{"owner not a member", "PATCH", "/api/v1/soa/7.4", mgr, `{"owner":"admin@b.test"}`, 400, []string{`"field":"owner"`}},
			{"unknown field", "PATCH", "/api/v1/soa/7.4", mgr, `{"applies":true}`, 400, []string{`"field":"applies"`}},
			{"unknown control", "PATCH", "/api/v1/soa/9.1", mgr, `{"status":"planned"}`, 404, nil},
			{"viewer may not decide", "PATCH", "/api/v1/soa/7.4", viewer, `{"status":"planned"}`, 403, nil},
			{"exclusion with a reason", "PATCH", "/api/v1/soa/7.4", mgr, `{"applicable":false,"justification":"Fully remote: no premises","status":"not_started","owner":"isms_manager@a.test"}`, 200,
				[]string{`"applicable":false`, `"justification":"Fully remote: no premises"`, `"owner":"` + h.users[vigil.RoleISMSManager].ID}},
			{"A. prefix and status", "PATCH", "/api/v1/soa/A.8.7", mgr, `{"status":"implemented","justification":"EDR on all endpoints."}`, 200,
				[]string{`"justification":"EDR on all endpoints. Treats RSK-1, RSK-2."`, `"status":"implemented"`}},
			{"back to undecided", "PATCH", "/api/v1/soa/5.1", mgr, `{"applicable":null}`, 200, []string{`"applicable":null`}},
			{"diff without versions", "GET", "/api/v1/soa/diff?from=1&to=2", viewer, "", 404, nil},
			{"diff needs from", "GET", "/api/v1/soa/diff", viewer, "", 400, []string{`"field":"from"`}},
			{"bad version", "GET", "/api/v1/soa/versions/zero", viewer, "", 400, []string{`"field":"n"`}},
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
		// Versions and the diff between them.
		v1 := arDecode[vigil.SoAVersion](t, h.arMust(201, "POST", "/api/v1/soa/versions", mgr, "{}"))
		if v1.Version != 1 || v1.ApprovedBy != h.users[vigil.RoleISMSManager].ID || v1.Items != nil {
			t.Fatalf("v1 = %+v", v1)
		}
		h.arMust(403, "POST", "/api/v1/soa/versions", h.tokens[vigil.RoleRiskOwner], "")
		h.arMust(200, "PATCH", "/api/v1/soa/7.4", mgr, `{"applicable":true,"justification":"New office opened"}`)
		h.arMust(200, "PATCH", "/api/v1/soa/8.13", mgr, `{"status":"planned"}`)
		h.arMust(201, "POST", "/api/v1/soa/versions", mgr, "")
		frozen := arDecode[vigil.SoAVersion](t, h.arMust(200, "GET", "/api/v1/soa/versions/1", viewer, ""))
		if len(frozen.Items) != 93 || !frozen.ApprovedAt.Equal(v1.ApprovedAt) {
			t.Fatalf("v1 rows = %d", len(frozen.Items))
		}
		for _, r := range frozen.Items {
			if r.Ref == "7.4" && (r.Applicable == nil || *r.Applicable || r.Justification != "Fully remote: no premises") {
				t.Fatalf("frozen 7.4 changed: %+v", r)
			}
		}
		vs := arDecode[arList[vigil.SoAVersion]](t, h.arMust(200, "GET", "/api/v1/soa/versions", viewer, ""))
		if vs.Total != 2 || vs.Items[0].Version != 2 {
			t.Fatalf("versions = %+v", vs)
		}
		diff := h.arMust(200, "GET", "/api/v1/soa/diff?from=1&to=2", viewer, "")
		for _, want := range []string{`"from":1`, `"to":2`,
			`{"ref":"7.4","title":"Physical security monitoring","field":"applicable","before":false,"after":true}`,
			`{"ref":"7.4","title":"Physical security monitoring","field":"justification","before":"Fully remote: no premises","after":"New office opened"}`,
			`{"ref":"8.13","title":"Information backup","field":"status","before":"not_started","after":"planned"}`} {
			if !strings.Contains(diff, want) {
				t.Errorf("diff lacks %s: %s", want, diff)
			}
		}
		if strings.Count(diff, `"field"`) != 3 {
			t.Errorf("diff has other changes: %s", diff)
		}
		if diff = h.arMust(200, "GET", "/api/v1/soa/diff?from=2", viewer, ""); !strings.Contains(diff, `"to":null,"changes":[]`) {
			t.Errorf("diff with the current SoA: %s", diff)
		}
	})
}

func TestSoAExports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mgr := h.tokens[vigil.RoleISMSManager]
		h.arMust(201, "POST", "/api/v1/risks", mgr, `{"title":"Malware","treatment":"modify","controls":["8.7"]}`)
		h.arMust(200, "PATCH", "/api/v1/soa/5.1", mgr, `{"applicable":true,"justification":"Policy set approved by the board","status":"implemented","owner":"isms_manager@a.test"}`)
		h.arMust(200, "PATCH", "/api/v1/soa/7.4", mgr, `{"applicable":false,"justification":"No premises"}`)

		// Before any approval the PDF says it is a draft.
		resp, body := h.api("GET", "/api/v1/soa/export?format=pdf", h.tokens[vigil.RoleExternalAuditor], "")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("pdf: %d %.200s", resp.StatusCode, body)
		}
		if text := arFirstPage(t, []byte(body)); !strings.Contains(text, "Organisation: Org A") || !strings.Contains(text, "no version approved yet") || !strings.Contains(text, "Approval date: not approved") {
			t.Fatalf("draft cover: %s", text)
		}
		h.arMust(201, "POST", "/api/v1/soa/versions", mgr, "")
		today := time.Now().UTC().Format(time.DateOnly)

		resp, body = h.api("GET", "/api/v1/soa/export?format=pdf&version=1", h.tokens[vigil.RoleViewer], "")
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), `filename="statement-of-applicability-v1-`) {
			t.Fatalf("pdf v1: %d", resp.StatusCode)
		}
		text := arFirstPage(t, []byte(body))
		for _, want := range []string{"Statement of Applicability", "Organisation: Org A", "Version: 1", "Approval date: " + today, "Approved by: isms_manager (isms_manager@a.test)", "Policies for information security"} {
			if !strings.Contains(text, want) {
				t.Errorf("first page lacks %q:\n%s", want, text)
			}
		}
		// The current SoA, unchanged since v1, is shown as v1; a change makes it a draft.
		if text = arFirstPage(t, []byte(h.arMust(200, "GET", "/api/v1/soa/export?format=pdf", mgr, ""))); !strings.Contains(text, "Version: 1") {
			t.Errorf("current = v1 cover: %s", text)
		}
		h.arMust(200, "PATCH", "/api/v1/soa/5.2", mgr, `{"status":"planned"}`)
		if text = arFirstPage(t, []byte(h.arMust(200, "GET", "/api/v1/soa/export?format=pdf", mgr, ""))); !strings.Contains(text, "working draft with changes since version 1") {
			t.Errorf("draft after v1 cover: %s", text)
		}

		resp, body = h.api("GET", "/api/v1/soa/export?format=xlsx", mgr, "")
		if resp.StatusCode != 200 {
			t.Fatalf("xlsx: %d", resp.StatusCode)
		}
		f, err := excelize.OpenReader(bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sheet := f.GetSheetName(0)
		rows, _ := f.GetRows(sheet)
		if sheet != "Statement of Applicability" || len(rows) != 94 {
			t.Fatalf("sheet %q with %d rows", sheet, len(rows))
		}
		want := map[string]string{
			"A1": "Ref", "B1": "Control", "C1": "Theme", "D1": "Applicable", "E1": "Justification", "F1": "Status", "G1": "Owner", "H1": "Risks", "I1": "Evidence",
			"A2": "5.1", "B2": "Policies for information security", "C2": "Organizational", "D2": "Yes", "E2": "Policy set approved by the board", "F2": "implemented", "G2": "isms_manager@a.test", "H2": "", "I2": "0",
			"A3": "5.2", "D3": "Undecided", "F3": "planned",
			"A94": "8.34", "D94": "Undecided", "F94": "not_started",
		}
		for i, r := range rows {
			switch r[0] {
			case "7.4":
				want["D"+strconv.Itoa(i+1)], want["E"+strconv.Itoa(i+1)] = "No", "No premises"
			case "8.7":
				want["D"+strconv.Itoa(i+1)], want["E"+strconv.Itoa(i+1)], want["H"+strconv.Itoa(i+1)] = "Yes", "Treats RSK-1.", "RSK-1"
			}
		}
		for cell, w := range want {
			if got, _ := f.GetCellValue(sheet, cell); got != w {
				t.Errorf("%s = %q, want %q", cell, got, w)
			}
		}
		if panes, err := f.GetPanes(sheet); err != nil || !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
			t.Fatalf("panes = %+v, %v", panes, err)
		}
		resp, body = h.api("GET", "/api/v1/soa/export", mgr, "")
		if resp.StatusCode != 200 || !strings.HasPrefix(body, "Ref,Control,Theme,Applicable,Justification,Status,Owner,Risks,Evidence\n5.1,") || strings.Count(body, "\n") != 94 {
			t.Fatalf("csv: %d %.200s", resp.StatusCode, body)
		}
		h.arMust(400, "GET", "/api/v1/soa/export?format=docx", mgr, "")
		h.arMust(404, "GET", "/api/v1/soa/export?version=7", mgr, "")
	})
}

// arFirstPage extracts the text of a PDF's first page, text runs joined.
func arFirstPage(t *testing.T, b []byte) string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("read pdf: %v", err)
	}
	rows, err := r.Page(1).GetTextByRow()
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, row := range rows {
		for _, w := range row.Content {
			sb.WriteString(w.S)
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

func TestSoAUI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		h.arMust(201, "POST", "/api/v1/risks", h.tokens[vigil.RoleISMSManager], `{"title":"Malware","treatment":"modify","controls":["8.7"]}`)
		mgr := h.session(h.users[vigil.RoleISMSManager].ID, h.orgA.ID)
		resp, body := h.ui("GET", "/soa", mgr, nil, false)
		if resp.StatusCode != 200 || !strings.Contains(body, "Controls (93)") || !strings.Contains(body, "<strong>1 of 93</strong>") || !strings.Contains(body, "No version has been approved yet") || !strings.Contains(body, "Approve and freeze as version 1") {
			t.Fatalf("soa page: %d", resp.StatusCode)
		}
		// The lock: the refusal names the risks.
		resp, body = h.ui("POST", "/soa/8.7", mgr, url.Values{"applicable": {"false"}, "justification": {"Not needed"}, "status": {"not_started"}}, false)
		if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "required by RSK-1") {
			t.Fatalf("locked control via UI: %d", resp.StatusCode)
		}
		resp, body = h.ui("POST", "/soa/7.4", mgr, url.Values{"applicable": {"false"}, "justification": {""}, "status": {"not_started"}}, false)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "needs a justification") {
			t.Fatalf("exclusion without justification via UI: %d", resp.StatusCode)
		}
		resp, _ = h.ui("POST", "/soa/7.4", mgr, url.Values{"applicable": {"false"}, "justification": {"No premises"}, "status": {"not_started"}, "owner": {h.users[vigil.RoleISMSManager].ID}}, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("exclusion via UI: %d", resp.StatusCode)
		}
		resp, body = h.ui("GET", "/soa/8.7", mgr, nil, false)
		if resp.StatusCode != 200 || !strings.Contains(body, "Treats RSK-1.") || !strings.Contains(body, "Required by RSK-1") {
			t.Fatalf("8.7 page: %d", resp.StatusCode)
		}
		resp, _ = h.ui("POST", "/soa/versions", mgr, nil, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("approve via UI: %d", resp.StatusCode)
		}
		resp, body = h.ui("GET", "/soa", mgr, nil, false)
		if !strings.Contains(body, "Version 1 is the latest approved version") || strings.Contains(body, "Approve and freeze") {
			t.Fatalf("soa after approval: %d", resp.StatusCode)
		}
		h.ui("POST", "/soa/7.4", mgr, url.Values{"applicable": {"true"}, "justification": {"Office opened"}, "status": {"planned"}}, false)
		resp, body = h.ui("GET", "/soa/diff?from=1", h.session(h.users[vigil.RoleInternalAuditor].ID, h.orgA.ID), nil, false)
		if resp.StatusCode != 200 || !strings.Contains(body, "3 change(s)") || !strings.Contains(body, "Office opened") {
			t.Fatalf("diff page: %d", resp.StatusCode)
		}
		resp, body = h.ui("GET", "/soa/versions/1", mgr, nil, false)
		if resp.StatusCode != 200 || !strings.Contains(body, "No premises") {
			t.Fatalf("version page: %d", resp.StatusCode)
		}
		resp, _ = h.ui("GET", "/soa/export?format=pdf&version=1", mgr, nil, false)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("pdf via UI: %d", resp.StatusCode)
		}
		// Own controls, usable in risks.
		resp, _ = h.ui("POST", "/soa/controls", mgr, url.Values{"title": {"Clean desk walk"}}, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("own control via UI: %d", resp.StatusCode)
		}
		h.arMust(200, "PATCH", "/api/v1/risks/RSK-1", h.tokens[vigil.RoleISMSManager], `{"controls":["8.7","CTL-1"]}`)
		resp, body = h.ui("POST", "/soa/controls/CTL-1/delete", mgr, nil, false)
		if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "RSK-1") {
			t.Fatalf("delete a named own control via UI: %d", resp.StatusCode)
		}
	})
}
