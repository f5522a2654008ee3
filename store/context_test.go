package store_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// ismsField returns the field an invalid-input error names, or "".
func ismsField(err error) string {
	var e *vigil.Error
	if !errors.As(err, &e) || e.Code != vigil.EInvalid || len(e.Fields) == 0 {
		return ""
	}
	return e.Fields[0].Field
}

// ismsPtr returns a pointer to v, for update structs.
func ismsPtr[T any](v T) *T { return &v }

func TestContextIssues(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := ctxAs(vigil.SystemActor("test"))
		org, _ := s.CreateOrg(ctx, "Acme")
		other, _ := s.CreateOrg(ctx, "Other")

		for _, tc := range []struct {
			in    vigil.ContextIssueInput
			field string
		}{
			{vigil.ContextIssueInput{Kind: "internal"}, "title"},
			{vigil.ContextIssueInput{Title: "X", Kind: "sideways"}, "kind"},
			{vigil.ContextIssueInput{Title: "X", Kind: "external", Status: "done"}, "status"},
		} {
			if _, err := s.CreateContextIssue(ctx, org.ID, tc.in); ismsField(err) != tc.field {
				t.Errorf("%+v: %v, want invalid %s", tc.in, err, tc.field)
			}
		}
		c, err := s.CreateContextIssue(ctx, org.ID, vigil.ContextIssueInput{Title: " New regulation ", Kind: vigil.ContextExternal, Effect: "More reporting"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Ref != "CTX-1" || c.Title != "New regulation" || c.Status != vigil.ContextOpen {
			t.Fatalf("created %+v", c)
		}
		if got, err := s.GetContextIssue(ctx, org.ID, "ctx-1"); err != nil || got.ID != c.ID {
			t.Fatalf("get by ref: %+v, %v", got, err)
		}
		u, err := s.UpdateContextIssue(ctx, org.ID, c.ID, vigil.ContextIssueUpdate{Status: ismsPtr(vigil.ContextMonitoring)})
		if err != nil || u.Status != vigil.ContextMonitoring || u.Title != c.Title {
			t.Fatalf("update = %+v, %v", u, err)
		}
		if _, err := s.UpdateContextIssue(ctx, org.ID, c.ID, vigil.ContextIssueUpdate{Kind: ismsPtr(vigil.ContextIssueKind("x"))}); ismsField(err) != "kind" {
			t.Fatalf("bad kind update: %v", err)
		}
		// An update that changes nothing records nothing.
		if _, err := s.UpdateContextIssue(ctx, org.ID, c.ID, vigil.ContextIssueUpdate{Title: ismsPtr("New regulation")}); err != nil {
			t.Fatal(err)
		}
		// Another organisation cannot see, change or delete it.
		if _, err := s.GetContextIssue(ctx, other.ID, c.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Errorf("other org get: %v", err)
		}
		if _, err := s.UpdateContextIssue(ctx, other.ID, "CTX-1", vigil.ContextIssueUpdate{Title: ismsPtr("x")}); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Errorf("other org update: %v", err)
		}
		if err := s.DeleteContextIssue(ctx, other.ID, c.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Errorf("other org delete: %v", err)
		}
		if l, _ := s.ListContextIssues(ctx, other.ID, "", 10); len(l) != 0 {
			t.Errorf("other org lists %d issues", len(l))
		}
		if err := s.DeleteContextIssue(ctx, org.ID, "CTX-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetContextIssue(ctx, org.ID, c.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("after delete: %v", err)
		}
		want := []string{"context_issue.create", "context_issue.update", "context_issue.delete"}
		if got := ismsTrailActions(t, s, org.ID, "context_issue"); !slices.Equal(got, want) {
			t.Fatalf("trail = %v, want %v", got, want)
		}
		// Numbers are not reused.
		c2, _ := s.CreateContextIssue(ctx, org.ID, vigil.ContextIssueInput{Title: "Hybrid work", Kind: vigil.ContextInternal})
		if c2.Ref != "CTX-2" {
			t.Fatalf("ref after delete = %s", c2.Ref)
		}
	})
}

