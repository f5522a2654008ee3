package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
	"github.com/vigilhq/vigil/web"
)

// concretePath fills a route's path parameters with values that name no
// record: an allowed caller then gets 404 or 400, never 401 or 403.
func concretePath(p string) string {
	r := strings.NewReplacer("{id}", "01900000-0000-7000-8000-000000000000", "{$}", "")
	return r.Replace(p)
}

// TestEveryRouteDeclaresAndEnforcesRoles walks every registered route with
// no credentials (401) and as every role (403 where not allowed; never 401,
// 403 or 500 where allowed).
func TestEveryRouteDeclaresAndEnforcesRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		routes := h.srv.Routes()
		if len(routes) < 20 {
			t.Fatalf("only %d routes registered", len(routes))
		}
		for _, rt := range routes {
			if rt.Access == web.Public {
				continue
			}
			if len(rt.Roles) == 0 && rt.Access != web.Agent {
				t.Errorf("%s declares no roles", rt.Pattern())
				continue
			}
			path := concretePath(rt.Path)
			t.Run(rt.Pattern(), func(t *testing.T) {
				var resp *http.Response
				var body string
				if rt.Access == web.API || rt.Access == web.Agent {
					resp, body = h.api(rt.Method, path, "", bodyFor(rt))
				} else {
					resp, body = h.ui(rt.Method, path, "", nil, false)
				}
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("no credentials: status %d, want 401 (%s)", resp.StatusCode, body)
				}
				for _, role := range vigil.MemberRoles {
					if rt.Access == web.API || rt.Access == web.Agent {
						// Agent routes refuse every member's token with 403.
						resp, body = h.api(rt.Method, path, h.tokens[role], bodyFor(rt))
					} else {
						resp, body = h.ui(rt.Method, path, h.session(h.users[role].ID, h.orgA.ID), nil, false)
					}
					allowed := rt.Allows(role)
					switch {
					case !allowed && resp.StatusCode != http.StatusForbidden:
						t.Errorf("%s: status %d, want 403 (%.200s)", role, resp.StatusCode, body)
					case allowed && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || resp.StatusCode >= 500):
						t.Errorf("%s is allowed but got %d (%.200s)", role, resp.StatusCode, body)
					}
				}
			})
		}
		// Every refusal is in the trail.
		entries, err := st.ListTrail(context.Background(), h.orgA.ID, vigil.TrailFilter{EntityType: "route", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 || entries[0].Action != vigil.ActionPermissionDenied {
			t.Fatalf("no permission.denied entries in the trail (%d entries)", len(entries))
		}
	})
}

// bodyFor gives write routes a syntactically valid JSON body.
func bodyFor(rt web.Route) string {
	switch rt.Method {
	case http.MethodPost, http.MethodPatch, http.MethodPut:
		return "{}"
	}
	return ""
}

func TestDeniedCallLeavesTrailEntry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		resp, _ := h.api("GET", "/api/v1/users", h.tokens[vigil.RoleViewer], "")
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("viewer listing users: %d", resp.StatusCode)
		}
		es, err := st.ListTrail(context.Background(), h.orgA.ID, vigil.TrailFilter{EntityType: "route", EntityID: "GET /api/v1/users"})
		if err != nil || len(es) != 1 || es[0].Action != vigil.ActionPermissionDenied {
			t.Fatalf("denial entries = %+v, %v", es, err)
		}
		if !strings.Contains(string(es[0].Changes), `"role":"viewer"`) {
			t.Fatalf("denial entry changes = %s", es[0].Changes)
		}
	})
}
