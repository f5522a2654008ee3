package demo_test

import (
	"context"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/demo"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

func TestSeedRecordsSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		res, err := demo.Seed(ctx, s)
		if err != nil || !res.Created {
			t.Fatalf("Seed = %+v, %v", res, err)
		}
		hosts, err := s.ListHosts(ctx, res.OrgID, "", 10)
		if err != nil || len(hosts) != 1 || hosts[0].Hostname != demo.DemoHost {
			t.Fatalf("demo hosts = %+v, %v; want %s", hosts, err, demo.DemoHost)
		}
		sessions, _, err := s.ListRecordedSessions(ctx, res.OrgID, vigil.SessionFilter{Limit: 50})
		if err != nil || len(sessions) < 2 {
			t.Fatalf("demo has %d recorded sessions (%v), want 2 or more", len(sessions), err)
		}
		for _, rs := range sessions {
			if rs.EndedAt == nil || rs.Chunks == 0 {
				t.Errorf("session %s: ended %v, %d chunks; want ended with chunks", rs.ID, rs.EndedAt, rs.Chunks)
			}
			v, err := s.VerifySession(ctx, res.OrgID, rs.ID)
			if err != nil || !v.OK {
				t.Errorf("session %s does not verify: %+v, %v", rs.ID, v, err)
			}
			cmds, _, err := s.ListSessionCommands(ctx, res.OrgID, rs.ID, "", 100)
			if err != nil || len(cmds) == 0 {
				t.Errorf("session %s has %d commands (%v)", rs.ID, len(cmds), err)
			}
		}
		if found, _, err := s.ListRecordedSessions(ctx, res.OrgID, vigil.SessionFilter{Query: "openssl", Limit: 50}); err != nil || len(found) == 0 {
			t.Errorf("search for openssl found %d sessions (%v)", len(found), err)
		}
		for _, typ := range []string{"login", "sudo"} {
			evs, err := s.ListEvents(ctx, res.OrgID, vigil.EventFilter{Type: typ, Limit: 50})
			if err != nil || len(evs) == 0 {
				t.Errorf("demo has %d %s events (%v)", len(evs), typ, err)
			}
		}
		before, _ := s.TrailLength(ctx)
		if again, err := demo.Seed(ctx, s); err != nil || again.Created {
			t.Fatalf("second Seed = %+v, %v", again, err)
		}
		if after, _ := s.TrailLength(ctx); after != before {
			t.Fatalf("second Seed changed the store: trail %d -> %d", before, after)
		}
	})
}
