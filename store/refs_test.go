package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

func TestNextRefAndResolvePerson(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := vigil.WithActor(context.Background(), vigil.SystemActor("test"))
		a, _ := s.CreateOrg(ctx, "A")
		b, _ := s.CreateOrg(ctx, "B")
		m, err := s.AddMember(ctx, a.ID, vigil.NewMember{Email: "x@a.test", Name: "X", Role: vigil.RoleViewer})
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for _, org := range []string{a.ID, a.ID, b.ID, a.ID} {
			r, err := store.NextRef(ctx, s, org, "AST")
			if err != nil {
				t.Fatal(err)
			}
			refs = append(refs, r)
		}
		if got := strings.Join(refs, " "); got != "AST-1 AST-2 AST-1 AST-3" {
			t.Fatalf("refs = %s", got)
		}
		for _, ref := range []string{m.ID, "x@a.test", " X@A.test "} {
			id, err := store.ResolvePerson(ctx, s, a.ID, ref)
			if err != nil || id != m.ID {
				t.Errorf("ResolvePerson(%q) = %q, %v", ref, id, err)
			}
		}
		if _, err := store.ResolvePerson(ctx, s, b.ID, m.ID); vigil.ErrorCode(err) != vigil.EInvalid {
			t.Errorf("member of A resolved in B: %v", err)
		}
		if id, err := store.ResolvePerson(ctx, s, a.ID, ""); id != "" || err != nil {
			t.Errorf("empty ref: %q, %v", id, err)
		}
	})
}
