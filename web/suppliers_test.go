package web_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

func TestSuppliersAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		ed, reader := h.tokens[vigil.RoleISMSManager], h.tokens[vigil.RoleExternalAuditor]
		owner := h.users[vigil.RoleRiskOwner]
		cloud := `{"name":"CloudCo","services":"Hosting","data_accessed":"All customer data","criticality":"critical","contract_security_clauses":"DPA\nRight to audit","owner":"` + owner.Email + `","last_review":"2019-03-01","next_review":"2020-03-01"}`
		var id string
		for _, c := range []ismsCall{
			{"no name", "POST", "/api/v1/suppliers", ed, `{"criticality":"low"}`, 400, []string{`"field":"name"`}},
			{"no criticality", "POST", "/api/v1/suppliers", ed, `{"name":"X"}`, 400, []string{`"field":"criticality"`}},
			{"bad criticality", "POST", "/api/v1/suppliers", ed, `{"name":"X","criticality":"extreme"}`, 400, []string{`"field":"criticality"`}},
			{"bad date", "POST", "/api/v1/suppliers", ed, `{"name":"X","criticality":"low","last_review":"2026-13-01"}`, 400, []string{`"field":"last_review"`}},
			{"next before last", "POST", "/api/v1/suppliers", ed, `{"name":"X","criticality":"low","last_review":"2026-03-01","next_review":"2026-02-01"}`, 400, []string{`"field":"next_review"`}},
			{"owner not a member", "POST", "/api/v1/suppliers", ed, `{"name":"X","criticality":"low","owner":"admin@b.test"}`, 400, []string{`"field":"owner"`}},
			{"clauses of wrong type", "POST", "/api/v1/suppliers", ed, `{"name":"X","criticality":"low","contract_security_clauses":{"a":1}}`, 400, []string{`"field":"contract_security_clauses"`}},
			{"reader may not add", "POST", "/api/v1/suppliers", reader, cloud, 403, nil},
			{"add", "POST", "/api/v1/suppliers", ed, cloud, 201, []string{`"ref":"SUP-1"`, `"owner":"` + owner.ID + `"`, `"contract_security_clauses":["DPA","Right to audit"]`, `"next_review":"2020-03-01"`}},
			{"name taken", "POST", "/api/v1/suppliers", ed, `{"name":"cloudco","criticality":"low"}`, 400, []string{`"field":"name"`, "already exists"}},
			{"add another", "POST", "/api/v1/suppliers", ed, `{"name":"PayCo","criticality":"high","contract_security_clauses":["PCI DSS attestation"],"next_review":"2099-01-01"}`, 201, []string{`"ref":"SUP-2"`}},
			{"add one never reviewed", "POST", "/api/v1/suppliers", ed, `{"name":"MailCo","criticality":"low"}`, 201, []string{`"last_review":""`, `"next_review":""`}},
			{"overdue", "GET", "/api/v1/suppliers?overdue=true", reader, "", 200, []string{`"ref":"SUP-1"`}},
			{"bad overdue", "GET", "/api/v1/suppliers?overdue=yes", reader, "", 400, []string{`"field":"overdue"`}},
			{"rename onto another", "PATCH", "/api/v1/suppliers/SUP-2", ed, `{"name":"CLOUDCO"}`, 400, []string{`"field":"name"`}},
			{"review in the past", "PATCH", "/api/v1/suppliers/SUP-1", ed, `{"next_review":"2018-01-01"}`, 400, []string{`"field":"next_review"`}},
			{"reviewed", "PATCH", "/api/v1/suppliers/sup-1", ed, `{"last_review":"2026-11-01","next_review":"2027-11-01"}`, 200, []string{`"last_review":"2026-11-01"`, `"next_review":"2027-11-01"`, `"name":"CloudCo"`}},
			{"none overdue", "GET", "/api/v1/suppliers?overdue=true", reader, "", 200, []string{`"items":[]`}},
		} {
			body := c.run(t, h)
			if c.name == "add" {
				var s vigil.Supplier
				json.Unmarshal([]byte(body), &s)
				id = s.ID
			}
		}
		_, body := h.api("GET", "/api/v1/suppliers?overdue=false", reader, "")
		var l struct{ Items []vigil.Supplier }
		json.Unmarshal([]byte(body), &l)
		if len(l.Items) != 3 || l.Items[0].ID != id {
			t.Fatalf("all suppliers = %+v", l.Items)
		}
		ismsCall{"delete", "DELETE", "/api/v1/suppliers/" + id, ed, "", 204, nil}.run(t, h)
		ismsCall{"gone", "GET", "/api/v1/suppliers/" + id, reader, "", 404, nil}.run(t, h)
		// The deleted name is free again; its number is not.
		ismsCall{"re-add", "POST", "/api/v1/suppliers", ed, cloud, 201, []string{`"ref":"SUP-4"`}}.run(t, h)
		if _, page := h.ui("GET", "/suppliers?overdue=true", h.session(h.users[vigil.RoleViewer].ID, h.orgA.ID), nil, false); !strings.Contains(page, "SUP-4") || strings.Contains(page, "PayCo") {
			t.Fatalf("UI overdue filter: %.3000s", page)
		}
	})
}
