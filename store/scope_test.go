package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// ismsTrailActions lists the actions of an organisation's trail about one kind
// of record, oldest first.
func ismsTrailActions(t *testing.T, s *store.Store, orgID, entityType string) []string {
	t.Helper()
	es, err := s.ListTrail(context.Background(), orgID, vigil.TrailFilter{EntityType: entityType, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Action)
	}
	return out
}

func TestScopeVersioning(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := ctxAs(vigil.SystemActor("test"))
		org, _ := s.CreateOrg(ctx, "Acme")
		other, _ := s.CreateOrg(ctx, "Other")
		boss, err := s.AddMember(ctx, org.ID, vigil.NewMember{Email: "boss@acme.test", Name: "Boss", Role: vigil.RoleISMSManager})
		if err != nil {
			t.Fatal(err)
		}

		if _, err := s.CurrentScope(ctx, org.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("scope of a new organisation: %v, want not found", err)
		}
		if ok, err := s.HasApprovedScope(ctx, org.ID); ok || err != nil {
			t.Fatalf("HasApprovedScope before any = %v, %v", ok, err)
		}
		if _, err := s.ApproveScope(ctx, org.ID, boss.ID); vigil.ErrorCode(err) != vigil.EConflict {
			t.Fatalf("approve with no draft: %v, want conflict", err)
		}

		// An exclusion without a reason is refused, naming the entry.
		_, err = s.SaveScopeDraft(ctx, org.ID, vigil.ScopeInput{Exclusions: []vigil.ScopeExclusion{{Item: "Canteen", Reason: "no data"}, {Item: "Car park"}}})
		if e := (*vigil.Error)(nil); !errors.As(err, &e) || e.Code != vigil.EInvalid || e.Fields[0].Field != "exclusions[1].reason" {
			t.Fatalf("exclusion without reason: %v", err)
		}

		// Version 1 is drafted, approved and frozen.
		in := vigil.ScopeInput{
			Statement: "The SaaS platform.", Units: []string{" Engineering ", "", "Engineering", "Support"},
			Locations: []string{"London"}, Exclusions: []vigil.ScopeExclusion{{Item: "Canteen", Reason: "Outsourced, no data"}},
		}
		v1, err := s.SaveScopeDraft(ctx, org.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if v1.Version != 1 || v1.Status != vigil.ScopeDraft || len(v1.Units) != 2 || v1.Units[0] != "Engineering" || v1.ApprovedAt != nil || v1.Processes == nil {
			t.Fatalf("first draft = %+v", v1)
		}
		in.Statement = "The SaaS platform and its support."
		v1, err = s.SaveScopeDraft(ctx, org.ID, in)
		if err != nil || v1.Version != 1 || v1.Statement != in.Statement {
			t.Fatalf("second save of draft = %+v, %v", v1, err)
		}
		// Saving the same content again changes nothing and records nothing.
		if _, err := s.SaveScopeDraft(ctx, org.ID, in); err != nil {
			t.Fatal(err)
		}
		a, err := s.ApproveScope(ctx, org.ID, "BOSS@acme.test")
		if err != nil {
			t.Fatal(err)
		}
		if a.Version != 1 || a.Status != vigil.ScopeApproved || a.ApprovedAt == nil || a.ApprovedBy == nil || *a.ApprovedBy != boss.ID {
			t.Fatalf("approved = %+v", a)
		}
		if ok, _ := s.HasApprovedScope(ctx, org.ID); !ok {
			t.Fatal("HasApprovedScope after approval = false")
		}
		if _, err := s.ApproveScope(ctx, org.ID, boss.ID); vigil.ErrorCode(err) != vigil.EConflict {
			t.Fatalf("approving twice: %v, want conflict", err)
		}

		// Saving after approval starts version 2; version 1 stays as it was.
		in.Locations = append(in.Locations, "Lisbon")
		v2, err := s.SaveScopeDraft(ctx, org.ID, in)
		if err != nil || v2.Version != 2 || v2.Status != vigil.ScopeDraft || len(v2.Locations) != 2 {
			t.Fatalf("draft after approval = %+v, %v", v2, err)
		}
		frozen, err := s.ScopeVersion(ctx, org.ID, 1)
		if err != nil || frozen.Status != vigil.ScopeApproved || len(frozen.Locations) != 1 || frozen.Statement != "The SaaS platform and its support." {
			t.Fatalf("version 1 after a new draft = %+v, %v", frozen, err)
		}
		cur, _ := s.CurrentScope(ctx, org.ID)
		if cur.Version != 2 {
			t.Fatalf("current = version %d, want the draft 2", cur.Version)
		}
		if _, err := s.ScopeVersion(ctx, org.ID, 2); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("draft read as a frozen version: %v", err)
		}
		vs, err := s.ListScopeVersions(ctx, org.ID, 0, 10)
		if err != nil || len(vs) != 1 || vs[0].Version != 1 {
			t.Fatalf("versions = %+v, %v", vs, err)
		}
		// A draft without a statement cannot be approved.
		in.Statement = " "
		if _, err := s.SaveScopeDraft(ctx, org.ID, in); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApproveScope(ctx, org.ID, boss.ID); vigil.ErrorCode(err) != vigil.EInvalid {
			t.Fatalf("approve without statement: %v", err)
		}

		want := []string{"scope.create", "scope.update", "scope.approve", "scope.create", "scope.update"}
		if got := ismsTrailActions(t, s, org.ID, "scope"); !slices.Equal(got, want) {
			t.Fatalf("trail = %v, want %v", got, want)
		}

		// Another organisation sees nothing and cannot approve for this one.
		if _, err := s.CurrentScope(ctx, other.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("other org's scope: %v", err)
		}
		if _, err := s.ScopeVersion(ctx, other.ID, 1); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("other org reads version 1: %v", err)
		}
		if vs, _ := s.ListScopeVersions(ctx, other.ID, 0, 10); len(vs) != 0 {
			t.Fatalf("other org lists %d versions", len(vs))
		}
		if _, err := s.SaveScopeDraft(ctx, other.ID, vigil.ScopeInput{Statement: "Other"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApproveScope(ctx, other.ID, boss.ID); vigil.ErrorCode(err) != vigil.EInvalid {
			t.Fatalf("approver from another organisation: %v", err)
		}
		if cur, _ := s.CurrentScope(ctx, org.ID); cur.Version != 2 {
			t.Fatalf("org's scope after other's changes: %+v", cur)
		}
	})
}

func TestScopeJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(vigil.Scope{Version: 1, Status: vigil.ScopeDraft})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"version", "status", "statement", "units", "locations", "processes", "systems", "interfaces", "exclusions", "approved_at", "approved_by"} {
		if _, ok := m[k]; !ok {
			t.Errorf("scope JSON lacks %q: %s", k, b)
		}
	}
}
