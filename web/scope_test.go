package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// ismsCall is one API call of a scenario and what it must answer.
type ismsCall struct {
	name, method, url, token, body string
	status                         int
	contains                       []string
}

// run makes the calls in order. A failed call must leave the trail as it
// was: no record and no trail entry.
func (c ismsCall) run(t *testing.T, h *harness) string {
	t.Helper()
	before, _ := h.st.TrailLength(context.Background())
	resp, body := h.api(c.method, c.url, c.token, c.body)
	if resp.StatusCode != c.status {
		t.Fatalf("%s: status %d, want %d: %.400s", c.name, resp.StatusCode, c.status, body)
	}
	for _, s := range c.contains {
		if !strings.Contains(body, s) {
			t.Errorf("%s: body lacks %s: %.400s", c.name, s, body)
		}
	}
	if resp.StatusCode >= 400 && resp.StatusCode != http.StatusForbidden {
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s: error content type %q", c.name, ct)
		}
		if after, _ := h.st.TrailLength(context.Background()); after != before {
			t.Errorf("%s: failed request grew the trail from %d to %d", c.name, before, after)
		}
	}
	return body
}

func TestScopeAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		ed, viewer := h.tokens[vigil.RoleISMSManager], h.tokens[vigil.RoleViewer]
		manager := h.users[vigil.RoleISMSManager].ID
		v1 := `{"statement":"The Vigil SaaS platform.","units":["Engineering","Support"],"locations":["London"],"processes":["Software development"],"systems":["Production cloud"],"interfaces":["Payment provider"],"exclusions":[{"item":"Canteen","reason":"Outsourced; no information handled"}]}`
		for _, c := range []ismsCall{
			{"no scope yet", "GET", "/api/v1/scope", viewer, "", 404, []string{"no scope statement"}},
			{"approve nothing", "POST", "/api/v1/scope/approve", ed, "", 409, nil},
			{"exclusion without reason", "PUT", "/api/v1/scope", ed, `{"statement":"x","exclusions":[{"item":"Canteen","reason":" "}]}`, 400, []string{`"field":"exclusions[0].reason"`}},
			{"unknown field", "PUT", "/api/v1/scope", ed, `{"statment":"x"}`, 400, []string{`"field":"statment"`}},
			{"list of wrong type", "PUT", "/api/v1/scope", ed, `{"units":"Engineering"}`, 400, []string{`"field":"units"`}},
			{"viewer may not write", "PUT", "/api/v1/scope", viewer, v1, 403, nil},
			{"draft v1", "PUT", "/api/v1/scope", ed, v1, 200, []string{`"version":1`, `"status":"draft"`, `"approved_at":null`, `"approved_by":null`, `"exclusions":[{"item":"Canteen","reason":"Outsourced; no information handled"}]`}},
			{"read draft", "GET", "/api/v1/scope", viewer, "", 200, []string{`"version":1`, `"status":"draft"`, `"locations":["London"]`}},
			{"no frozen version yet", "GET", "/api/v1/scope/versions/1", viewer, "", 404, nil},
			{"approve with a body", "POST", "/api/v1/scope/approve", ed, `{"version":1}`, 400, []string{`"field":"version"`}},
			{"viewer may not approve", "POST", "/api/v1/scope/approve", viewer, "", 403, nil},
			{"approve", "POST", "/api/v1/scope/approve", ed, "{}", 200, []string{`"status":"approved"`, `"approved_by":"` + manager + `"`}},
			{"approve again", "POST", "/api/v1/scope/approve", ed, "", 409, []string{"already approved"}},
			{"current is the approved v1", "GET", "/api/v1/scope", viewer, "", 200, []string{`"version":1`, `"status":"approved"`}},
			{"draft v2", "PUT", "/api/v1/scope", ed, strings.Replace(v1, `["London"]`, `["London","Lisbon"]`, 1), 200, []string{`"version":2`, `"status":"draft"`, `"locations":["London","Lisbon"]`}},
			{"v1 is frozen", "GET", "/api/v1/scope/versions/1", viewer, "", 200, []string{`"version":1`, `"locations":["London"]`, `"status":"approved"`}},
			{"v2 is no frozen version", "GET", "/api/v1/scope/versions/2", viewer, "", 404, nil},
			{"bad version number", "GET", "/api/v1/scope/versions/one", viewer, "", 400, []string{`"field":"n"`}},
			{"versions", "GET", "/api/v1/scope/versions", viewer, "", 200, []string{`"version":1`, `"next_cursor":null`}},
			{"bad cursor", "GET", "/api/v1/scope/versions?cursor=eA", viewer, "", 400, []string{`"field":"cursor"`}},
			{"employee may not read", "GET", "/api/v1/scope", h.tokens[vigil.RoleEmployee], "", 403, nil},
		} {
			c.run(t, h)
		}
		var l struct{ Items []vigil.Scope }
		_, body := h.api("GET", "/api/v1/scope/versions", viewer, "")
		json.Unmarshal([]byte(body), &l)
		if len(l.Items) != 1 || l.Items[0].Version != 1 {
			t.Fatalf("versions = %+v", l.Items)
		}
		// The readiness check's query: an approved scope exists.
		if ok, err := st.HasApprovedScope(context.Background(), h.orgA.ID); !ok || err != nil {
			t.Fatalf("HasApprovedScope = %v, %v", ok, err)
		}
	})
}

