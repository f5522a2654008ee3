package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/demo"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

func readinessByID(t *testing.T, s *store.Store, orgID string) (vigil.Readiness, map[string]vigil.ReadinessCheck) {
	t.Helper()
	rd, err := s.Readiness(context.Background(), orgID)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]vigil.ReadinessCheck{}
	for _, c := range rd.Checks {
		byID[c.ID] = c
	}
	return rd, byID
}

func TestReadinessOfEmptyOrganisation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := ctxAs(vigil.SystemActor("test"))
		org, _ := s.CreateOrg(ctx, "Empty")
		rd, byID := readinessByID(t, s, org.ID)
		if rd.Ready || rd.Score != 0 {
			t.Fatalf("empty organisation: ready %v, score %d", rd.Ready, rd.Score)
		}
		var ids []string
		for _, c := range rd.Checks {
			ids = append(ids, c.ID)
		}
		if strings.Join(ids, ",") != strings.Join(vigil.ReadinessCheckIDs, ",") {
			t.Fatalf("check ids = %v", ids)
		}
		want := map[string]string{
			vigil.CheckScope:             "no scope statement yet",
			vigil.CheckAssets:            "no assets identified yet",
			vigil.CheckRiskAssessment:    "no assets to assess yet",
			vigil.CheckRiskTreatment:     "no risks assessed yet",
			vigil.CheckSoA:               "93 controls not decided and justified: 5.1, 5.2",
			vigil.CheckPolicies:          "missing: information security, access control",
			vigil.CheckTraining:          "no training assigned yet",
			vigil.CheckDocumentation:     "15 mandatory documents missing",
			vigil.CheckInternalAudit:     "no internal audit reported in the last 12 months",
			vigil.CheckManagementReview:  "no management review signed off yet",
			vigil.CheckCorrectiveActions: "no audit carried out yet",
		}
		for id, detail := range want {
			c := byID[id]
			if c.Passed || !strings.Contains(c.Detail, detail) || c.Title == "" {
				t.Errorf("%s = %+v; want not passed with detail containing %q", id, c, detail)
			}
		}
	})
}

// TestReadinessOfDemo checks the half-ready demo ISMS: what it has passes,
// what it lacks fails with a detail that names what is missing, and fixing
// one thing flips exactly that check.
func TestReadinessOfDemo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		res, err := demo.Seed(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		rd, byID := readinessByID(t, s, res.OrgID)
		if rd.Ready || rd.Score <= 0 || rd.Score >= 100 {
			t.Fatalf("demo readiness: ready %v, score %d", rd.Ready, rd.Score)
		}
		if c := byID[vigil.CheckScope]; !c.Passed {
			t.Errorf("scope: %+v", c)
		}
		for id, detail := range map[string]string{
			vigil.CheckAssets:        "1 asset without an owner: AST-",
			vigil.CheckRiskTreatment: "neither treated below it nor accepted: RSK-3",
			vigil.CheckSoA:           "controls not decided and justified",
			vigil.CheckPolicies:      "not approved:",
			vigil.CheckTraining:      "target 90 %",
		} {
			if c := byID[id]; c.Passed || !strings.Contains(c.Detail, detail) {
				t.Errorf("%s = %+v; want not passed with %q", id, c, detail)
			}
		}
		// Give the unowned asset an owner: the assets check passes.
		_, unowned, err := s.AssetsWithoutOwner(ctx, res.OrgID, 10)
		if err != nil || len(unowned) != 1 {
			t.Fatalf("unowned assets: %v, %v", unowned, err)
		}
		owner := "admin@acme.test"
		if _, err := s.UpdateAsset(vigil.WithActor(ctx, vigil.SystemActor("test")), res.OrgID, unowned[0], vigil.AssetUpdate{Owner: &owner}); err != nil {
			t.Fatal(err)
		}
		after, byID2 := readinessByID(t, s, res.OrgID)
		if !byID2[vigil.CheckAssets].Passed {
			t.Fatalf("assets after fixing the owner: %+v", byID2[vigil.CheckAssets])
		}
		if after.Score <= rd.Score {
			t.Fatalf("score %d did not rise above %d", after.Score, rd.Score)
		}
	})
}
