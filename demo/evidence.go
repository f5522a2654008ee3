package demo

import (
	"context"
	"fmt"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
)

// seedEvidence stores a few pieces of evidence against Annex A controls and
// clauses, linked to policies (and to the first risk, if the register has
// one). The backup restore test is past its validity: stale evidence the
// readiness view should flag.
func seedEvidence(ctx context.Context, st *store.Store, orgID string, people map[vigil.Role]string) error {
	now := st.Now()
	day := func(months, days int) string { return vigil.DayOf(now.AddDate(0, months, days)) }
	policyOf := func(kind vigil.PolicyKind) []string {
		ps, err := st.ListPolicies(ctx, orgID, vigil.PolicyFilter{Kind: kind})
		if err != nil || len(ps) == 0 {
			return nil
		}
		return []string{ps[0].ID}
	}
	var risks []string
	if refs, err := st.EvidenceRiskRefs(ctx, orgID); err == nil {
		for id, ref := range refs {
			if ref == "RSK-1" {
				risks = []string{id}
			}
		}
	}
	items := []struct {
		in   vigil.EvidenceInput
		data string
	}{
		{vigil.EvidenceInput{Title: "Firewall rule review", Description: "Quarterly review of the production firewall rules; two stale rules removed.",
			Collector: people[vigil.RoleISMSManager], ObservedFrom: day(-3, 0), ObservedTo: day(0, -7), ValidUntil: day(3, 0), Filename: "firewall-review.csv",
			Requirements: []string{"8.20", "8.22"}},
			"rule,source,destination,port,decision\nallow-web,any,web-lb,443,keep\nallow-old-vpn,10.8.0.0/16,db,5432,removed\nallow-ssh-admin,office,bastion,22,keep\n"},
		{vigil.EvidenceInput{Title: "Backup restore test", Description: "Restore of the customer database into staging, timed against the RTO.",
			Collector: people[vigil.RoleRiskOwner], ObservedFrom: day(-7, 0), ObservedTo: day(-7, 0), ValidUntil: day(0, -10), Filename: "restore-test.txt",
			Requirements: []string{"8.13"}, Risks: risks, Policies: policyOf(vigil.PolicyAvailability)},
			"Restore test\nDatabase: customers (production snapshot)\nTarget: staging\nDuration: 47 minutes (RTO 4 hours)\nResult: complete, checksums match\n"},
		{vigil.EvidenceInput{Title: "Quarterly access review", Description: "Review of who can reach the customer portal's production systems.",
			Collector: people[vigil.RoleISMSManager], ObservedFrom: day(-1, 0), ObservedTo: day(0, -3), ValidUntil: day(2, 0), Filename: "access-review.csv",
			Requirements: []string{"5.18", "8.2"}, Policies: policyOf(vigil.PolicyAccessControl)},
			"account,system,role,decision\nada,production,admin,keep\nformer.contractor,production,read,revoked\nian,production,operator,keep\n"},
		{vigil.EvidenceInput{Title: "Internal audit programme", Description: "Audits planned for this year and the criteria and scope of each.",
			Collector: people[vigil.RoleInternalAuditor], ObservedFrom: day(0, -20), Filename: "audit-programme.txt",
			Requirements: []string{"9.2.2"}},
			"Internal audit programme\nQ1: access control and HR security\nQ2: operations and backups\nQ3: suppliers\nQ4: management system clauses 4 to 10\n"},
	}
	mgr := pteAs(ctx, orgID, people, vigil.RoleISMSManager)
	for _, it := range items {
		if _, err := st.CreateEvidence(mgr, orgID, it.in, []byte(it.data)); err != nil {
			return fmt.Errorf("evidence %q: %w", it.in.Title, err)
		}
	}
	return nil
}
