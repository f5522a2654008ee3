package store_test

import (
	"slices"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

func TestSuppliers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := ctxAs(vigil.SystemActor("test"))
		org, _ := s.CreateOrg(ctx, "Acme")
		other, _ := s.CreateOrg(ctx, "Other")
		m, _ := s.AddMember(ctx, org.ID, vigil.NewMember{Email: "ian@acme.test", Name: "Ian", Role: vigil.RoleISMSManager})

		for _, tc := range []struct {
			in    vigil.SupplierInput
			field string
		}{
			{vigil.SupplierInput{Criticality: "low"}, "name"},
			{vigil.SupplierInput{Name: "X"}, "criticality"},
			{vigil.SupplierInput{Name: "X", Criticality: "huge"}, "criticality"},
			{vigil.SupplierInput{Name: "X", Criticality: "low", LastReview: "2026-02-30"}, "last_review"},
			{vigil.SupplierInput{Name: "X", Criticality: "low", LastReview: "2026-03-01", NextReview: "2026-03-01"}, "next_review"},
			{vigil.SupplierInput{Name: "X", Criticality: "low", Owner: "nobody"}, "owner"},
		} {
			if _, err := s.CreateSupplier(ctx, org.ID, tc.in); ismsField(err) != tc.field {
				t.Errorf("%+v: %v, want invalid %s", tc.in, err, tc.field)
			}
		}
		a, err := s.CreateSupplier(ctx, org.ID, vigil.SupplierInput{Name: "CloudCo", Criticality: vigil.SupplierCritical, Owner: m.ID,
			ContractSecurityClauses: vigil.TextList{"DPA", "Right to audit"}, LastReview: "2025-01-10", NextReview: "2026-01-10"})
		if err != nil || a.Ref != "SUP-1" || a.Owner != m.ID || len(a.ContractSecurityClauses) != 2 {
			t.Fatalf("create = %+v, %v", a, err)
		}
		b, err := s.CreateSupplier(ctx, org.ID, vigil.SupplierInput{Name: "PayCo", Criticality: vigil.SupplierHigh, NextReview: "2027-01-01"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateSupplier(ctx, org.ID, vigil.SupplierInput{Name: "cloudco", Criticality: vigil.SupplierLow}); ismsField(err) != "name" {
			t.Fatalf("duplicate name: %v", err)
		}
		if _, err := s.UpdateSupplier(ctx, org.ID, b.ID, vigil.SupplierUpdate{Name: ismsPtr("CLOUDCO")}); ismsField(err) != "name" {
			t.Fatalf("rename onto another: %v", err)
		}
		// The same name is fine in another organisation.
		if _, err := s.CreateSupplier(ctx, other.ID, vigil.SupplierInput{Name: "CloudCo", Criticality: vigil.SupplierLow}); err != nil {
			t.Fatalf("same name elsewhere: %v", err)
		}
		if _, err := s.UpdateSupplier(ctx, org.ID, a.ID, vigil.SupplierUpdate{NextReview: ismsPtr("2024-01-01")}); ismsField(err) != "next_review" {
			t.Fatalf("next review before last: %v", err)
		}
		over, err := s.ListSuppliers(ctx, org.ID, vigil.SupplierFilter{OverdueOn: "2026-06-01"}, "", 10)
		if err != nil || len(over) != 1 || over[0].ID != a.ID || !over[0].ReviewOverdue("2026-06-01") {
			t.Fatalf("overdue = %+v, %v", over, err)
		}
		all, _ := s.ListSuppliers(ctx, org.ID, vigil.SupplierFilter{}, "", 10)
		if len(all) != 2 {
			t.Fatalf("all = %d", len(all))
		}
		u, err := s.UpdateSupplier(ctx, org.ID, "sup-1", vigil.SupplierUpdate{LastReview: ismsPtr("2026-05-01"), NextReview: ismsPtr("2027-05-01")})
		if err != nil || u.NextReview != "2027-05-01" {
			t.Fatalf("review = %+v, %v", u, err)
		}
		if _, err := s.GetSupplier(ctx, other.ID, a.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Errorf("other org get: %v", err)
		}
		if _, err := s.UpdateSupplier(ctx, other.ID, a.ID, vigil.SupplierUpdate{Name: ismsPtr("x")}); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Errorf("other org update: %v", err)
		}
		if err := s.DeleteSupplier(ctx, other.ID, a.ID); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Errorf("other org delete: %v", err)
		}
		if err := s.DeleteSupplier(ctx, org.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		want := []string{"supplier.create", "supplier.create", "supplier.update", "supplier.delete"}
		if got := ismsTrailActions(t, s, org.ID, "supplier"); !slices.Equal(got, want) {
			t.Fatalf("trail = %v, want %v", got, want)
		}
	})
}
