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

func TestTrainingAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		admin, emp, viewer := h.tokens[vigil.RoleAdmin], h.tokens[vigil.RoleEmployee], h.tokens[vigil.RoleViewer]

		for _, c := range []struct{ name, body, field string }{
			{"bad date", `{"title":"x","audience_roles":["employee"],"due_date":"soon"}`, "due_date"},
			{"bad role", `{"title":"x","audience_roles":["boss"],"due_date":"2030-01-01"}`, "audience_roles"},
			{"stranger", `{"title":"x","audience_people":["admin@b.test"],"due_date":"2030-01-01"}`, "audience_people"},
			{"bad recurrence", `{"title":"x","audience_roles":["employee"],"due_date":"2030-01-01","recurrence":"daily"}`, "recurrence"},
		} {
			resp, body := h.api("POST", "/api/v1/training/campaigns", admin, c.body)
			pteWant(t, c.name, resp, body, 400, c.field)
		}
		resp, body := h.api("POST", "/api/v1/training/campaigns", emp, `{"title":"x","audience_roles":["employee"],"due_date":"2030-01-01"}`)
		pteWant(t, "employee creates", resp, body, 403, "")

		resp, body = h.api("POST", "/api/v1/training/campaigns", admin,
			`{"title":"Awareness","audience_roles":["employee","viewer"],"audience_people":["risk_owner@a.test"],"due_date":"2099-01-31","recurrence":"yearly"}`)
		pteWant(t, "create", resp, body, 201, "")
		var c vigil.TrainingCampaign
		pteDecode(t, body, &c)
		if c.Assigned != 3 || c.Coverage != 0 || c.AudiencePeople[0] != h.users[vigil.RoleRiskOwner].ID {
			t.Fatalf("created %+v", c)
		}

		// Employees see and complete their own assignments.
		resp, body = h.api("GET", "/api/v1/training/assignments", emp, "")
		pteWant(t, "mine", resp, body, 200, "")
		var mine struct{ Items []vigil.TrainingAssignment }
		pteDecode(t, body, &mine)
		if len(mine.Items) != 1 || mine.Items[0].UserID != h.users[vigil.RoleEmployee].ID || mine.Items[0].CampaignID != c.ID {
			t.Fatalf("employee's assignments %+v", mine.Items)
		}
		aid := mine.Items[0].ID
		resp, body = h.api("POST", "/api/v1/training/assignments/"+aid+"/complete", viewer, "")
		pteWant(t, "viewer completes the employee's", resp, body, 403, "")
		resp, body = h.api("POST", "/api/v1/training/assignments/"+aid+"/complete", emp, `{"completed_at":"2999-01-01"}`)
		pteWant(t, "future completion", resp, body, 400, "completed_at")
		resp, body = h.api("POST", "/api/v1/training/assignments/"+aid+"/complete", emp, `{"completed_at":"last week"}`)
		pteWant(t, "bad completion date", resp, body, 400, "completed_at")
		resp, body = h.api("POST", "/api/v1/training/assignments/"+aid+"/complete", emp, `{"evidence":"EVD-12"}`)
		pteWant(t, "unknown evidence", resp, body, 400, "evidence")
		resp, body = h.api("POST", "/api/v1/training/assignments/"+aid+"/complete", emp, `{"completed_at":"2026-01-15","evidence":"certificate in HR file"}`)
		pteWant(t, "complete", resp, body, 200, "")
		if !strings.Contains(body, `"completed_at":"2026-01-15T00:00:00Z"`) || !strings.Contains(body, `"note":"certificate in HR file"`) {
			t.Fatalf("completed: %s", body)
		}
		resp, body = h.api("POST", "/api/v1/training/assignments/"+aid+"/complete", emp, "")
		pteWant(t, "complete twice", resp, body, 409, "")

		// An admin records the viewer's training on their behalf.
		resp, body = h.api("GET", "/api/v1/training/campaigns/"+c.Ref+"/assignments", admin, "")
		pteWant(t, "campaign assignments", resp, body, 200, "")
		var all struct{ Items []vigil.TrainingAssignment }
		pteDecode(t, body, &all)
		for _, a := range all.Items {
			if a.UserID == h.users[vigil.RoleViewer].ID {
				resp, body = h.api("POST", "/api/v1/training/assignments/"+a.ID+"/complete", admin, "")
				pteWant(t, "complete on behalf", resp, body, 200, "")
			}
		}
		resp, body = h.api("GET", "/api/v1/training/campaigns/"+c.ID+"/assignments?round=2", admin, "")
		pteWant(t, "future round", resp, body, 400, "round")

		resp, body = h.api("GET", "/api/v1/training/coverage", h.tokens[vigil.RoleExternalAuditor], "")
		pteWant(t, "coverage", resp, body, 200, "")
		var rep struct {
			Overall   vigil.TrainingCoverage
			Campaigns []struct {
				ID string
				vigil.TrainingCoverage
			}
		}
		pteDecode(t, body, &rep)
		if rep.Overall != vigil.NewTrainingCoverage(3, 2, 0) || rep.Overall.Coverage != 66 || len(rep.Campaigns) != 1 || rep.Campaigns[0].Assigned != 3 {
			t.Fatalf("coverage %s", body)
		}
		resp, body = h.api("GET", "/api/v1/training/coverage", emp, "")
		pteWant(t, "employee reads coverage", resp, body, 403, "")

		// A member who joins later is assigned at the next refresh.
		resp, body = h.api("POST", "/api/v1/users", admin, `{"email":"new@a.test","name":"New","role":"employee"}`)
		pteWant(t, "add member", resp, body, 201, "")
		resp, body = h.api("POST", "/api/v1/training/campaigns/"+c.ID+"/refresh", h.tokens[vigil.RoleISMSManager], "")
		pteWant(t, "refresh", resp, body, 200, "")
		if !strings.Contains(body, `"assigned":4`) {
			t.Fatalf("after refresh: %s", body)
		}
		resp, body = h.api("PATCH", "/api/v1/training/campaigns/"+c.ID, admin, `{"audience_roles":["employee"],"audience_people":[]}`)
		pteWant(t, "narrow the audience", resp, body, 200, "")
		if !strings.Contains(body, `"assigned":3`) { // the viewer's completed one stays
			t.Fatalf("after narrowing: %s", body)
		}
		resp, body = h.api("DELETE", "/api/v1/training/campaigns/"+c.ID, admin, "")
		pteWant(t, "delete", resp, body, 204, "")
	})
}