// ismsRegisterCase drives the CRUD of one register through the API.
type ismsRegisterCase struct {
	path, create, ref string
	// created must appear in the create response.
	created []string
	// invalid bodies and the field each must name.
	invalid map[string]string
	patch   string
	patched []string
}

func TestISMSRegistersAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		ed, viewer := h.tokens[vigil.RoleAdmin], h.tokens[vigil.RoleInternalAuditor]
		owner := h.users[vigil.RoleRiskOwner]
		cases := []ismsRegisterCase{
			{
				path: "/api/v1/context-issues", ref: "CTX-",
				create:  `{"title":"New EU regulation","description":"NIS2 applies from next year","kind":"external","effect":"More incident reporting"}`,
				created: []string{`"ref":"CTX-1"`, `"kind":"external"`, `"status":"open"`, `"effect":"More incident reporting"`},
				invalid: map[string]string{`{"kind":"internal"}`: "title", `{"title":"x","kind":"outside"}`: "kind", `{"title":"x","kind":"internal","status":"done"}`: "status", `{"title":"x","kind":"internal","owner":"x"}`: "owner"},
				patch:   `{"status":"monitoring"}`, patched: []string{`"status":"monitoring"`, `"title":"New EU regulation"`},
			},
			{
				path: "/api/v1/interested-parties", ref: "IP-",
				create:  `{"name":"Customers","requirements":"Data stays in the EU\nBreach notice within 24 hours"}`,
				created: []string{`"ref":"IP-1"`, `"requirements":["Data stays in the EU","Breach notice within 24 hours"]`, `"relevant":true`},
				invalid: map[string]string{`{"requirements":["x"]}`: "name", `{"name":"x","requirements":3}`: "requirements", `{"name":"x","relevant":"yes"}`: "relevant"},
				patch:   `{"requirements":["ISO 27001 certificate"],"relevant":false}`, patched: []string{`"requirements":["ISO 27001 certificate"]`, `"relevant":false`},
			},
			{
				path: "/api/v1/isms-roles", ref: "",
				create:  `{"title":"Risk owner for customer data","responsibilities":"Accepts residual risk","holder":"` + owner.Email + `"}`,
				created: []string{`"holder":"` + owner.ID + `"`},
				invalid: map[string]string{`{"holder":"` + owner.ID + `"}`: "title", `{"title":"x","holder":"admin@b.test"}`: "holder"},
				patch:   `{"holder":""}`, patched: []string{`"holder":""`, `"title":"Risk owner for customer data"`},
			},
			{
				path: "/api/v1/objectives", ref: "OBJ-",
				create:  `{"title":"Patch critical vulnerabilities fast","measure":"Median days to patch","target":"7 days","owner":"` + owner.ID + `","due_date":"2026-12-31"}`,
				created: []string{`"ref":"OBJ-1"`, `"status":"planned"`, `"due_date":"2026-12-31"`, `"owner":"` + owner.ID + `"`},
				invalid: map[string]string{`{"measure":"x"}`: "title", `{"title":"x","due_date":"soon"}`: "due_date", `{"title":"x","status":"late"}`: "status", `{"title":"x","owner":"nobody@a.test"}`: "owner"},
				patch:   `{"status":"at_risk","current_value":"12 days"}`, patched: []string{`"status":"at_risk"`, `"current_value":"12 days"`},
			},
		}
		for _, rc := range cases {
			t.Run(strings.TrimPrefix(rc.path, "/api/v1/"), func(t *testing.T) {
				for body, field := range rc.invalid {
					ismsCall{"invalid " + body, "POST", rc.path, ed, body, 400, []string{`"field":"` + field + `"`}}.run(t, h)
				}
				ismsCall{"viewer may not create", "POST", rc.path, viewer, rc.create, 403, nil}.run(t, h)
				body := ismsCall{"create", "POST", rc.path, ed, rc.create, 201, rc.created}.run(t, h)
				var rec struct{ ID, Ref string }
				json.Unmarshal([]byte(body), &rec)
				item := rc.path + "/" + rec.ID
				ismsCall{"get", "GET", item, viewer, "", 200, rc.created}.run(t, h)
				if rc.ref != "" {
					ismsCall{"get by ref", "GET", rc.path + "/" + strings.ToLower(rec.Ref), viewer, "", 200, []string{`"id":"` + rec.ID + `"`}}.run(t, h)
				}
				ismsCall{"unknown field on patch", "PATCH", item, ed, `{"colour":"red"}`, 400, []string{`"field":"colour"`}}.run(t, h)
				ismsCall{"patch", "PATCH", item, ed, rc.patch, 200, rc.patched}.run(t, h)
				ismsCall{"empty patch", "PATCH", item, ed, `{}`, 200, rc.patched}.run(t, h)
				// A second record and pages of one.
				ismsCall{"create another", "POST", rc.path, ed, rc.create, 201, nil}.run(t, h)
				first := ismsCall{"page 1", "GET", rc.path + "?limit=1", viewer, "", 200, []string{`"id":"` + rec.ID + `"`}}.run(t, h)
				var page struct {
					NextCursor *string `json:"next_cursor"`
				}
				json.Unmarshal([]byte(first), &page)
				if page.NextCursor == nil {
					t.Fatal("no next page")
				}
				second := ismsCall{"page 2", "GET", rc.path + "?limit=1&cursor=" + *page.NextCursor, viewer, "", 200, []string{`"next_cursor":null`}}.run(t, h)
				if strings.Contains(second, rec.ID) {
					t.Fatal("the first record is on page 2")
				}
				ismsCall{"viewer may not delete", "DELETE", item, viewer, "", 403, nil}.run(t, h)
				ismsCall{"delete", "DELETE", item, ed, "", 204, nil}.run(t, h)
				ismsCall{"gone", "GET", item, viewer, "", 404, nil}.run(t, h)
				ismsCall{"delete again", "DELETE", item, ed, "", 404, nil}.run(t, h)
			})
		}
		// Every change is in the trail, with what changed (newest first:
		// delete IP-1, create IP-2, update IP-1, create IP-1).
		es, err := st.ListTrail(context.Background(), h.orgA.ID, vigil.TrailFilter{EntityType: "interested_party", Limit: 100})
		if err != nil || len(es) != 4 {
			t.Fatalf("interested party trail: %d entries, %v", len(es), err)
		}
		if es[0].Action != "interested_party.delete" || es[2].Action != "interested_party.update" || !strings.Contains(string(es[2].Changes), `"relevant":{"after":false,"before":true}`) {
			t.Fatalf("interested party trail: %s %s %s", es[0].Action, es[2].Action, es[2].Changes)
		}
	})
}

