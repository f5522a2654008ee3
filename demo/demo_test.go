package demo_test

import (
	"context"
	"testing"

	"github.com/vigilhq/vigil/demo"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

func TestSeedOnlyOnEmptyStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		res, err := demo.Seed(ctx, s)
		if err != nil || !res.Created || res.Password == "" {
			t.Fatalf("first Seed = %+v, %v", res, err)
		}
		members, err := s.ListMembers(ctx, res.OrgID, "", 100)
		// The people, and the certification body's auditor invited to the
		// surveillance audit.
		if err != nil || len(members) != len(demo.People)+1 {
			t.Fatalf("demo has %d members (%v), want %d", len(members), err, len(demo.People)+1)
		}
		if _, err := s.Authenticate(ctx, res.Email, res.Password); err != nil {
			t.Fatalf("demo admin cannot sign in: %v", err)
		}
		before, _ := s.TrailLength(ctx)
		again, err := demo.Seed(ctx, s)
		if err != nil || again.Created {
			t.Fatalf("second Seed = %+v, %v; want nothing created", again, err)
		}
		if after, _ := s.TrailLength(ctx); after != before {
			t.Fatalf("second Seed changed the store: trail %d -> %d", before, after)
		}
	})
}