func TestTrainingUI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		mgr := h.session(h.users[vigil.RoleISMSManager].ID, h.orgA.ID)
		emp := h.session(h.users[vigil.RoleEmployee].ID, h.orgA.ID)
		resp, body := h.ui("POST", "/training/campaigns", mgr, url.Values{"title": {"Phishing"}, "audience_roles": {"employee"},
			"due_date": {"2099-06-30"}, "recurrence": {"none"}}, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: %d %s", resp.StatusCode, body)
		}
		loc := resp.Header.Get("Location")
		resp, body = h.ui("GET", loc, mgr, nil, false)
		pteWant(t, "campaign page", resp, body, 200, "")
		if !strings.Contains(body, "0 of 1 completed (0 %)") {
			t.Fatal("campaign page lacks the coverage")
		}
		resp, body = h.ui("POST", "/training/campaigns", mgr, url.Values{"title": {"x"}, "due_date": {"2099-06-30"}}, false)
		pteWant(t, "no audience", resp, body, 400, "")
		resp, body = h.ui("GET", "/training", emp, nil, false)
		pteWant(t, "employee's training", resp, body, 200, "")
		if !strings.Contains(body, "Phishing") || strings.Contains(body, "New campaign") || strings.Contains(body, "Campaigns") {
			t.Fatal("employee's training page is wrong")
		}
		i := strings.Index(body, `action="/training/assignments/`)
		action := body[i+len(`action="`):]
		action = action[:strings.Index(action, `"`)]
		resp, _ = h.ui("POST", action, emp, url.Values{"completed_at": {"2026-01-02"}, "evidence": {"done in class"}, "back": {"/training"}}, false)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/training?done=") {
			t.Fatalf("complete: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body = h.ui("GET", loc, mgr, nil, false)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("campaign page: %d", resp.StatusCode)
		}
		if !strings.Contains(body, "1 of 1 completed (100 %)") || !strings.Contains(body, "done in class") {
			t.Fatal("completion not shown on the campaign page")
		}
		resp, body = h.ui("GET", loc, emp, nil, false)
		pteWant(t, "employee opens a campaign", resp, body, 403, "")
	})
}
