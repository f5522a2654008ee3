package demo

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/export"
	"github.com/vigilhq/vigil/store"
)

// seedAudits adds a full certification cycle: the certificate issued 13
// months ago, the internal audit and the first surveillance audit done and
// reported (two findings: one closed and verified, one open), the next
// surveillance audit planned, a management review signed off, a change
// with its special audit, and the certification body's auditor invited
// for a window that has ended.
func seedAudits(ctx context.Context, st *store.Store, orgID string, people map[vigil.Role]string) error {
	now := st.Now()
	day := func(months, days int) string { return vigil.DayOf(now.AddDate(0, months, days)) }
	manager := pteAs(ctx, orgID, people, vigil.RoleISMSManager)
	auditor := pteAs(ctx, orgID, people, vigil.RoleInternalAuditor)
	admin := pteAs(ctx, orgID, people, vigil.RoleAdmin)
	owner := pteAs(ctx, orgID, people, vigil.RoleRiskOwner)
	render := func(r vigil.AuditReport) ([]byte, error) {
		var b bytes.Buffer
		err := export.AuditReportPDF(&b, r)
		return b.Bytes(), err
	}

	issue := day(-13, 0)
	if _, err := st.PutCertification(manager, orgID, vigil.CertificationInput{
		CertificationBody: "Certa Assurance Ltd", CertificateNumber: "ISMS-2025-0417",
		Scope:      "Development, operation and support of the Acme platform",
		Stage1Date: day(-16, 0), Stage1Outcome: vigil.OutcomePassed, Stage2Date: day(-14, 0), Stage2Outcome: vigil.OutcomePassedWithFindings,
		IssueDate: issue, SurveillanceIntervalMonths: 12,
	}); err != nil {
		return fmt.Errorf("certification: %w", err)
	}
	if _, err := st.PutAuditProgramme(manager, orgID, vigil.AuditProgrammeInput{
		CycleStart: issue,
		Objectives: vigil.TextList{"Audit every clause and applicable control at least once a year", "Audit logging and access control every six months"},
		Areas: []vigil.ProgrammeArea{
			{Ref: "A.8.15", FrequencyMonths: 6, Reason: "High risk: production access is logged here"},
			{Ref: "A.5.15", FrequencyMonths: 6, Reason: "Nonconformity at the last surveillance audit"},
			{Ref: "Change management", Kind: "process", Owner: people[vigil.RoleISMSManager]},
		},
	}); err != nil {
		return fmt.Errorf("audit programme: %w", err)
	}

	// The yearly internal audit over clauses 4 to 10, all conform.
	ia, err := st.CreateAudit(manager, orgID, vigil.AuditInput{Type: vigil.AuditInternal, Title: "Internal audit of the management system",
		Criteria:     "ISO/IEC 27001:2022 clauses 4-10; Acme information-security policy",
		PlannedStart: day(-3, 0), PlannedEnd: day(-3, 2), ActualStart: day(-3, 0), ActualEnd: day(-3, 2),
		LeadAuditor: people[vigil.RoleInternalAuditor], Scope: vigil.AuditScope{Requirements: []string{"4", "5", "6", "7", "8", "9", "10"}}}, store.AuditWrite{})
	if err != nil {
		return fmt.Errorf("internal audit: %w", err)
	}
	if err := allResults(auditor, st, orgID, ia.ID, vigil.ResultConform); err != nil {
		return err
	}
	if _, err := st.IssueAuditReport(auditor, orgID, ia.ID, "The management system conforms to clauses 4 to 10; no nonconformity was found.", render); err != nil {
		return fmt.Errorf("internal audit report: %w", err)
	}

	// The first surveillance audit, with two findings.
	sv, err := st.CreateAudit(manager, orgID, vigil.AuditInput{Type: vigil.AuditSurveillance, Title: "Surveillance audit 1",
		Criteria:     "ISO/IEC 27001:2022; certification scope",
		PlannedStart: day(-1, -14), PlannedEnd: day(-1, -13), ActualStart: day(-1, -14), ActualEnd: day(-1, -13),
		CertificationBody: "Certa Assurance Ltd", BodyAuditors: []string{"Lena Lead (Certa)"},
		Scope: vigil.AuditScope{Requirements: []string{"9.2", "10", "A.5.15", "A.8.15"}}}, store.AuditWrite{})
	if err != nil {
		return fmt.Errorf("surveillance audit: %w", err)
	}
	items, err := st.Checklist(manager, orgID, sv.ID)
	if err != nil {
		return err
	}
	var closedNC, openNC string
	for _, it := range items {
		result, notes := vigil.ResultConform, "Sampled records; conform."
		switch it.Ref {
		case "A.5.15":
			result, notes = vigil.ResultMinorNC, "Two leavers kept VPN access for three weeks after leaving."
		case "A.8.15":
			result, notes = vigil.ResultMinorNC, "Application logs are kept 7 days; the logging policy requires 90."
		}
		got, err := st.UpdateChecklistItem(manager, orgID, sv.ID, it.ID, vigil.ChecklistUpdate{Result: &result, Notes: &notes})
		if err != nil {
			return fmt.Errorf("surveillance result %s: %w", it.Ref, err)
		}
		switch it.Ref {
		case "A.5.15":
			closedNC = got.Finding
		case "A.8.15":
			openNC = got.Finding
		}
	}
	ca1, err := st.CreateCorrectiveAction(manager, orgID, vigil.CorrectiveActionInput{Finding: closedNC,
		Correction: "Revoked the two leavers' VPN access", RootCause: "Leaver tickets did not reach the network team",
		Action: "Automate deprovisioning from the HR system", Owner: people[vigil.RoleRiskOwner], DueDate: day(0, -7)})
	if err != nil {
		return fmt.Errorf("corrective action: %w", err)
	}
	st1, st2, st3 := vigil.ActionInProgress, vigil.ActionDone, vigil.ActionVerifiedEffective
	if _, err := st.UpdateCorrectiveAction(owner, orgID, ca1.ID, vigil.CorrectiveActionUpdate{Status: &st1}); err != nil {
		return err
	}
	if _, err := st.UpdateCorrectiveAction(owner, orgID, ca1.ID, vigil.CorrectiveActionUpdate{Status: &st2}); err != nil {
		return err
	}
	notes := "Sampled five leavers since: all deprovisioned within a day."
	if _, err := st.UpdateCorrectiveAction(auditor, orgID, ca1.ID, vigil.CorrectiveActionUpdate{Status: &st3, VerificationNotes: &notes}); err != nil {
		return fmt.Errorf("verify corrective action: %w", err)
	}
	ca2, err := st.CreateCorrectiveAction(manager, orgID, vigil.CorrectiveActionInput{Finding: openNC,
		Correction: "Raised retention on the main application", RootCause: "Retention left at the vendor default",
		Action: "Set retention in configuration management for every service", Owner: people[vigil.RoleAdmin], DueDate: day(1, 0)})
	if err != nil {
		return err
	}
	if _, err := st.UpdateCorrectiveAction(admin, orgID, ca2.ID, vigil.CorrectiveActionUpdate{Status: &st1}); err != nil {
		return err
	}
	if _, err := st.IssueAuditReport(manager, orgID, sv.ID, "The ISMS remains effective; two minor nonconformities on access removal and log retention.", render); err != nil {
		return fmt.Errorf("surveillance report: %w", err)
	}
	// The certification body's lead auditor had read access for the audit days.
	from := now.AddDate(0, -1, -15).Truncate(24 * time.Hour)
	if _, _, err := st.InviteAuditGuest(manager, orgID, sv.ID, vigil.AuditGuestInput{Email: "lena@certa.test", Name: "Lena Lead",
		ValidFrom: from.Format(time.RFC3339), ValidUntil: from.AddDate(0, 0, 3).Format(time.RFC3339)}); err != nil {
		return fmt.Errorf("guest: %w", err)
	}

	// The next surveillance audit, planned before its due date.
	if _, err := st.CreateAudit(manager, orgID, vigil.AuditInput{Type: vigil.AuditSurveillance, Title: "Surveillance audit 2",
		PlannedStart: day(10, 0), PlannedEnd: day(10, 1), CertificationBody: "Certa Assurance Ltd",
		Scope: vigil.AuditScope{Requirements: []string{"9", "10", "A.5", "A.8"}}}, store.AuditWrite{}); err != nil {
		return fmt.Errorf("next surveillance: %w", err)
	}

	// A significant change and the special audit it raised.
	ch, err := st.CreateChange(manager, orgID, vigil.ChangeInput{Title: "Moved CI/CD to a new hosting provider", ChangedOn: day(0, -20),
		Reason: "The previous provider ended the service", Significant: true})
	if err != nil {
		return err
	}
	if _, err := st.CreateAudit(manager, orgID, vigil.AuditInput{Type: vigil.AuditSpecial, Title: "Special audit after the CI/CD move",
		PlannedStart: day(0, 14), PlannedEnd: day(0, 15), LeadAuditor: people[vigil.RoleInternalAuditor], Change: ch.ID,
		Scope: vigil.AuditScope{Requirements: []string{"A.8.25", "A.8.31", "A.8.32"}}}, store.AuditWrite{}); err != nil {
		return fmt.Errorf("special audit: %w", err)
	}

	// The management review, signed off.
	mr, err := st.CreateManagementReview(manager, orgID, vigil.ManagementReviewInput{Title: "Management review " + day(-2, 0)[:4],
		MeetingDate: day(-2, 0), Attendees: vigil.TextList{"Ada Admin (CEO)", "Ian Manager (CISO)", "Rita Owner"},
		Decisions: vigil.TextList{"Automate leaver deprovisioning", "Budget approved for central log retention"},
		Changes:   vigil.TextList{"Add the new hosting provider to the supplier register"},
		Actions:   []vigil.ReviewAction{{Description: "Central log retention live", Owner: people[vigil.RoleAdmin], DueDate: day(2, 0)}}})
	if err != nil {
		return fmt.Errorf("management review: %w", err)
	}
	if _, err := st.SignOffManagementReview(admin, orgID, mr.ID); err != nil {
		return fmt.Errorf("sign off review: %w", err)
	}
	return nil
}

// allResults sets every checklist item of an audit to r.
func allResults(ctx context.Context, st *store.Store, orgID, auditID string, r vigil.ChecklistResult) error {
	items, err := st.Checklist(ctx, orgID, auditID)
	if err != nil {
		return err
	}
	notes := "Documented information reviewed and records sampled."
	for _, it := range items {
		if _, err := st.UpdateChecklistItem(ctx, orgID, auditID, it.ID, vigil.ChecklistUpdate{Result: &r, Notes: &notes}); err != nil {
			return fmt.Errorf("result %s: %w", it.Ref, err)
		}
	}
	return nil
}
