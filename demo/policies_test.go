package demo_test

import (
	"context"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/demo"
	"github.com/vigilhq/vigil/store/storetest"
)

// TestSeedPoliciesTrainingEvidence checks the demo shows a half-ready ISMS
// in these areas: some policies approved and acknowledged, one in review,
// one past its review date; training coverage under 90 %; one piece of
// stale evidence.
func TestSeedPoliciesTrainingEvidence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	res, err := demo.Seed(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := st.ListPolicies(ctx, res.OrgID, vigil.PolicyFilter{})
	if err != nil {
		t.Fatal(err)
	}
	count := map[vigil.PolicyStatus]int{}
	overdue, acknowledged := 0, 0
	for _, p := range ps {
		count[p.Status]++
		if p.ReviewOverdue {
			overdue++
		}
		acks, err := st.PolicyAcknowledgements(ctx, res.OrgID, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		acknowledged += len(acks.Acknowledged)
	}
	// Three approved, the supplier policy in a draft revision of an
	// approved version, confidentiality in review, two plain drafts.
	if len(ps) != 7 || count[vigil.PolicyApproved] != 3 || count[vigil.PolicyInReview] != 1 || count[vigil.PolicyDraft] != 3 || overdue != 1 || acknowledged == 0 {
		t.Fatalf("policies: %d, by status %v, %d overdue, %d acknowledgements", len(ps), count, overdue, acknowledged)
	}
	current := 0
	states, err := st.PolicyKindStates(ctx, res.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.Current {
			current++
		}
	}
	if current != 3 {
		t.Fatalf("%d required policies current, want 3 (information security, access control, supplier security)", current)
	}
	assigned, completed, err := st.TrainingCoverage(ctx, res.OrgID)
	if err != nil || assigned == 0 || completed*100 >= 90*assigned || completed == 0 {
		t.Fatalf("training coverage %d of %d (%v)", completed, assigned, err)
	}
	stale := true
	es, err := st.ListEvidence(ctx, res.OrgID, vigil.EvidenceFilter{Stale: &stale})
	if err != nil || len(es) != 1 {
		t.Fatalf("stale evidence %d (%v)", len(es), err)
	}
	counts, err := st.EvidenceCounts(ctx, res.OrgID)
	if err != nil || counts["8.20"] != 1 || counts["8.13"] != 0 || counts["9.2.2"] != 1 {
		t.Fatalf("evidence counts %v (%v)", counts, err)
	}
}
