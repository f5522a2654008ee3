package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
)

// seedSuppliers records four suppliers. Review dates are set relative to
// today, so the hosting provider is always overdue for its review and the
// others are not, whenever the demo is created.
func seedSuppliers(ctx context.Context, st *store.Store, orgID string, people map[vigil.Role]string) error {
	today := st.Now().UTC()
	day := func(months int) string { return today.AddDate(0, months, 0).Format(time.DateOnly) }
	for _, in := range []vigil.SupplierInput{
		{Name: "Nimbus Cloud", Services: "Infrastructure as a service: compute, storage and managed databases for the customer portal",
			DataAccessed: "All customer data (encrypted at rest; provider staff have no routine access)", Criticality: vigil.SupplierCritical,
			ContractSecurityClauses: vigil.TextList{"Data processing agreement (GDPR Art. 28)", "ISO/IEC 27001 and SOC 2 reports yearly", "Data kept in EU regions", "Breach notice within 24 hours"},
			Owner:                   people[vigil.RoleISMSManager], LastReview: day(-14), NextReview: day(-2)},
		{Name: "PayFlow", Services: "Card payments for customer subscriptions",
			DataAccessed: "Customer names and billing contacts; card data stays with PayFlow", Criticality: vigil.SupplierHigh,
			ContractSecurityClauses: vigil.TextList{"PCI DSS attestation of compliance yearly", "Data processing agreement"},
			Owner:                   people[vigil.RoleRiskOwner], LastReview: day(-5), NextReview: day(7)},
		{Name: "HelpDeskly", Services: "Support ticketing (SaaS)",
			DataAccessed: "Customer contact details and ticket contents", Criticality: vigil.SupplierMedium,
			ContractSecurityClauses: vigil.TextList{"Data processing agreement", "Single sign-on and MFA for our agents"},
			Owner:                   people[vigil.RoleISMSManager], LastReview: day(-3), NextReview: day(9)},
		{Name: "Brightside Cleaning", Services: "Office cleaning in London",
			DataAccessed: "Physical access to the office out of hours; no system access", Criticality: vigil.SupplierLow,
			Owner: people[vigil.RoleAdmin], NextReview: day(4)},
	} {
		if _, err := st.CreateSupplier(ctx, orgID, in); err != nil {
			return fmt.Errorf("supplier %s: %w", in.Name, err)
		}
	}
	return nil
}