// ismsObjects creates one record of each ISMS kind in A (as A's admin) and
// returns their item URLs.
func ismsObjects(t *testing.T, h *harness) map[string]string {
	t.Helper()
	ed := h.tokens[vigil.RoleAdmin]
	out := map[string]string{}
	for path, body := range map[string]string{
		"/api/v1/context-issues":     `{"title":"A's issue","kind":"internal"}`,
		"/api/v1/interested-parties": `{"name":"A's party"}`,
		"/api/v1/isms-roles":         `{"title":"A's role"}`,
		"/api/v1/objectives":         `{"title":"A's objective"}`,
		"/api/v1/suppliers":          `{"name":"A's supplier","criticality":"high","next_review":"2020-01-01"}`,
	} {
		resp, b := h.api("POST", path, ed, body)
		if resp.StatusCode != 201 {
			t.Fatalf("create %s: %d %s", path, resp.StatusCode, b)
		}
		var rec struct{ ID string }
		json.Unmarshal([]byte(b), &rec)
		out[path] = path + "/" + rec.ID
	}
	if resp, b := h.api("PUT", "/api/v1/scope", ed, `{"statement":"A's scope"}`); resp.StatusCode != 200 {
		t.Fatalf("scope: %d %s", resp.StatusCode, b)
	}
	if resp, b := h.api("POST", "/api/v1/scope/approve", ed, ""); resp.StatusCode != 200 {
		t.Fatalf("approve: %d %s", resp.StatusCode, b)
	}
	return out
}

