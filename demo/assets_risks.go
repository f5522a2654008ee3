package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
)

// seedAssetsRisks adds the demo organisation's assets, risk method, own
// controls, risk register and Statement of Applicability. It is half done
// on purpose: one asset has no owner and one no risk, one risk above the
// threshold waits for its owner's acceptance, most Annex A controls are
// undecided, and the SoA changed after its only approved version.
func seedAssetsRisks(ctx context.Context, st *store.Store, orgID string, people map[vigil.Role]string) error {
	ada, ian, rita := people[vigil.RoleAdmin], people[vigil.RoleISMSManager], people[vigil.RoleRiskOwner]
	as := func(userID string) context.Context {
		return vigil.WithActor(ctx, vigil.Actor{Type: vigil.ActorUser, ID: userID, UserID: userID, OrgID: orgID})
	}
	lvl := func(n int) *int { return &n }

	assets := []vigil.AssetInput{
		{Name: "Customer database", Type: vigil.AssetInformation, Owner: rita, Classification: vigil.ClassConfidential, Confidentiality: lvl(3), Integrity: lvl(3), Availability: lvl(2),
			Location: "Managed PostgreSQL, eu-central-1", Description: "Accounts, contracts and support history of every customer."},
		{Name: "Source code repositories", Type: vigil.AssetSoftware, Owner: ian, Classification: vigil.ClassConfidential, Confidentiality: lvl(3), Integrity: lvl(3), Availability: lvl(2), Location: "Hosted Git service"},
		{Name: "Employee laptops", Type: vigil.AssetHardware, Owner: ada, Classification: vigil.ClassInternal, Confidentiality: lvl(2), Integrity: lvl(2), Availability: lvl(2), Description: "About 40 managed laptops."},
		{Name: "Customer web portal", Type: vigil.AssetService, Owner: rita, Classification: vigil.ClassInternal, Confidentiality: lvl(2), Integrity: lvl(3), Availability: lvl(3)},
		{Name: "Email and collaboration suite", Type: vigil.AssetService, Owner: ian, Classification: vigil.ClassInternal, Confidentiality: lvl(2), Integrity: lvl(2), Availability: lvl(3)},
		{Name: "Payroll records", Type: vigil.AssetInformation, Owner: ada, Classification: vigil.ClassRestricted, Confidentiality: lvl(3), Integrity: lvl(3), Availability: lvl(1)},
		{Name: "Production cloud account", Type: vigil.AssetService, Owner: rita, Classification: vigil.ClassConfidential, Confidentiality: lvl(3), Integrity: lvl(3), Availability: lvl(3)},
		{Name: "Backup storage", Type: vigil.AssetService, Owner: ian, Classification: vigil.ClassConfidential, Confidentiality: lvl(3), Integrity: lvl(3), Availability: lvl(2)},
		{Name: "Head office", Type: vigil.AssetSite, Owner: ada, Classification: vigil.ClassInternal, Availability: lvl(2), Location: "Leeds"},
		{Name: "Support team", Type: vigil.AssetPeople, Owner: ian, Classification: vigil.ClassInternal},
		// Gaps for the readiness checklist: no owner, and no risk.
		{Name: "Marketing website", Type: vigil.AssetService, Classification: vigil.ClassPublic, Integrity: lvl(2), Availability: lvl(2)},
		{Name: "Office Wi-Fi network", Type: vigil.AssetHardware, Owner: ada, Classification: vigil.ClassInternal, Availability: lvl(2)},
	}
	for _, a := range assets {
		if _, err := st.CreateAsset(ctx, orgID, a); err != nil {
			return fmt.Errorf("asset %s: %w", a.Name, err)
		}
	}

	if _, err := st.SetRiskMethod(as(ian), orgID, vigil.RiskMethodInput{
		LikelihoodScale:     []string{"Rare", "Unlikely", "Possible", "Likely", "Almost certain"},
		ImpactScale:         []string{"Negligible", "Minor", "Moderate", "Major", "Severe"},
		AcceptanceThreshold: 8,
	}); err != nil {
		return fmt.Errorf("risk method: %w", err)
	}
	for _, c := range []vigil.OrgControlInput{
		{Title: "Quarterly restore test of production backups", Owner: ian, Description: "Restore the latest backup into an isolated account and check it against production."},
		{Title: "Security review of every customer-facing release", Owner: rita},
	} {
		if _, err := st.CreateOrgControl(ctx, orgID, c); err != nil {
			return fmt.Errorf("own control %s: %w", c.Title, err)
		}
	}

	risks := []vigil.RiskInput{
		{Title: "Ransomware encrypts production and its backups", Assets: []string{"AST-1", "AST-7", "AST-8"}, Threat: "Ransomware operators",
			Vulnerability: "Flat network; backups writable from production", Owner: rita, Likelihood: lvl(4), Impact: lvl(5), Treatment: vigil.TreatModify,
			Controls: []string{"8.7", "8.13", "8.20", "CTL-1"}, ResidualLikelihood: lvl(2), ResidualImpact: lvl(4), Status: vigil.RiskInTreatment, NextReview: "2027-03-31"},
		{Title: "Customer data leaked through the web portal", Assets: []string{"AST-4", "AST-1"}, Threat: "External attacker",
			Vulnerability: "Injection flaws in custom code", Owner: rita, Likelihood: lvl(3), Impact: lvl(5), Treatment: vigil.TreatModify,
			Controls: []string{"8.25", "8.28", "8.8", "CTL-2"}, ResidualLikelihood: lvl(2), ResidualImpact: lvl(5), Status: vigil.RiskTreated, NextReview: "2027-01-31"},
		{Title: "Phishing takes over a mailbox", Assets: []string{"AST-5", "AST-3", "AST-10"}, Threat: "Credential phishing",
			Vulnerability: "Passwords without phishing-resistant MFA", Owner: ian, Likelihood: lvl(4), Impact: lvl(4), Treatment: vigil.TreatModify,
			Controls: []string{"6.3", "8.5", "5.17"}, ResidualLikelihood: lvl(3), ResidualImpact: lvl(3), Status: vigil.RiskInTreatment},
		{Title: "Lost or stolen laptop", Assets: []string{"AST-3"}, Threat: "Theft", Vulnerability: "Laptops taken off site", Owner: ada,
			Likelihood: lvl(3), Impact: lvl(3), Treatment: vigil.TreatModify, Controls: []string{"8.1", "7.9", "8.24"}, ResidualLikelihood: lvl(3), ResidualImpact: lvl(1), Status: vigil.RiskTreated},
		{Title: "Cloud region outage", Assets: []string{"AST-7", "AST-4"}, Threat: "Provider failure", Vulnerability: "Single-region deployment", Owner: rita,
			Likelihood: lvl(2), Impact: lvl(4), Treatment: vigil.TreatShare, Controls: []string{"5.23", "5.30"}, ResidualLikelihood: lvl(2), ResidualImpact: lvl(3), Status: vigil.RiskOpen},
		{Title: "Insider copies the source code", Assets: []string{"AST-2"}, Threat: "Departing employee", Vulnerability: "Broad repository access", Owner: ian,
			Likelihood: lvl(2), Impact: lvl(4), Treatment: vigil.TreatModify, Controls: []string{"8.4", "5.18", "8.15"}, ResidualLikelihood: lvl(1), ResidualImpact: lvl(4), Status: vigil.RiskTreated},
		{Title: "Payroll error from manual processing", Assets: []string{"AST-6"}, Threat: "Human error", Vulnerability: "Spreadsheet-based payroll", Owner: ada,
			Likelihood: lvl(2), Impact: lvl(2), Treatment: vigil.TreatRetain, ResidualLikelihood: lvl(2), ResidualImpact: lvl(2), Status: vigil.RiskOpen},
		{Title: "Fire or flood at the head office", Assets: []string{"AST-9"}, Threat: "Fire, flood", Vulnerability: "Single office", Owner: ada,
			Likelihood: lvl(1), Impact: lvl(4), Treatment: vigil.TreatShare, Controls: []string{"7.5"}, ResidualLikelihood: lvl(1), ResidualImpact: lvl(3), Status: vigil.RiskOpen},
	}
	for _, r := range risks {
		if _, err := st.CreateRisk(ctx, orgID, r); err != nil {
			return fmt.Errorf("risk %s: %w", r.Title, err)
		}
	}
	// RSK-2 stays above the threshold after treatment, and its owner
	// accepted it; RSK-3 is above it too and still waits for Ian.
	if _, err := st.AcceptRisk(as(rita), orgID, "RSK-2", "Residual risk covered by the cyber insurance policy until the portal rewrite ships."); err != nil {
		return fmt.Errorf("accept RSK-2: %w", err)
	}
	due := func(days int) string { return st.Now().AddDate(0, 0, days).Format(time.DateOnly) }
	for _, a := range []struct {
		risk string
		in   vigil.RiskActionInput
	}{
		{"RSK-1", vigil.RiskActionInput{Title: "Make backups immutable (object lock)", Owner: ian, DueDate: due(30), Status: vigil.RiskActionInProgress}},
		{"RSK-1", vigil.RiskActionInput{Title: "Segment the production network", Owner: rita, DueDate: due(90), Status: vigil.RiskActionPlanned}},
		{"RSK-2", vigil.RiskActionInput{Title: "Add a web application firewall", Owner: rita, DueDate: due(-20), Status: vigil.RiskActionDone}},
		{"RSK-3", vigil.RiskActionInput{Title: "Roll out security keys to every employee", Owner: ian, DueDate: due(-5), Status: vigil.RiskActionInProgress}},
	} {
		if _, err := st.CreateRiskAction(ctx, orgID, a.risk, a.in); err != nil {
			return fmt.Errorf("action of %s: %w", a.risk, err)
		}
	}

	yes, no := true, false
	decide := func(ref string, applicable *bool, justification string, status vigil.SoAStatus, owner string) error {
		_, err := st.UpdateSoA(as(ian), orgID, ref, vigil.SoAUpdate{SetApplicable: applicable != nil, Applicable: applicable,
			Justification: &justification, Status: &status, Owner: &owner})
		if err != nil {
			return fmt.Errorf("soa %s: %w", ref, err)
		}
		return nil
	}
	type decision struct {
		ref           string
		applicable    *bool
		justification string
		status        vigil.SoAStatus
		owner         string
	}
	first := []decision{
		{"5.1", &yes, "The information security policy set is the basis of the ISMS.", vigil.SoAImplemented, ian},
		{"5.2", &yes, "Roles are assigned in the ISMS roles register.", vigil.SoAImplemented, ian},
		{"5.9", &yes, "The asset register is kept in Vigil.", vigil.SoAPartiallyImplemented, ian},
		{"5.15", &yes, "Access to customer data must be limited to need.", vigil.SoAPartiallyImplemented, rita},
		{"5.24", &yes, "Incidents must be handled consistently.", vigil.SoAPlanned, ian},
		{"6.1", &yes, "Staff handle customer data.", vigil.SoAImplemented, ada},
		{"7.6", &no, "No secure areas: the head office holds no servers or customer data.", vigil.SoANotStarted, ""},
		{"8.30", &no, "No development is outsourced.", vigil.SoANotStarted, ""},
		{"8.7", nil, "Endpoint protection on every laptop and server.", vigil.SoAImplemented, ada},
		{"8.13", nil, "Nightly backups of production.", vigil.SoAPartiallyImplemented, ian},
		{"8.5", nil, "", vigil.SoAPartiallyImplemented, ian},
	}
	for _, d := range first {
		if err := decide(d.ref, d.applicable, d.justification, d.status, d.owner); err != nil {
			return err
		}
	}
	if _, err := st.ApproveSoA(as(ian), orgID); err != nil {
		return fmt.Errorf("approve soa: %w", err)
	}
	// Work since version 1, not yet approved.
	later := []decision{
		{"8.13", nil, "Nightly backups of production.", vigil.SoAImplemented, ian},
		{"5.16", &yes, "Identities are managed centrally.", vigil.SoAPartiallyImplemented, ada},
		{"5.25", &yes, "Security events are assessed by the on-call engineer.", vigil.SoAPlanned, ian},
		{"5.26", &yes, "Incident response follows the runbook.", vigil.SoAPlanned, ian},
		{"6.2", &yes, "Contracts state security responsibilities.", vigil.SoAImplemented, ada},
		{"7.1", &yes, "The head office has a staffed reception.", vigil.SoAImplemented, ada},
		{"8.2", &yes, "Administrator rights are limited and reviewed.", vigil.SoAPartiallyImplemented, rita},
	}
	for _, d := range later {
		if err := decide(d.ref, d.applicable, d.justification, d.status, d.owner); err != nil {
			return err
		}
	}
	return nil
}
