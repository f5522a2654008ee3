package demo_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/vigilhq/vigil/demo"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// TestSeedAssetsRisks checks that the demo is a half-ready ISMS: the
// readiness checklist must have something to explain in each of these
// areas.
func TestSeedAssetsRisks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		res, err := demo.Seed(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		org := res.OrgID
		if _, total, _ := s.ListAssets(ctx, org, store.AssetFilter{}); total < 10 {
			t.Fatalf("%d assets", total)
		}
		if n, refs, _ := s.AssetsWithoutOwner(ctx, org, 10); n != 1 || len(refs) != 1 {
			t.Errorf("assets without owner = %v, want one", refs)
		}
		if n, refs, _ := s.AssetsWithoutAssessedRisk(ctx, org, 10); n != 2 || len(refs) != 2 {
			t.Errorf("assets without an assessed risk = %v, want two", refs)
		}
		if m, _ := s.RiskMethod(ctx, org); !m.Configured {
			t.Error("the demo has no risk method of its own")
		}
		risks, total, err := s.ListRisks(ctx, org, store.RiskFilter{})
		if err != nil || total != 8 {
			t.Fatalf("%d risks, %v", total, err)
		}
		var accepted, waiting []string
		for _, r := range risks {
			if r.AboveThreshold && r.Acceptance != nil {
				accepted = append(accepted, r.Ref)
			}
			if r.NeedsAcceptance() {
				waiting = append(waiting, r.Ref)
			}
		}
		if fmt.Sprint(accepted) != "[RSK-2]" || fmt.Sprint(waiting) != "[RSK-3]" {
			t.Errorf("above the threshold: accepted %v, waiting %v", accepted, waiting)
		}
		st, err := s.SoAStats(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		if st.Decided < 20 || st.Decided > 60 || st.LatestVersion != 1 || !st.Changed {
			t.Errorf("soa stats = %+v: want part of the controls decided and changes since version 1", st)
		}
		if actions, _ := s.ListRiskActions(ctx, org, "RSK-1"); len(actions) != 2 {
			t.Errorf("RSK-1 has %d actions", len(actions))
		}
	})
}