// TestISMSOrgIsolation proves, for the scope, every register and the
// suppliers, that organisation B's admin gets 404 for A's records, never
// sees them in a list, and cannot change them through API or UI.
func TestISMSOrgIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		items := ismsObjects(t, h)
		for coll, item := range items {
			id := item[strings.LastIndex(item, "/")+1:]
			field := "title"
			if coll == "/api/v1/interested-parties" || coll == "/api/v1/suppliers" {
				field = "name"
			}
			for _, c := range []struct{ method, body string }{{"GET", ""}, {"PATCH", `{"` + field + `":"B was here"}`}, {"DELETE", ""}} {
				if resp, b := h.api(c.method, item, h.tokenB, c.body); resp.StatusCode != http.StatusNotFound {
					t.Errorf("B %s %s: %d %s", c.method, item, resp.StatusCode, b)
				}
			}
			for _, l := range []string{coll, coll + "?overdue=true"} {
				if coll != "/api/v1/suppliers" && strings.Contains(l, "?") {
					continue
				}
				resp, b := h.api("GET", l, h.tokenB, "")
				if resp.StatusCode != 200 || strings.Contains(b, id) || strings.Contains(b, "A's") {
					t.Errorf("B lists %s: %d %s", l, resp.StatusCode, b)
				}
			}
		}
		// Short refs are per organisation: CTX-1 of A is not B's.
		if resp, _ := h.api("GET", "/api/v1/context-issues/CTX-1", h.tokenB, ""); resp.StatusCode != 404 {
			t.Errorf("B reads A's CTX-1: %d", resp.StatusCode)
		}
		// B has no scope of its own, and A's versions stay A's.
		for _, u := range []string{"/api/v1/scope", "/api/v1/scope/versions/1"} {
			if resp, b := h.api("GET", u, h.tokenB, ""); resp.StatusCode != 404 {
				t.Errorf("B GET %s: %d %s", u, resp.StatusCode, b)
			}
		}
		if _, b := h.api("GET", "/api/v1/scope/versions", h.tokenB, ""); !strings.Contains(b, `"items":[]`) {
			t.Errorf("B lists A's scope versions: %s", b)
		}
		if resp, _ := h.api("POST", "/api/v1/scope/approve", h.tokenB, ""); resp.StatusCode != http.StatusConflict {
			t.Errorf("B approves with no draft of its own: %d", resp.StatusCode)
		}
		// The UI refuses the same way.
		sess := h.session(h.adminB.ID, h.orgB.ID)
		ui := map[string]string{
			"/api/v1/context-issues": "/isms/context-issues/", "/api/v1/interested-parties": "/isms/interested-parties/",
			"/api/v1/isms-roles": "/isms/roles/", "/api/v1/objectives": "/isms/objectives/", "/api/v1/suppliers": "/suppliers/",
		}
		for coll, item := range items {
			page := ui[coll] + item[strings.LastIndex(item, "/")+1:]
			if resp, _ := h.ui("GET", page, sess, nil, false); resp.StatusCode != 404 {
				t.Errorf("B views %s: %d", page, resp.StatusCode)
			}
			if resp, _ := h.ui("POST", page, sess, url.Values{"title": {"B"}, "name": {"B"}, "kind": {"internal"}, "criticality": {"low"}}, false); resp.StatusCode != 404 {
				t.Errorf("B edits %s: %d", page, resp.StatusCode)
			}
			if resp, _ := h.ui("POST", page+"/delete", sess, nil, false); resp.StatusCode != 404 {
				t.Errorf("B deletes %s: %d", page, resp.StatusCode)
			}
			if resp, body := h.ui("GET", strings.TrimSuffix(ui[coll], "/"), sess, nil, false); resp.StatusCode != 200 || strings.Contains(body, "A&#39;s") {
				t.Errorf("B's list page %s: %d, leaks A", ui[coll], resp.StatusCode)
			}
		}
		if resp, body := h.ui("GET", "/isms", sess, nil, false); resp.StatusCode != 200 || strings.Contains(body, "A&#39;s") {
			t.Errorf("B's /isms: %d, leaks A", resp.StatusCode)
		}
		if resp, _ := h.ui("GET", "/isms/scope/versions/1", sess, nil, false); resp.StatusCode != 404 {
			t.Errorf("B views A's scope version 1: %d", resp.StatusCode)
		}
		// Nothing of A changed.
		for coll, item := range items {
			resp, b := h.api("GET", item, h.tokens[vigil.RoleAdmin], "")
			if resp.StatusCode != 200 || strings.Contains(b, "B was here") {
				t.Errorf("A's %s after B's attempts: %d %s", coll, resp.StatusCode, b)
			}
		}
		if cur, err := st.CurrentScope(context.Background(), h.orgA.ID); err != nil || cur.Statement != "A's scope" || cur.Status != vigil.ScopeApproved {
			t.Errorf("A's scope after B's attempts: %+v, %v", cur, err)
		}
	})
}

