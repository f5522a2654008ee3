package demo

import (
	"context"
	"fmt"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/starters"
	"github.com/vigilhq/vigil/store"
)

// pteAs acts as the demo member who holds role: approvals, acknowledgements
// and completions are things people do, and the store checks who does them.
func pteAs(ctx context.Context, orgID string, people map[vigil.Role]string, role vigil.Role) context.Context {
	id := people[role]
	return vigil.WithActor(ctx, vigil.Actor{Type: vigil.ActorUser, ID: id, UserID: id, OrgID: orgID, Role: role})
}

// seedPolicies gives the demo organisation its information-security policy
// and the six topic-specific policies, all from Vigil's starters and in
// every state a real ISMS shows: four approved (one past its review date,
// one with a revision in draft) with a mix of acknowledgements, one in
// review and two still drafts, which the readiness checklist points out.
func seedPolicies(ctx context.Context, st *store.Store, orgID string, people map[vigil.Role]string) error {
	author := pteAs(ctx, orgID, people, vigil.RoleISMSManager)
	approver := pteAs(ctx, orgID, people, vigil.RoleAdmin)
	ids := map[vigil.PolicyKind]string{}
	for _, s := range starters.List() {
		in, err := starters.Input(s.Kind, people[vigil.RoleISMSManager], people[vigil.RoleAdmin])
		if err != nil {
			return err
		}
		p, err := st.CreatePolicy(author, orgID, in)
		if err != nil {
			return fmt.Errorf("policy %s: %w", s.Kind, err)
		}
		ids[s.Kind] = p.ID
	}
	approved := []vigil.PolicyKind{vigil.PolicyInformationSecurity, vigil.PolicyAccessControl, vigil.PolicyIncidentResponse, vigil.PolicySupplierSecurity}
	for _, k := range append(approved, vigil.PolicyConfidentiality) {
		if _, err := st.SetPolicyStatus(author, orgID, ids[k], vigil.PolicyInReview, ""); err != nil {
			return fmt.Errorf("submit %s: %w", k, err)
		}
	}
	for _, k := range approved {
		if _, err := st.SetPolicyStatus(approver, orgID, ids[k], vigil.PolicyApproved, ""); err != nil {
			return fmt.Errorf("approve %s: %w", k, err)
		}
	}
	// The incident response policy was due for review last month.
	overdue := vigil.DayOf(st.Now().AddDate(0, -1, 0))
	if _, err := st.UpdatePolicy(author, orgID, ids[vigil.PolicyIncidentResponse], vigil.PolicyUpdate{NextReview: &overdue}); err != nil {
		return fmt.Errorf("review date: %w", err)
	}
	// Who has read what.
	for kind, roles := range map[vigil.PolicyKind][]vigil.Role{
		vigil.PolicyInformationSecurity: {vigil.RoleEmployee, vigil.RoleViewer, vigil.RoleRiskOwner, vigil.RoleInternalAuditor},
		vigil.PolicyAccessControl:       {vigil.RoleEmployee, vigil.RoleRiskOwner},
		vigil.PolicyIncidentResponse:    {vigil.RoleInternalAuditor},
	} {
		for _, r := range roles {
			if _, err := st.AcknowledgePolicy(pteAs(ctx, orgID, people, r), orgID, ids[kind]); err != nil {
				return fmt.Errorf("acknowledge %s: %w", kind, err)
			}
		}
	}
	// The supplier policy is being revised: version 2 in draft, version 1
	// in force.
	p, err := st.GetPolicy(ctx, orgID, ids[vigil.PolicySupplierSecurity])
	if err != nil {
		return err
	}
	body := p.Body + "\n\n## Cloud providers\n\nFor cloud services, the shared-responsibility model of each provider is recorded in the supplier register, " +
		"and the controls that remain ours are assigned owners."
	if _, err := st.UpdatePolicy(author, orgID, p.ID, vigil.PolicyUpdate{Body: &body}); err != nil {
		return fmt.Errorf("revise supplier policy: %w", err)
	}
	return nil
}
