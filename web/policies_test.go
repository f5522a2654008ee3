package web_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// pteDecode decodes a JSON response body into v.
func pteDecode(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
}

// pteWant checks a response's status and, for problems, the field named.
func pteWant(t *testing.T, what string, resp *http.Response, body string, status int, field string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d (%s)", what, resp.StatusCode, status, body)
	}
	if field != "" && !strings.Contains(body, `"field":"`+field+`"`) {
		t.Fatalf("%s: problem does not name %s: %s", what, field, body)
	}
}

// pteMultipart builds a multipart/form-data body with fields and a file.
func pteMultipart(t *testing.T, fields url.Values, filename string, data []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	if filename != "" {
		fw, err := w.CreateFormFile("file", filename)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	w.Close()
	return w.FormDataContentType(), &buf
}

// pteUpload sends a multipart API request.
func (h *harness) pteUpload(method, path, token string, fields url.Values, filename string, data []byte) (*http.Response, string) {
	h.t.Helper()
	ct, body := pteMultipart(h.t, fields, filename, data)
	req, err := http.NewRequest(method, h.ts.URL+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token)
	return do(h.t, req)
}

func TestPolicyAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mgr, admin, emp := h.tokens[vigil.RoleISMSManager], h.tokens[vigil.RoleAdmin], h.tokens[vigil.RoleEmployee]

		resp, body := h.api("GET", "/api/v1/policies/starters", emp, "")
		pteWant(t, "starters", resp, body, 200, "")
		var starters struct {
			Items []struct{ Kind, Title, Body string }
		}
		pteDecode(t, body, &starters)
		if len(starters.Items) != 7 {
			t.Fatalf("%d starters", len(starters.Items))
		}

		for _, c := range []struct{ name, body, field string }{
			{"unknown starter", `{"starter":"hr"}`, "starter"},
			{"approver not a member", `{"starter":"access_control","approver":"admin@b.test"}`, "approver"},
			{"approver is author", `{"starter":"access_control","approver":"isms_manager@a.test"}`, "approver"},
			{"unknown field", `{"starter":"access_control","status":"approved"}`, "status"},
		} {
			resp, body = h.api("POST", "/api/v1/policies/from-starter", mgr, c.body)
			pteWant(t, c.name, resp, body, 400, c.field)
		}
		resp, body = h.api("POST", "/api/v1/policies", mgr, `{"title":"X","next_review":"2026-02-30"}`)
		pteWant(t, "bad date", resp, body, 400, "next_review")
		resp, body = h.api("POST", "/api/v1/policies/from-starter", emp, `{"starter":"access_control"}`)
		pteWant(t, "employee creates", resp, body, 403, "")

		resp, body = h.api("POST", "/api/v1/policies/from-starter", mgr, `{"starter":"access_control","approver":"admin@a.test"}`)
		pteWant(t, "from starter", resp, body, 201, "")
		var p vigil.Policy
		pteDecode(t, body, &p)
		if p.Kind != vigil.PolicyAccessControl || p.Status != vigil.PolicyDraft || p.Approver != h.users[vigil.RoleAdmin].ID || !strings.Contains(p.Body, "least privilege") {
			t.Fatalf("created %+v", p)
		}
		id := p.ID
		resp, body = h.api("POST", "/api/v1/policies/"+id+"/retire", mgr, "")
		pteWant(t, "retire a draft", resp, body, 400, "status")
		resp, body = h.api("POST", "/api/v1/policies/"+p.Ref+"/submit", mgr, "")
		pteWant(t, "submit by ref", resp, body, 200, "")
		for _, role := range []vigil.Role{vigil.RoleISMSManager, vigil.RoleEmployee, vigil.RoleInternalAuditor} {
			resp, body = h.api("POST", "/api/v1/policies/"+id+"/approve", h.tokens[role], `{}`)
			pteWant(t, "approve as "+string(role), resp, body, 403, "")
		}
		resp, body = h.api("POST", "/api/v1/policies/"+id+"/approve", h.tokens[vigil.RoleExternalAuditor], "")
		pteWant(t, "approve as external auditor", resp, body, 403, "")
		resp, body = h.api("POST", "/api/v1/policies/"+id+"/approve", admin, `{"reason":"fine"}`)
		pteWant(t, "approve", resp, body, 200, "")
		pteDecode(t, body, &p)
		if p.Status != vigil.PolicyApproved || p.CurrentVersion == nil || *p.CurrentVersion != 1 {
			t.Fatalf("approved %+v", p)
		}

		// Acknowledgement by everyone but external auditors.
		resp, body = h.api("GET", "/api/v1/policies?unacknowledged=true", emp, "")
		pteWant(t, "unacknowledged", resp, body, 200, "")
		if !strings.Contains(body, id) {
			t.Fatalf("employee's unacknowledged list lacks the policy: %s", body)
		}
		resp, body = h.api("POST", "/api/v1/policies/"+id+"/acknowledge", emp, "")
		pteWant(t, "acknowledge", resp, body, 200, "")
		resp, body = h.api("POST", "/api/v1/policies/"+id+"/acknowledge", h.tokens[vigil.RoleExternalAuditor], "")
		pteWant(t, "external auditor acknowledges", resp, body, 403, "")
		resp, body = h.api("GET", "/api/v1/policies/"+id+"/acknowledgements", emp, "")
		pteWant(t, "employee reads acknowledgements", resp, body, 403, "")
		resp, body = h.api("GET", "/api/v1/policies/"+id+"/acknowledgements", admin, "")
		pteWant(t, "acknowledgements", resp, body, 200, "")
		var acks vigil.PolicyAcknowledgements
		pteDecode(t, body, &acks)
		if acks.Version != 1 || len(acks.Acknowledged) != 1 || acks.Acknowledged[0].Email != "employee@a.test" || len(acks.Pending) != 5 {
			t.Fatalf("acknowledgements %+v", acks)
		}

		// A new text is version 2 in draft; version 1 stays in force.
		resp, body = h.api("PATCH", "/api/v1/policies/"+id, mgr, `{"body":"# Access\n\nNew rules."}`)
		pteWant(t, "revise", resp, body, 200, "")
		pteDecode(t, body, &p)
		if p.Version != 2 || p.Status != vigil.PolicyDraft || *p.CurrentVersion != 1 {
			t.Fatalf("revision %+v", p)
		}
		resp, body = h.api("GET", "/api/v1/policies/"+id+"/versions", emp, "")
		pteWant(t, "versions", resp, body, 200, "")
		if !strings.Contains(body, `"version":1`) || strings.Contains(body, `"version":2`) {
			t.Fatalf("versions during revision: %s", body)
		}

		// An uploaded document, sniffed and served as an attachment.
		resp, body = h.pteUpload("PUT", "/api/v1/policies/"+id+"/file", mgr, nil, "signed.pdf", []byte("%PDF-1.7\n%%EOF\n"))
		pteWant(t, "upload document", resp, body, 200, "")
		resp, body = h.api("GET", "/api/v1/policies/"+id+"/file", emp, "")
		pteWant(t, "download document", resp, body, 200, "")
		if resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || body != "%PDF-1.7\n%%EOF\n" {
			t.Fatalf("document: %v %q", resp.Header, body)
		}
		resp, body = h.api("GET", "/api/v1/policies/"+id+"/file?version=1", emp, "")
		pteWant(t, "version 1 has no document", resp, body, 404, "")
		resp, body = h.api("GET", "/api/v1/policies/"+id+"/file?version=x", emp, "")
		pteWant(t, "bad version", resp, body, 400, "version")

		// Lists filter and paginate.
		resp, body = h.api("GET", "/api/v1/policies?status=bogus", emp, "")
		pteWant(t, "bad status filter", resp, body, 400, "status")
		resp, body = h.api("GET", "/api/v1/policies?kind=access_control&limit=1", emp, "")
		pteWant(t, "kind filter", resp, body, 200, "")
		if !strings.Contains(body, id) || !strings.Contains(body, `"next_cursor":null`) {
			t.Fatalf("kind filter: %s", body)
		}
		resp, body = h.api("DELETE", "/api/v1/policies/"+id, mgr, "")
		pteWant(t, "delete approved", resp, body, 409, "")
	})
}

