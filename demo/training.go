package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
)

// seedTraining runs the yearly awareness campaign for everyone (half of
// them done) and a phishing refresher for the employee that is overdue, so
// training coverage is well below the 90 % a certification audit expects.
func seedTraining(ctx context.Context, st *store.Store, orgID string, people map[vigil.Role]string) error {
	mgr := pteAs(ctx, orgID, people, vigil.RoleISMSManager)
	now := st.Now()
	awareness, err := st.CreateTrainingCampaign(mgr, orgID, vigil.TrainingCampaignInput{
		Title: "Information security awareness " + now.Format("2006"),
		Description: "The yearly e-learning on the information-security policy, phishing, passwords and reporting incidents. " +
			"About 45 minutes; finish with the quiz.",
		AudienceRoles: []vigil.Role{vigil.RoleAdmin, vigil.RoleISMSManager, vigil.RoleRiskOwner, vigil.RoleInternalAuditor, vigil.RoleEmployee, vigil.RoleViewer},
		DueDate:       vigil.DayOf(now.AddDate(0, 0, 30)),
		Recurrence:    vigil.RecurYearly,
	})
	if err != nil {
		return fmt.Errorf("awareness campaign: %w", err)
	}
	if _, err := st.CreateTrainingCampaign(mgr, orgID, vigil.TrainingCampaignInput{
		Title:          "Phishing refresher",
		Description:    "A short refresher after a reported phishing click.",
		AudiencePeople: []string{people[vigil.RoleEmployee]},
		DueDate:        vigil.DayOf(now.AddDate(0, 0, -14)),
		Recurrence:     vigil.RecurNone,
	}); err != nil {
		return fmt.Errorf("phishing campaign: %w", err)
	}
	as, err := st.ListTrainingAssignments(ctx, orgID, store.TrainingAssignmentFilter{CampaignID: awareness.ID})
	if err != nil {
		return err
	}
	done := map[string]vigil.Role{people[vigil.RoleISMSManager]: vigil.RoleISMSManager, people[vigil.RoleRiskOwner]: vigil.RoleRiskOwner,
		people[vigil.RoleInternalAuditor]: vigil.RoleInternalAuditor}
	for i, a := range as {
		role, ok := done[a.UserID]
		if !ok {
			continue
		}
		c := vigil.TrainingCompletion{CompletedAt: now.Add(-time.Duration(i+2) * 24 * time.Hour), Evidence: "Quiz passed in the e-learning platform"}
		if _, err := st.CompleteTrainingAssignment(pteAs(ctx, orgID, people, role), orgID, a.ID, c); err != nil {
			return fmt.Errorf("complete training: %w", err)
		}
	}
	return nil
}
