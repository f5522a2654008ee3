package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
	"github.com/vigilhq/vigil/web"
)

// TestOpenAPIMatchesRoutes proves every API route is documented and every
// documented path is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.OpenSQLite(t))
	resp, body := h.api("GET", "/api/v1/openapi.json", "", "")
	if resp.StatusCode != 200 {
		t.Fatalf("openapi.json: %d", resp.StatusCode)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	var documented, served []string
	for p, ops := range doc.Paths {
		for m, op := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+p)
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s %s has no responses", m, p)
			}
		}
	}
	for _, rt := range h.srv.Routes() {
		if strings.HasPrefix(rt.Path, "/api/") || slices.Contains([]string{"/healthz", "/readyz", "/metrics"}, rt.Path) {
			served = append(served, rt.Pattern())
		}
	}
	slices.Sort(documented)
	slices.Sort(served)
	for _, s := range served {
		if !slices.Contains(documented, s) {
			t.Errorf("route %s is not documented", s)
		}
	}
	for _, d := range documented {
		if !slices.Contains(served, d) {
			t.Errorf("documented %s is not served", d)
		}
	}
}

func TestAPIScenarios(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		admin := h.tokens[vigil.RoleAdmin]
		big := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
		tests := []struct {
			name, method, url, token, body string
			status                         int
			contains                       []string
		}{
			{"me", "GET", "/api/v1/me", admin, "", 200, []string{`"email":"admin@a.test"`, `"role":"admin"`, `"org":"` + h.orgA.ID}},
			{"orgs", "GET", "/api/v1/orgs", admin, "", 200, []string{`"name":"Org A"`, `"next_cursor":null`}},
			{"bad token", "GET", "/api/v1/me", "vgl_nope", "", 401, []string{`"type":"urn:vigil:problem:unauthorized"`}},
			{"create member", "POST", "/api/v1/users", admin, `{"email":"new@a.test","name":"New","role":"viewer"}`, 201, []string{`"email":"new@a.test"`, `"disabled":false`}},
			{"duplicate member", "POST", "/api/v1/users", admin, `{"email":"viewer@a.test","name":"X","role":"viewer"}`, 400, []string{`"field":"email"`}},
			{"unknown field", "POST", "/api/v1/users", admin, `{"email":"x@a.test","name":"X","role":"viewer","admin":true}`, 400, []string{`"field":"admin"`}},
			{"wrong type", "POST", "/api/v1/users", admin, `{"email":1,"name":"X","role":"viewer"}`, 400, []string{`"field":"email"`}},
			{"malformed", "POST", "/api/v1/users", admin, `{"email":`, 400, []string{`"field":"body"`}},
			{"two objects", "POST", "/api/v1/users", admin, `{} {}`, 400, []string{`"field":"body"`}},
			{"bad role", "POST", "/api/v1/users", admin, `{"email":"y@a.test","name":"Y","role":"root"}`, 400, []string{`"field":"role"`}},
			{"short password", "POST", "/api/v1/users", admin, `{"email":"y@a.test","name":"Y","role":"viewer","password":"short"}`, 400, []string{`"field":"password"`}},
			{"oversize", "POST", "/api/v1/users", admin, big, 413, []string{`"type":"urn:vigil:problem:too_large"`}},
			{"bad limit", "GET", "/api/v1/users?limit=0", admin, "", 400, []string{`"field":"limit"`}},
			{"limit too big", "GET", "/api/v1/users?limit=201", admin, "", 400, []string{`"field":"limit"`}},
			{"bad cursor", "GET", "/api/v1/users?cursor=!!!", admin, "", 400, []string{`"field":"cursor"`}},
			{"trail bad time", "GET", "/api/v1/trail?from=yesterday", admin, "", 400, []string{`"field":"from"`}},
			{"trail backwards", "GET", "/api/v1/trail?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", admin, "", 400, []string{`"field":"to"`}},
			{"trail bad entity", "GET", "/api/v1/trail?entity=user", admin, "", 400, []string{`"field":"entity"`}},
			{"unknown member", "GET", "/api/v1/users/nobody", admin, "", 404, []string{`"type":"urn:vigil:problem:not_found"`}},
			{"token bad expiry", "POST", "/api/v1/tokens", admin, `{"name":"x","expires":"soon"}`, 400, []string{`"field":"expires"`}},
			{"token", "POST", "/api/v1/tokens", h.tokens[vigil.RoleEmployee], `{"name":"laptop","expires":"24h"}`, 201, []string{`"token":"vgl_`, `"name":"laptop"`, `"role":"employee"`}},
			{"metrics", "GET", "/metrics", "", "", 200, []string{"vigil_http_requests_total", "vigil_trail_entries", "go_sql_open_connections"}},
			{"health", "GET", "/healthz", "", "", 200, []string{`"ok"`}},
			{"readiness", "GET", "/api/v1/readiness", admin, "", 200, []string{`"ready":false`, `"score":0`, `"id":"scope"`, `"id":"management_review"`, `"detail":"no assets identified yet"`}},
			{"documents register", "GET", "/api/v1/documents-register", admin, "", 200, []string{`"id":"soa"`, `"clause":"6.1.3 d"`, `"present":false`}},
			{"ready", "GET", "/readyz", "", "", 200, []string{`"ready"`}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before, _ := st.TrailLength(context.Background())
				resp, body := h.api(tt.method, tt.url, tt.token, tt.body)
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, tt.status, body)
				}
				for _, c := range tt.contains {
					if !strings.Contains(body, c) {
						t.Errorf("body lacks %s: %.300s", c, body)
					}
				}
				if resp.StatusCode >= 400 {
					if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
						t.Errorf("error content type %q", ct)
					}
					// A failed request leaves no record and no trail entry
					// (a refusal of a signed-in caller's role would, but none
					// of these is one).
					if after, _ := st.TrailLength(context.Background()); after != before {
						t.Errorf("failed request grew the trail from %d to %d", before, after)
					}
				}
			})
		}
	})
}

func TestPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		seen := map[string]bool{}
		cursor := ""
		pages := 0
		for {
			url := "/api/v1/users?limit=3"
			if cursor != "" {
				url += "&cursor=" + cursor
			}
			resp, body := h.api("GET", url, h.tokens[vigil.RoleAdmin], "")
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d %s", url, resp.StatusCode, body)
			}
			var l web.List[vigil.Member]
			if err := json.Unmarshal([]byte(body), &l); err != nil {
				t.Fatal(err)
			}
			for _, m := range l.Items {
				if seen[m.ID] {
					t.Fatalf("member %s on two pages", m.Email)
				}
				seen[m.ID] = true
			}
			pages++
			if l.NextCursor == nil {
				break
			}
			cursor = *l.NextCursor
		}
		if len(seen) != len(vigil.MemberRoles) || pages != (len(vigil.MemberRoles)+2)/3 {
			t.Fatalf("saw %d members over %d pages", len(seen), pages)
		}
	})
}

func TestTrailFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		viewer := h.users[vigil.RoleViewer]
		url := fmt.Sprintf("/api/v1/trail?entity_type=user&entity_id=%s", viewer.ID)
		for _, role := range []vigil.Role{vigil.RoleAdmin, vigil.RoleInternalAuditor, vigil.RoleExternalAuditor} {
			resp, body := h.api("GET", url, h.tokens[role], "")
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d", role, resp.StatusCode)
			}
			var l web.List[vigil.TrailEntry]
			json.Unmarshal([]byte(body), &l)
			if len(l.Items) != 1 || l.Items[0].Action != "user.create" || l.Items[0].EntityID != viewer.ID {
				t.Fatalf("%s: filtered trail = %+v", role, l.Items)
			}
		}
		resp, body := h.api("GET", "/api/v1/trail?actor=test&limit=1", h.tokens[vigil.RoleAdmin], "")
		var l web.List[vigil.TrailEntry]
		json.Unmarshal([]byte(body), &l)
		if resp.StatusCode != 200 || len(l.Items) != 1 || l.NextCursor == nil || l.Items[0].ActorID != "test" {
			t.Fatalf("actor filter: %d %+v", resp.StatusCode, l)
		}
		resp, body = h.api("GET", "/api/v1/trail?limit=1&cursor="+*l.NextCursor, h.tokens[vigil.RoleAdmin], "")
		var next web.List[vigil.TrailEntry]
		json.Unmarshal([]byte(body), &next)
		if resp.StatusCode != 200 || len(next.Items) != 1 || next.Items[0].Seq >= l.Items[0].Seq {
			t.Fatalf("second page: %d %+v", resp.StatusCode, next.Items)
		}
	})
}

func TestSecurityHeadersEverywhere(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.OpenSQLite(t))
	for _, path := range []string{"/login", "/api/v1/me", "/nope", "/healthz", "/members"} {
		resp, _ := h.api("GET", path, "", "")
		for k, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "same-origin",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", path, k, got, want)
			}
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS sent over plain HTTP", path)
		}
	}
}

func TestHSTSOverTLS(t *testing.T) {
	t.Parallel()
	srv, err := web.New(web.Options{Store: storetest.OpenSQLite(t), TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(srv.Handler())
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=") {
		t.Fatalf("HSTS = %q over TLS", h)
	}
	resp, err = ts.Client().Get(ts.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "vigil_csrf" && (!c.Secure || !c.HttpOnly) {
			t.Fatalf("cookie %s over TLS: secure=%v httponly=%v", c.Name, c.Secure, c.HttpOnly)
		}
	}
}
