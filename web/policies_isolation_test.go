package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// TestPolicyTrainingEvidenceIsolation proves that organisation B's admin
// gets 404 for organisation A's policies, campaigns, assignments and
// evidence, never sees them in a list, and cannot change them.
func TestPolicyTrainingEvidenceIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mgrA, adminA := h.tokens[vigil.RoleISMSManager], h.tokens[vigil.RoleAdmin]
		var p vigil.Policy
		resp, body := h.api("POST", "/api/v1/policies/from-starter", mgrA, `{"starter":"confidentiality","approver":"admin@a.test"}`)
		pteWant(t, "A's policy", resp, body, 201, "")
		pteDecode(t, body, &p)
		h.api("POST", "/api/v1/policies/"+p.ID+"/submit", mgrA, "")
		resp, body = h.api("POST", "/api/v1/policies/"+p.ID+"/approve", adminA, "")
		pteWant(t, "approve A's policy", resp, body, 200, "")
		var c vigil.TrainingCampaign
		resp, body = h.api("POST", "/api/v1/training/campaigns", adminA, `{"title":"A's training","audience_roles":["employee"],"due_date":"2099-01-01"}`)
		pteWant(t, "A's campaign", resp, body, 201, "")
		pteDecode(t, body, &c)
		var mine struct{ Items []vigil.TrainingAssignment }
		_, body = h.api("GET", "/api/v1/training/assignments", h.tokens[vigil.RoleEmployee], "")
		pteDecode(t, body, &mine)
		if len(mine.Items) != 1 {
			t.Fatalf("A's employee has %d assignments", len(mine.Items))
		}
		aid := mine.Items[0].ID
		var e vigil.Evidence
		resp, body = h.pteUpload("POST", "/api/v1/evidence", adminA, url.Values{"title": {"A's evidence"}, "requirements": {"5.1"}}, "a.txt", []byte("only for A"))
		pteWant(t, "A's evidence", resp, body, 201, "")
		pteDecode(t, body, &e)

		for _, c := range []struct{ name, method, path, body string }{
			{"get policy", "GET", "/api/v1/policies/" + p.ID, ""},
			{"get policy by ref", "GET", "/api/v1/policies/" + p.Ref, ""},
			{"update policy", "PATCH", "/api/v1/policies/" + p.ID, `{"title":"mine"}`},
			{"delete policy", "DELETE", "/api/v1/policies/" + p.ID, ""},
			{"retire policy", "POST", "/api/v1/policies/" + p.ID + "/retire", ""},
			{"acknowledge policy", "POST", "/api/v1/policies/" + p.ID + "/acknowledge", ""},
			{"acknowledgements", "GET", "/api/v1/policies/" + p.ID + "/acknowledgements", ""},
			{"versions", "GET", "/api/v1/policies/" + p.ID + "/versions", ""},
			{"policy file", "GET", "/api/v1/policies/" + p.ID + "/file", ""},
			{"get campaign", "GET", "/api/v1/training/campaigns/" + c.ID, ""},
			{"update campaign", "PATCH", "/api/v1/training/campaigns/" + c.ID, `{"title":"mine"}`},
			{"refresh campaign", "POST", "/api/v1/training/campaigns/" + c.ID + "/refresh", ""},
			{"campaign assignments", "GET", "/api/v1/training/campaigns/" + c.ID + "/assignments", ""},
			{"delete campaign", "DELETE", "/api/v1/training/campaigns/" + c.ID, ""},
			{"complete assignment", "POST", "/api/v1/training/assignments/" + aid + "/complete", ""},
			{"get evidence", "GET", "/api/v1/evidence/" + e.ID, ""},
			{"get evidence by ref", "GET", "/api/v1/evidence/" + e.Ref, ""},
			{"update evidence", "PATCH", "/api/v1/evidence/" + e.ID, `{"title":"mine"}`},
			{"delete evidence", "DELETE", "/api/v1/evidence/" + e.ID, ""},
			{"download evidence", "GET", "/api/v1/evidence/" + e.ID + "/download", ""},
		} {
			resp, body := h.api(c.method, c.path, h.tokenB, c.body)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: B got %d, want 404 (%s)", c.name, resp.StatusCode, body)
			}
		}
		resp, body = h.api("GET", "/api/v1/evidence?policy="+p.ID, h.tokenB, "")
		pteWant(t, "filter by A's policy", resp, body, 400, "policy")
		for _, l := range []string{"/api/v1/policies", "/api/v1/policies?unacknowledged=true", "/api/v1/training/campaigns", "/api/v1/training/assignments",
			"/api/v1/training/coverage", "/api/v1/evidence", "/api/v1/evidence?requirement=5.1"} {
			resp, body := h.api("GET", l, h.tokenB, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", l, resp.StatusCode, body)
			}
			for _, leak := range []string{p.ID, c.ID, aid, e.ID, "@a.test", "A's"} {
				if strings.Contains(body, leak) {
					t.Errorf("%s as B leaks %q", l, leak)
				}
			}
		}
		// The UI refuses the same way.
		sess := h.session(h.adminB.ID, h.orgB.ID)
		for _, path := range []string{"/policies/" + p.ID, "/training/campaigns/" + c.ID, "/evidence/" + e.ID, "/evidence/" + e.ID + "/download", "/policies/" + p.ID + "/versions/1"} {
			if resp, _ := h.ui("GET", path, sess, nil, false); resp.StatusCode != http.StatusNotFound {
				t.Errorf("UI GET %s as B: %d", path, resp.StatusCode)
			}
		}
		for _, path := range []string{"/policies/" + p.ID + "/retire", "/policies/" + p.ID + "/acknowledge", "/training/campaigns/" + c.ID + "/delete",
			"/training/assignments/" + aid + "/complete", "/evidence/" + e.ID + "/delete"} {
			if resp, _ := h.ui("POST", path, sess, nil, false); resp.StatusCode != http.StatusNotFound {
				t.Errorf("UI POST %s as B: %d", path, resp.StatusCode)
			}
		}
		// Nothing of A changed.
		if got, err := st.GetPolicy(t.Context(), h.orgA.ID, p.ID); err != nil || got.Status != vigil.PolicyApproved || got.Title != p.Title {
			t.Fatalf("A's policy after B's attempts: %+v, %v", got, err)
		}
		if got, err := st.GetTrainingCampaign(t.Context(), h.orgA.ID, c.ID); err != nil || got.Title != c.Title || got.Assigned != 1 {
			t.Fatalf("A's campaign after B's attempts: %+v, %v", got, err)
		}
		if got, err := st.GetTrainingAssignment(t.Context(), h.orgA.ID, aid); err != nil || got.CompletedAt != nil {
			t.Fatalf("A's assignment after B's attempts: %+v, %v", got, err)
		}
		if _, data, err := st.EvidenceContent(t.Context(), h.orgA.ID, e.ID); err != nil || string(data) != "only for A" {
			t.Fatalf("A's evidence after B's attempts: %v", err)
		}
	})
}