func TestPolicyUI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mgr := h.session(h.users[vigil.RoleISMSManager].ID, h.orgA.ID)
		admin := h.session(h.users[vigil.RoleAdmin].ID, h.orgA.ID)
		emp := h.session(h.users[vigil.RoleEmployee].ID, h.orgA.ID)

		resp, body := h.ui("GET", "/policies", mgr, nil, false)
		pteWant(t, "policies page", resp, body, 200, "")
		if !strings.Contains(body, "Start from a starter text") || !strings.Contains(body, `value="incident_response"`) {
			t.Fatal("editor does not see the starters")
		}
		resp, body = h.ui("POST", "/policies/from-starter", mgr, url.Values{"starter": {"incident_response"}, "approver": {h.users[vigil.RoleAdmin].ID}}, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("create from starter: %d %s", resp.StatusCode, body)
		}
		page := resp.Header.Get("Location")
		path := page[:strings.Index(page, "?")]
		resp, body = h.ui("POST", "/policies", mgr, url.Values{"title": {""}}, false)
		pteWant(t, "create without title", resp, body, 400, "")
		if !strings.Contains(body, "title: must not be empty") {
			t.Fatal("form error not shown")
		}
		resp, _ = h.ui("POST", path+"/submit", mgr, nil, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("submit: %d", resp.StatusCode)
		}
		resp, body = h.ui("GET", path, admin, nil, false)
		pteWant(t, "approver's view", resp, body, 200, "")
		if !strings.Contains(body, "Approve version 1") {
			t.Fatal("approver sees no approve button")
		}
		resp, body = h.ui("POST", path+"/approve", mgr, nil, false)
		pteWant(t, "author approves", resp, body, 403, "")
		resp, _ = h.ui("POST", path+"/approve", admin, nil, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("approve: %d", resp.StatusCode)
		}
		resp, body = h.ui("GET", "/policies", emp, nil, false)
		pteWant(t, "employee's list", resp, body, 200, "")
		if !strings.Contains(body, "Waiting for your acknowledgement") || strings.Contains(body, "Start from a starter text") {
			t.Fatal("employee's list is wrong")
		}
		resp, body = h.ui("GET", path, emp, nil, false)
		pteWant(t, "employee's view", resp, body, 200, "")
		if !strings.Contains(body, "I have read version 1") || strings.Contains(body, "Not yet acknowledged") || !strings.Contains(body, "<h3>Purpose</h3>") {
			t.Fatal("employee's policy page is wrong")
		}
		resp, _ = h.ui("POST", path+"/acknowledge", emp, nil, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("acknowledge: %d", resp.StatusCode)
		}
		resp, body = h.ui("GET", path, admin, nil, false)
		pteWant(t, "acknowledgement lists", resp, body, 200, "")
		if !strings.Contains(body, "1 acknowledged, 5 still to do") {
			t.Fatal("acknowledgement counts missing")
		}
		// Raw HTML in a policy is shown as text.
		resp, _ = h.ui("POST", path, mgr, url.Values{"title": {"Incident response policy"}, "kind": {"incident_response"}, "owner": {h.users[vigil.RoleISMSManager].ID},
			"approver": {h.users[vigil.RoleAdmin].ID}, "body": {"<script>alert(1)</script>\n\n- **bold** item"}}, false)
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "draft+version+2") {
			t.Fatalf("revise: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body = h.ui("GET", path, emp, nil, false)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("policy page: %d", resp.StatusCode)
		}
		if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;") || !strings.Contains(body, "<li><strong>bold</strong> item</li>") {
			t.Fatal("policy text not escaped")
		}
		resp, body = h.ui("GET", path+"/versions/1", emp, nil, false)
		pteWant(t, "version 1", resp, body, 200, "")
		resp, body = h.ui("GET", path+"/versions/9", emp, nil, false)
		pteWant(t, "version 9", resp, body, 404, "")
	})
}