func TestISMSUI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		ed := h.session(h.users[vigil.RoleISMSManager].ID, h.orgA.ID)
		viewer := h.session(h.users[vigil.RoleViewer].ID, h.orgA.ID)

		resp, page := h.ui("GET", "/isms", ed, nil, false)
		if resp.StatusCode != 200 || !strings.Contains(page, "There is no scope statement yet") || !strings.Contains(page, `href="/isms/scope/edit"`) {
			t.Fatalf("empty hub: %d", resp.StatusCode)
		}
		// Saving the scope form: an exclusion without a reason is refused
		// with the values kept.
		form := url.Values{"statement": {"The platform."}, "units": {"Engineering\n\nSupport"}, "locations": {"London"},
			"exclusion_item": {"Canteen", "Car park", ""}, "exclusion_reason": {"Outsourced", "", ""}}
		resp, page = h.ui("POST", "/isms/scope", ed, form, false)
		if resp.StatusCode != 400 || !strings.Contains(page, "exclusions[1].reason") || !strings.Contains(page, `value="Car park"`) {
			t.Fatalf("scope without a reason: %d", resp.StatusCode)
		}
		form["exclusion_reason"] = []string{"Outsourced", "Landlord's", ""}
		if resp, _ = h.ui("POST", "/isms/scope", ed, form, false); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save scope: %d", resp.StatusCode)
		}
		resp, page = h.ui("GET", "/isms", viewer, nil, false)
		if resp.StatusCode != 200 || !strings.Contains(page, "The platform.") || !strings.Contains(page, "Engineering; Support") || !strings.Contains(page, "<strong>draft</strong>") {
			t.Fatalf("hub after save: %d", resp.StatusCode)
		}
		if strings.Contains(page, "/isms/scope/approve") || strings.Contains(page, "/isms/scope/edit") {
			t.Fatal("a viewer is offered the scope forms")
		}
		resp, page = h.ui("GET", "/isms/scope/edit", ed, nil, false)
		if resp.StatusCode != 200 || !strings.Contains(page, "Engineering\nSupport") || !strings.Contains(page, `value="Landlord&#39;s"`) {
			t.Fatalf("edit form: %d", resp.StatusCode)
		}
		if resp, _ = h.ui("POST", "/isms/scope/approve", ed, nil, false); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("approve: %d", resp.StatusCode)
		}
		resp, page = h.ui("GET", "/isms", viewer, nil, false)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("hub after approval: %d", resp.StatusCode)
		}
		if !strings.Contains(page, "<strong>approved</strong> by isms_manager") || !strings.Contains(page, `href="/isms/scope/versions/1"`) {
			t.Fatalf("hub after approval: %.2000s", page)
		}
		if resp, page = h.ui("GET", "/isms/scope/versions/1", viewer, nil, false); resp.StatusCode != 200 || !strings.Contains(page, "The platform.") {
			t.Fatalf("version 1 page: %d", resp.StatusCode)
		}
		if resp, _ = h.ui("POST", "/isms/scope/approve", ed, nil, false); resp.StatusCode != http.StatusConflict {
			t.Fatalf("approving an approved version: %d", resp.StatusCode)
		}

		// Each register: add, view, edit, delete.
		for _, rc := range []struct {
			base  string
			add   url.Values
			shown string
			edit  url.Values
			after string
		}{
			{"/isms/context-issues", url.Values{"title": {"Hybrid work"}, "kind": {"internal"}, "status": {"open"}, "effect": {"Laptops leave the office"}}, "CTX-1",
				url.Values{"title": {"Hybrid work"}, "kind": {"internal"}, "status": {"closed"}}, "closed"},
			{"/isms/interested-parties", url.Values{"name": {"Regulator"}, "requirements": {"Annual report\nBreach notice"}, "relevant": {"true"}}, "Annual report; Breach notice",
				url.Values{"name": {"Regulator"}, "requirements": {"Annual report"}}, "<td>no</td>"},
			{"/isms/roles", url.Values{"title": {"Security officer"}, "holder": {h.users[vigil.RoleISMSManager].ID}, "responsibilities": {"Runs the ISMS"}}, "Security officer",
				url.Values{"title": {"Security officer"}, "holder": {""}}, "vacant"},
			{"/isms/objectives", url.Values{"title": {"Train everyone"}, "target": {"100%"}, "status": {"on_track"}, "due_date": {"2026-06-30"}}, "OBJ-1",
				url.Values{"title": {"Train everyone"}, "target": {"100%"}, "status": {"achieved"}}, "achieved"},
			{"/suppliers", url.Values{"name": {"CloudCo"}, "criticality": {"critical"}, "contract_security_clauses": {"DPA\nRight to audit"}, "last_review": {"2019-01-01"}, "next_review": {"2020-01-01"}}, "overdue",
				url.Values{"name": {"CloudCo"}, "criticality": {"high"}, "last_review": {"2025-06-01"}, "next_review": {"2099-06-01"}}, "2099-06-01"},
		} {
			if resp, _ := h.ui("POST", rc.base, ed, url.Values{}, false); resp.StatusCode != 400 {
				t.Errorf("%s: empty form: %d", rc.base, resp.StatusCode)
			}
			if resp, _ := h.ui("POST", rc.base, viewer, rc.add, false); resp.StatusCode != 403 {
				t.Errorf("%s: viewer adds: %d", rc.base, resp.StatusCode)
			}
			resp, _ := h.ui("POST", rc.base, ed, rc.add, false)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: add: %d", rc.base, resp.StatusCode)
			}
			resp, page := h.ui("GET", resp.Header.Get("Location"), viewer, nil, false)
			if resp.StatusCode != 200 || !strings.Contains(page, rc.shown) || !strings.Contains(page, "Added ") {
				t.Fatalf("%s: list after add: %d lacks %q", rc.base, resp.StatusCode, rc.shown)
			}
			if strings.Contains(page, `method="post" action="`+rc.base+`"`) {
				t.Errorf("%s: a viewer is offered the add form", rc.base)
			}
			i := strings.Index(page, `href="`+rc.base+`/`)
			if i < 0 {
				t.Fatalf("%s: no link to the record", rc.base)
			}
			link := page[i+len(`href="`):]
			link = link[:strings.Index(link, `"`)]
			resp, page = h.ui("GET", link, ed, nil, false)
			if resp.StatusCode != 200 || !strings.Contains(page, `action="`+link+`/delete"`) {
				t.Fatalf("%s: record page: %d", rc.base, resp.StatusCode)
			}
			if resp, _ := h.ui("POST", link, ed, rc.edit, false); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: edit: %d", rc.base, resp.StatusCode)
			}
			if _, page = h.ui("GET", rc.base, viewer, nil, false); !strings.Contains(page, rc.after) {
				t.Errorf("%s: after edit lacks %q", rc.base, rc.after)
			}
			if resp, _ := h.ui("POST", link+"/delete", ed, nil, false); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: delete: %d", rc.base, resp.StatusCode)
			}
			if resp, _ := h.ui("GET", link, viewer, nil, false); resp.StatusCode != 404 {
				t.Errorf("%s: deleted record still shown: %d", rc.base, resp.StatusCode)
			}
		}
	})
}
