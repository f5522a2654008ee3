package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// TestOrgIsolation proves, per resource, that organisation B's admin gets
// 404 for organisation A's records and never sees them in a list.
func TestOrgIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		memberA := h.users[vigil.RoleEmployee]
		tokA, err := st.ListTokens(context.Background(), h.orgA.ID, memberA.ID, "", 10)
		if err != nil || len(tokA) != 1 {
			t.Fatalf("tokens of A's employee: %v, %v", tokA, err)
		}
		cases := []struct {
			name, method, path, body string
		}{
			{"get member", "GET", "/api/v1/users/" + memberA.ID, ""},
			{"get member by email", "GET", "/api/v1/users/" + memberA.Email, ""},
			{"update member", "PATCH", "/api/v1/users/" + memberA.ID, `{"role":"viewer"}`},
			{"delete member", "DELETE", "/api/v1/users/" + memberA.ID, ""},
			{"revoke token", "DELETE", "/api/v1/tokens/" + tokA[0].ID, ""},
		}
		for _, c := range cases {
			resp, body := h.api(c.method, c.path, h.tokenB, c.body)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: B got %d, want 404 (%s)", c.name, resp.StatusCode, body)
			}
		}
		lists := []string{"/api/v1/users", "/api/v1/tokens", "/api/v1/trail?limit=200", "/api/v1/orgs"}
		for _, l := range lists {
			resp, body := h.api("GET", l, h.tokenB, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", l, resp.StatusCode, body)
			}
			for _, leak := range []string{memberA.ID, h.orgA.ID, tokA[0].ID, "@a.test"} {
				if strings.Contains(body, leak) {
					t.Errorf("%s as B leaks %q", l, leak)
				}
			}
		}
		// The UI forms refuse the same way.
		sess := h.session(h.adminB.ID, h.orgB.ID)
		resp, _ := h.ui("POST", "/members/"+memberA.ID, sess, url.Values{"role": {"viewer"}}, false)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("UI update of A's member as B: %d", resp.StatusCode)
		}
		resp, _ = h.ui("POST", "/tokens/"+tokA[0].ID+"/revoke", sess, nil, false)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("UI revoke of A's token as B: %d", resp.StatusCode)
		}
		// Switching to an organisation one is not a member of is refused.
		resp, _ = h.ui("POST", "/org", sess, url.Values{"org": {h.orgA.ID}}, false)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("switch to A as B: %d", resp.StatusCode)
		}
		// Nothing of A changed.
		m, err := st.GetMember(context.Background(), h.orgA.ID, memberA.ID)
		if err != nil || m.Role != vigil.RoleEmployee {
			t.Fatalf("A's member after B's attempts: %+v, %v", m, err)
		}
		if a, err := st.AuthenticateToken(context.Background(), h.tokens[vigil.RoleEmployee]); err != nil || a.OrgID != h.orgA.ID {
			t.Fatalf("A's token after B's attempts: %v", err)
		}
	})
}
