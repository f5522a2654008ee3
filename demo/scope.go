package demo

import (
	"context"
	"fmt"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
)

// seedScope gives the demo organisation an approved scope (version 1) and a
// newer draft (version 2) that adds the Lisbon office, so the scope page
// shows versioning and readiness passes on the approved version while the
// draft waits for approval. It also records the context issues, interested
// parties, ISMS roles and objectives; one role is vacant and one objective
// is at risk, things a readiness review should point out.
func seedScope(ctx context.Context, st *store.Store, orgID string, people map[vigil.Role]string) error {
	v1 := vigil.ScopeInput{
		Statement: "The information security management system of Acme Ltd covers the development, operation and support of the Acme " +
			"customer portal (SaaS), including the people, offices and cloud infrastructure that deliver it.",
		Units:      []string{"Engineering", "Operations", "Customer support", "People & finance (as far as they support the portal)"},
		Locations:  []string{"London head office, 1 Example Street"},
		Processes:  []string{"Software development and release", "Hosting and operations", "Customer onboarding and support", "Incident management"},
		Systems:    []string{"Customer portal (production and staging)", "Source code hosting and CI/CD", "Corporate identity provider", "Support ticketing"},
		Interfaces: []string{"Cloud hosting provider (infrastructure as a service)", "Payment service provider", "Customers' single sign-on"},
		Exclusions: []vigil.ScopeExclusion{
			{Item: "Marketing website", Reason: "Hosted and run by an agency; holds no customer data and has no connection to the portal."},
			{Item: "Acme Labs research team", Reason: "Works on prototypes with synthetic data only, on a separate network."},
		},
	}
	if _, err := st.SaveScopeDraft(ctx, orgID, v1); err != nil {
		return fmt.Errorf("scope draft: %w", err)
	}
	if _, err := st.ApproveScope(ctx, orgID, people[vigil.RoleAdmin]); err != nil {
		return fmt.Errorf("approve scope: %w", err)
	}
	v2 := v1
	v2.Locations = append(v2.Locations[:len(v2.Locations):len(v2.Locations)], "Lisbon support office (opened this year)")
	if _, err := st.SaveScopeDraft(ctx, orgID, v2); err != nil {
		return fmt.Errorf("scope draft 2: %w", err)
	}

	for _, in := range []vigil.ContextIssueInput{
		{Title: "NIS2 applies to our customers", Kind: vigil.ContextExternal, Description: "Several customers are essential entities under NIS2 and pass its supply-chain duties on to us.",
			Effect: "More contractual security requirements and 24-hour incident notice to customers."},
		{Title: "Growth into Portugal", Kind: vigil.ContextInternal, Description: "A support office opens in Lisbon.",
			Effect: "A new location and new staff in scope; the scope statement needs a new version.", Status: vigil.ContextMonitoring},
		{Title: "Ransomware against SaaS providers", Kind: vigil.ContextExternal, Description: "Attacks on companies of our size and sector keep rising.",
			Effect: "Backups, endpoint protection and incident response must be tested."},
		{Title: "Small security team", Kind: vigil.ContextInternal, Description: "One person runs the ISMS part-time.",
			Effect: "Limits how fast controls can be implemented; automation matters."},
	} {
		if _, err := st.CreateContextIssue(ctx, orgID, in); err != nil {
			return fmt.Errorf("context issue: %w", err)
		}
	}

	no := false
	for _, in := range []vigil.InterestedPartyInput{
		{Name: "Customers", Requirements: vigil.TextList{"Confidentiality of their data", "ISO/IEC 27001 certificate", "Notice of incidents within 24 hours", "Data kept in the EU"}},
		{Name: "Employees", Requirements: vigil.TextList{"Protection of their personal data", "Clear security rules and training"}},
		{Name: "Information Commissioner's Office", Requirements: vigil.TextList{"UK GDPR compliance", "Breach reports within 72 hours"}},
		{Name: "Investors", Requirements: vigil.TextList{"No security incident that harms the company's value"}, Relevant: &no},
	} {
		if _, err := st.CreateInterestedParty(ctx, orgID, in); err != nil {
			return fmt.Errorf("interested party: %w", err)
		}
	}

	for _, in := range []vigil.ISMSRoleInput{
		{Title: "Top management sponsor", Responsibilities: "Approves the policy, the scope and the risk acceptance criteria; provides resources; chairs the management review.", Holder: people[vigil.RoleAdmin]},
		{Title: "ISMS manager", Responsibilities: "Runs the ISMS day to day, keeps the registers current and reports on its performance to top management.", Holder: people[vigil.RoleISMSManager]},
		{Title: "Risk owner, customer portal", Responsibilities: "Owns the risks of the customer portal and accepts residual risk within the criteria.", Holder: people[vigil.RoleRiskOwner]},
		{Title: "Incident response lead", Responsibilities: "Leads the response to information security incidents and the lessons learned."},
	} {
		if _, err := st.CreateISMSRole(ctx, orgID, in); err != nil {
			return fmt.Errorf("ISMS role: %w", err)
		}
	}

	for _, in := range []vigil.ObjectiveInput{
		{Title: "Patch critical vulnerabilities quickly", Measure: "Median days from a critical CVE's publication to its patch in production", Target: "≤ 7 days",
			Owner: people[vigil.RoleRiskOwner], DueDate: "2026-12-31", Status: vigil.ObjectiveOnTrack, CurrentValue: "6 days"},
		{Title: "Everyone completes security awareness training", Measure: "Share of staff who completed this year's training", Target: "100%",
			Owner: people[vigil.RoleISMSManager], DueDate: "2026-09-30", Status: vigil.ObjectiveAtRisk, CurrentValue: "64%"},
		{Title: "Restore tests for production backups", Measure: "Successful quarterly restore tests", Target: "4 per year",
			Owner: people[vigil.RoleISMSManager], DueDate: "2027-03-31", Status: vigil.ObjectivePlanned},
	} {
		if _, err := st.CreateObjective(ctx, orgID, in); err != nil {
			return fmt.Errorf("objective: %w", err)
		}
	}
	return nil
}