func TestInterestedParties(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := ctxAs(vigil.SystemActor("test"))
		org, _ := s.CreateOrg(ctx, "Acme")
		other, _ := s.CreateOrg(ctx, "Other")
		if _, err := s.CreateInterestedParty(ctx, org.ID, vigil.InterestedPartyInput{Name: "  "}); ismsField(err) != "name" {
			t.Fatalf("empty name: %v", err)
		}
		var in vigil.InterestedPartyInput
		if err := json.Unmarshal([]byte(`{"name":"Customers","requirements":"Data kept in the EU\n\n  Breach notice in 24h  "}`), &in); err != nil {
			t.Fatal(err)
		}
		p, err := s.CreateInterestedParty(ctx, org.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if p.Ref != "IP-1" || !p.Relevant || !slices.Equal(p.Requirements, []string{"Data kept in the EU", "Breach notice in 24h"}) {
			t.Fatalf("created %+v", p)
		}
		u, err := s.UpdateInterestedParty(ctx, org.ID, "IP-1", vigil.InterestedPartyUpdate{Relevant: ismsPtr(false), Requirements: &vigil.TextList{"ISO 27001 certificate"}})
		if err != nil || u.Relevant || !slices.Equal(u.Requirements, []string{"ISO 27001 certificate"}) {
			t.Fatalf("update = %+v, %v", u, err)
		}
		if _, err := s.GetInterestedParty(ctx, other.ID, p.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Errorf("other org get: %v", err)
		}
		if err := s.DeleteInterestedParty(ctx, other.ID, p.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Errorf("other org delete: %v", err)
		}
		if l, _ := s.ListInterestedParties(ctx, other.ID, "", 10); len(l) != 0 {
			t.Errorf("other org lists %d parties", len(l))
		}
		// The trail holds what changed, for the management review.
		es, _ := s.ListTrail(ctx, org.ID, vigil.TrailFilter{EntityType: "interested_party", EntityID: p.ID})
		if len(es) != 2 || es[0].Action != "interested_party.update" || string(es[0].Changes) != `{"relevant":{"after":false,"before":true},"requirements":{"after":["ISO 27001 certificate"],"before":["Data kept in the EU","Breach notice in 24h"]}}` {
			t.Fatalf("trail = %+v", es)
		}
		if err := s.DeleteInterestedParty(ctx, org.ID, p.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestISMSRolesAndObjectives(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := ctxAs(vigil.SystemActor("test"))
		org, _ := s.CreateOrg(ctx, "Acme")
		other, _ := s.CreateOrg(ctx, "Other")
		m, _ := s.AddMember(ctx, org.ID, vigil.NewMember{Email: "ian@acme.test", Name: "Ian", Role: vigil.RoleISMSManager})
		stranger, _ := s.AddMember(ctx, other.ID, vigil.NewMember{Email: "x@other.test", Name: "X", Role: vigil.RoleAdmin})

		if _, err := s.CreateISMSRole(ctx, org.ID, vigil.ISMSRoleInput{Title: "ISMS manager", Holder: stranger.ID}); ismsField(err) != "holder" {
			t.Fatalf("holder from another org: %v", err)
		}
		r, err := s.CreateISMSRole(ctx, org.ID, vigil.ISMSRoleInput{Title: "ISMS manager", Responsibilities: "Runs the ISMS", Holder: "IAN@acme.test"})
		if err != nil || r.Holder != m.ID {
			t.Fatalf("create role = %+v, %v", r, err)
		}
		r, err = s.UpdateISMSRole(ctx, org.ID, r.ID, vigil.ISMSRoleUpdate{Holder: ismsPtr("")})
		if err != nil || r.Holder != "" {
			t.Fatalf("vacate role = %+v, %v", r, err)
		}
		if _, err := s.GetISMSRole(ctx, other.ID, r.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Errorf("other org get role: %v", err)
		}
		if _, err := s.UpdateISMSRole(ctx, other.ID, r.ID, vigil.ISMSRoleUpdate{Title: ismsPtr("x")}); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Errorf("other org update role: %v", err)
		}
		if err := s.DeleteISMSRole(ctx, org.ID, r.ID); err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			in    vigil.ObjectiveInput
			field string
		}{
			{vigil.ObjectiveInput{}, "title"},
			{vigil.ObjectiveInput{Title: "X", DueDate: "31/12/2026"}, "due_date"},
			{vigil.ObjectiveInput{Title: "X", Status: "late"}, "status"},
			{vigil.ObjectiveInput{Title: "X", Owner: "nobody@acme.test"}, "owner"},
		} {
			if _, err := s.CreateObjective(ctx, org.ID, tc.in); ismsField(err) != tc.field {
				t.Errorf("%+v: %v, want invalid %s", tc.in, err, tc.field)
			}
		}
		o, err := s.CreateObjective(ctx, org.ID, vigil.ObjectiveInput{Title: "Patch fast", Measure: "Days to patch critical CVEs", Target: "≤ 7 days", Owner: m.Email, DueDate: "2026-12-31"})
		if err != nil || o.Ref != "OBJ-1" || o.Owner != m.ID || o.Status != vigil.ObjectivePlanned {
			t.Fatalf("create objective = %+v, %v", o, err)
		}
		o, err = s.UpdateObjective(ctx, org.ID, "OBJ-1", vigil.ObjectiveUpdate{Status: ismsPtr(vigil.ObjectiveAtRisk), CurrentValue: ismsPtr("12 days")})
		if err != nil || o.Status != vigil.ObjectiveAtRisk || o.CurrentValue != "12 days" || o.Owner != m.ID {
			t.Fatalf("update objective = %+v, %v", o, err)
		}
		// A former member stays recorded as owner until someone changes it.
		if err := s.RemoveMember(ctx, org.ID, m.ID); err != nil {
			t.Fatal(err)
		}
		if o, err = s.UpdateObjective(ctx, org.ID, o.ID, vigil.ObjectiveUpdate{Target: ismsPtr("≤ 5 days")}); err != nil || o.Owner != m.ID {
			t.Fatalf("update after owner left = %+v, %v", o, err)
		}
		if l, _ := s.ListObjectives(ctx, other.ID, "", 10); len(l) != 0 {
			t.Errorf("other org lists %d objectives", len(l))
		}
		if err := s.DeleteObjective(ctx, other.ID, "OBJ-1"); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Errorf("other org delete objective: %v", err)
		}
		// Pagination walks every record once.
		for i := range 4 {
			if _, err := s.CreateObjective(ctx, org.ID, vigil.ObjectiveInput{Title: "O" + string(rune('a'+i))}); err != nil {
				t.Fatal(err)
			}
		}
		var seen []string
		after := ""
		for {
			page, err := s.ListObjectives(ctx, org.ID, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page {
				seen = append(seen, o.Ref)
			}
			if len(page) < 2 {
				break
			}
			after = page[len(page)-1].ID
		}
		if !slices.Equal(seen, []string{"OBJ-1", "OBJ-2", "OBJ-3", "OBJ-4", "OBJ-5"}) {
			t.Fatalf("pages = %v", seen)
		}
	})
}
