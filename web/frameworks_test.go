package web_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store/storetest"
)

func TestFrameworkCatalogue(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.OpenSQLite(t))
	// The catalogue is the published standard: every member reads it.
	tok := h.tokens[vigil.RoleEmployee]

	resp, body := h.api("GET", "/api/v1/frameworks", tok, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"id":"iso27001-2022"`) || !strings.Contains(body, `"controls":93`) {
		t.Fatalf("frameworks: %d %s", resp.StatusCode, body)
	}

	type req struct {
		Ref, Title, Kind, Theme string
	}
	var l struct {
		Items      []req
		NextCursor *string `json:"next_cursor"`
	}
	resp, body = h.api("GET", "/api/v1/frameworks/iso27001-2022/requirements", tok, "")
	if resp.StatusCode != 200 {
		t.Fatalf("requirements: %d %s", resp.StatusCode, body)
	}
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatal(err)
	}
	themes := map[string]int{}
	var clauses []string
	for i, r := range l.Items {
		if r.Ref == "" || r.Title == "" {
			t.Fatalf("item %d lacks ref or title: %+v", i, r)
		}
		switch r.Kind {
		case "control":
			themes[r.Theme]++
		case "clause":
			clauses = append(clauses, r.Ref)
			if r.Theme != "" {
				t.Errorf("clause %s has a theme", r.Ref)
			}
		default:
			t.Fatalf("item %s has kind %q", r.Ref, r.Kind)
		}
	}
	if want := map[string]int{"Organizational": 37, "People": 8, "Physical": 14, "Technological": 34}; !maps.Equal(themes, want) {
		t.Fatalf("controls by theme = %v, want %v", themes, want)
	}
	for _, ref := range []string{"4.1", "4.3", "6.1.2", "6.1.3", "9.2.2", "10.2"} {
		if !slices.Contains(clauses, ref) {
			t.Errorf("clause %s missing from %v", ref, clauses)
		}
	}
	if l.Items[0].Kind != "clause" || l.Items[len(l.Items)-1].Ref != "8.34" || l.NextCursor != nil {
		t.Errorf("order: first %+v, last %+v", l.Items[0], l.Items[len(l.Items)-1])
	}
	// Clause items carry no theme key at all.
	if strings.Contains(body, `"kind":"clause","theme"`) {
		t.Error("a clause carries a theme")
	}

	tests := []struct {
		name, url string
		status    int
		contains  string
	}{
		{"only controls", "/api/v1/frameworks/iso27001-2022/requirements?kind=control&theme=People", 200, `"ref":"6.8"`},
		{"bad kind", "/api/v1/frameworks/iso27001-2022/requirements?kind=annex", 400, `"field":"kind"`},
		{"bad theme", "/api/v1/frameworks/iso27001-2022/requirements?theme=Legal", 400, `"field":"theme"`},
		{"unknown framework", "/api/v1/frameworks/iso27001-2013/requirements", 404, `"type":"urn:vigil:problem:not_found"`},
		{"unknown framework correspondence", "/api/v1/frameworks/nist-csf/correspondence-2013", 404, `"type":"urn:vigil:problem:not_found"`},
		{"correspondence", "/api/v1/frameworks/iso27001-2022/correspondence-2013", 200, `{"ref_2013":"A.12.4.1","title_2013":"Event logging","refs_2022":["8.15"]}`},
	}
	for _, tt := range tests {
		resp, body := h.api("GET", tt.url, tok, "")
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.contains) {
			t.Errorf("%s: %d %.300s", tt.name, resp.StatusCode, body)
		}
	}
	resp, body = h.api("GET", "/api/v1/frameworks/iso27001-2022/requirements?kind=control&theme=People", tok, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("requirements filter: %d", resp.StatusCode)
	}
	json.Unmarshal([]byte(body), &l)
	if len(l.Items) != 8 {
		t.Errorf("People controls: %d", len(l.Items))
	}

	var c struct {
		Framework string
		Mappings  []struct {
			Ref2013  string   `json:"ref_2013"`
			Refs2022 []string `json:"refs_2022"`
		}
		NewIn2022 []req `json:"new_in_2022"`
	}
	_, body = h.api("GET", "/api/v1/frameworks/iso27001-2022/correspondence-2013", tok, "")
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	var newRefs []string
	for _, n := range c.NewIn2022 {
		newRefs = append(newRefs, n.Ref)
	}
	if c.Framework != "iso27001-2022" || len(c.Mappings) != 114 || len(c.NewIn2022) != 11 || !slices.Contains(newRefs, "5.7") || c.NewIn2022[0].Title != "Threat intelligence" {
		t.Fatalf("correspondence: %d mappings, new %v", len(c.Mappings), newRefs)
	}

	// The UI pages list the same.
	sess := h.session(h.users[vigil.RoleViewer].ID, h.orgA.ID)
	resp, page := h.ui("GET", "/isms/framework", sess, nil, false)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "8.34") || !strings.Contains(page, "6.1.2") || !strings.Contains(page, "Technological controls") {
		t.Fatalf("framework page: %d", resp.StatusCode)
	}
	resp, page = h.ui("GET", "/isms/framework/2013", sess, nil, false)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "A.12.4.1") || !strings.Contains(page, "Threat intelligence") || !strings.Contains(page, "New in 2022 (11)") {
		t.Fatalf("correspondence page: %d", resp.StatusCode)
	}
}
