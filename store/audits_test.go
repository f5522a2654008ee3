package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// auditFixture is an organisation with an ISMS manager, an auditor and a
// colleague, and one of each thing an auditor could own.
type auditFixture struct {
	s                   *store.Store
	org                 vigil.Org
	manager, bob, carol vigil.Member
	asOf                func(m vigil.Member) context.Context
	admin               context.Context
}

func newAuditFixture(t *testing.T, s *store.Store) auditFixture {
	t.Helper()
	sys := ctxAs(vigil.SystemActor("test"))
	org, err := s.CreateOrg(sys, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	add := func(email string, role vigil.Role) vigil.Member {
		m, err := s.AddMember(sys, org.ID, vigil.NewMember{Email: email, Name: strings.Split(email, "@")[0], Role: role})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	f := auditFixture{s: s, org: org}
	f.manager = add("ian@acme.test", vigil.RoleAdmin)
	f.bob = add("bob@acme.test", vigil.RoleInternalAuditor)
	f.carol = add("carol@acme.test", vigil.RoleRiskOwner)
	add("dana@acme.test", vigil.RoleInternalAuditor) // owns nothing
	f.asOf = func(m vigil.Member) context.Context {
		return ctxAs(vigil.Actor{Type: vigil.ActorUser, ID: m.ID, UserID: m.ID, Email: m.Email, OrgID: org.ID, Role: m.Role})
	}
	f.admin = f.asOf(f.manager)
	return f
}

func conflictsOf(err error) []string {
	var e *vigil.Error
	if !errors.As(err, &e) || e.Code != vigil.EConflict {
		return nil
	}
	return e.Conflicts
}

func TestAuditImpartiality(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newAuditFixture(t, s)
		ctx := f.admin
		lvl := func(n int) *int { return &n }
		asset, err := s.CreateAsset(ctx, f.org.ID, vigil.AssetInput{Name: "CRM", Type: vigil.AssetType("software"), Owner: "bob@acme.test",
			Classification: vigil.Classification("internal"), Confidentiality: lvl(2), Integrity: lvl(2), Availability: lvl(2)})
		if err != nil {
			t.Fatal(err)
		}
		other, err := s.CreateAsset(ctx, f.org.ID, vigil.AssetInput{Name: "Wiki", Type: vigil.AssetType("software"), Owner: "carol@acme.test",
			Classification: vigil.Classification("internal"), Confidentiality: lvl(1), Integrity: lvl(1), Availability: lvl(1)})
		if err != nil {
			t.Fatal(err)
		}
		risk, err := s.CreateRisk(ctx, f.org.ID, vigil.RiskInput{Title: "Wiki leak", Assets: []string{other.ID}, Owner: "bob@acme.test",
			Likelihood: lvl(2), Impact: lvl(2), Treatment: vigil.RiskTreatment("modify"), Controls: []string{"8.12"}})
		if err != nil {
			t.Fatal(err)
		}
		bobEmail := "bob@acme.test"
		if _, err := s.UpdateSoA(ctx, f.org.ID, "8.15", vigil.SoAUpdate{Owner: &bobEmail}); err != nil {
			t.Fatal(err)
		}
		pol, err := s.CreatePolicy(ctx, f.org.ID, vigil.PolicyInput{Title: "Access control", Kind: vigil.PolicyAccessControl, Owner: "bob@acme.test", Approver: "carol@acme.test", Body: "Least privilege."})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutAuditProgramme(ctx, f.org.ID, vigil.AuditProgrammeInput{Areas: []vigil.ProgrammeArea{{Ref: "Change management", Kind: "process", Owner: "bob@acme.test"}}}); err != nil {
			t.Fatal(err)
		}
		base := vigil.AuditInput{Type: vigil.AuditInternal, Title: "Internal audit", PlannedStart: "2026-12-01", PlannedEnd: "2026-12-03", LeadAuditor: "bob@acme.test"}
		for _, tc := range []struct {
			name  string
			scope vigil.AuditScope
			want  string
		}{
			{"asset", vigil.AuditScope{Assets: []string{asset.Ref}}, "auditor bob@acme.test owns " + asset.Ref + " in scope"},
			{"risk via asset", vigil.AuditScope{Assets: []string{other.Ref}}, "auditor bob@acme.test owns " + risk.Ref + " in scope"},
			{"risk via control", vigil.AuditScope{Requirements: []string{"A.8.12"}}, "auditor bob@acme.test owns " + risk.Ref + " in scope"},
			{"soa control", vigil.AuditScope{Requirements: []string{"8.15"}}, "auditor bob@acme.test owns A.8.15 in scope"},
			{"policy", vigil.AuditScope{Requirements: []string{"A.5.15"}}, "auditor bob@acme.test owns " + pol.Ref + " in scope"},
			{"process", vigil.AuditScope{Processes: []string{"change management"}}, "auditor bob@acme.test owns process Change management in scope"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := base
				in.Scope = tc.scope
				_, err := s.CreateAudit(ctx, f.org.ID, in, store.AuditWrite{MayOverride: true})
				if got := conflictsOf(err); !slices.Contains(got, tc.want) {
					t.Fatalf("conflicts = %v (err %v); want %q", got, err, tc.want)
				}
				// Another auditor is impartial.
				in.LeadAuditor = "dana@acme.test"
				a, err := s.CreateAudit(ctx, f.org.ID, in, store.AuditWrite{})
				if err != nil {
					t.Fatalf("impartial auditor refused: %v", err)
				}
				// Adding bob later is refused too.
				bob := []string{"bob@acme.test"}
				if _, err := s.UpdateAudit(ctx, f.org.ID, a.ID, vigil.AuditUpdate{Auditors: &bob}, store.AuditWrite{}); !slices.Contains(conflictsOf(err), tc.want) {
					t.Fatalf("update conflicts = %v", err)
				}
			})
		}

		// Only an admin may override, with a reason that reaches the trail.
		in := base
		in.Scope = vigil.AuditScope{Assets: []string{asset.ID}}
		in.ImpartialityOverride = "Only auditor on site; reviewed by the CISO."
		if _, err := s.CreateAudit(ctx, f.org.ID, in, store.AuditWrite{}); vigil.ErrorCode(err) != vigil.EForbidden {
			t.Fatalf("override by non-admin: %v", err)
		}
		a, err := s.CreateAudit(ctx, f.org.ID, in, store.AuditWrite{MayOverride: true})
		if err != nil {
			t.Fatal(err)
		}
		if a.ImpartialityOverride == "" || !strings.Contains(vigil.ImpartialityStatement(a), "CISO") {
			t.Fatalf("override not kept: %+v", a)
		}
		entries, err := s.ListTrail(ctx, f.org.ID, vigil.TrailFilter{EntityType: "audit", EntityID: a.ID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(entries, func(e vigil.TrailEntry) bool { return e.Action == "audit.impartiality_override" }) {
			t.Fatalf("no override in the trail: %+v", entries)
		}
	})
}

func TestAuditBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newAuditFixture(t, s)
		ok := vigil.AuditInput{Type: vigil.AuditInternal, Title: "IA", PlannedStart: "2026-12-01", LeadAuditor: "bob@acme.test", Scope: vigil.AuditScope{Requirements: []string{"9.2"}}}
		for _, tc := range []struct {
			name  string
			edit  func(*vigil.AuditInput)
			field string
		}{
			{"backwards", func(in *vigil.AuditInput) { in.PlannedEnd = "2026-11-30" }, "planned_end"},
			{"actual backwards", func(in *vigil.AuditInput) { in.ActualStart, in.ActualEnd = "2026-12-02", "2026-12-01" }, "actual_end"},
			{"bad type", func(in *vigil.AuditInput) { in.Type = "informal" }, "type"},
			{"unknown ref", func(in *vigil.AuditInput) { in.Scope.Requirements = []string{"A.9.9"} }, "scope.requirements[0]"},
			{"empty scope", func(in *vigil.AuditInput) { in.Scope = vigil.AuditScope{} }, "scope"},
			{"external without body", func(in *vigil.AuditInput) { in.Type = vigil.AuditSurveillance }, "certification_body"},
			{"unknown auditor", func(in *vigil.AuditInput) { in.LeadAuditor = "nobody@acme.test" }, "lead_auditor"},
			{"unknown asset", func(in *vigil.AuditInput) { in.Scope.Assets = []string{"AST-99"} }, "scope.assets[0]"},
		} {
			in := ok
			tc.edit(&in)
			if _, err := s.CreateAudit(f.admin, f.org.ID, in, store.AuditWrite{}); ismsField(err) != tc.field {
				t.Errorf("%s: err = %v; want invalid %s", tc.name, err, tc.field)
			}
		}
		if _, err := s.CreateFinding(f.admin, f.org.ID, vigil.FindingInput{Audit: "AUD-1", Kind: vigil.FindingMinorNC}); ismsField(err) != "requirement" {
			t.Errorf("finding without requirement: %v", err)
		}
	})
}

func TestAuditChecklistFindingsActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newAuditFixture(t, s)
		ctx := f.admin
		a, err := s.CreateAudit(ctx, f.org.ID, vigil.AuditInput{Type: vigil.AuditInternal, Title: "Audit of 9.2 and logging", PlannedStart: "2026-12-01",
			LeadAuditor: "bob@acme.test", Scope: vigil.AuditScope{Requirements: []string{"clause:9.2", "8.15"}, Processes: []string{"Backup"}}}, store.AuditWrite{})
		if err != nil {
			t.Fatal(err)
		}
		if a.Ref != "AUD-1" || a.Status != vigil.AuditPlanned || !slices.Equal(a.Scope.Requirements, []string{"9.2", "A.8.15"}) {
			t.Fatalf("audit = %+v", a)
		}
		items, err := s.Checklist(ctx, f.org.ID, a.Ref)
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for _, it := range items {
			refs = append(refs, it.Ref)
			if it.Prompt == "" {
				t.Errorf("%s has no prompt", it.Ref)
			}
		}
		if want := []string{"9.2", "9.2.1", "9.2.2", "A.8.15", "Backup"}; !slices.Equal(refs, want) {
			t.Fatalf("checklist = %v; want %v", refs, want)
		}
		bad := vigil.ChecklistResult("meh")
		if _, err := s.UpdateChecklistItem(ctx, f.org.ID, a.ID, items[3].ID, vigil.ChecklistUpdate{Result: &bad}); ismsField(err) != "result" {
			t.Fatalf("bad result: %v", err)
		}
		major, notes := vigil.ResultMajorNC, "Logs are kept for 3 days only."
		it, err := s.UpdateChecklistItem(ctx, f.org.ID, a.ID, items[3].ID, vigil.ChecklistUpdate{Result: &major, Notes: &notes})
		if err != nil || it.Finding == "" {
			t.Fatalf("major result: %+v %v", it, err)
		}
		findings, err := s.ListFindings(ctx, f.org.ID, vigil.FindingFilter{Audit: a.ID}, "", 10)
		if err != nil || len(findings) != 1 {
			t.Fatalf("findings = %v %v", findings, err)
		}
		nc := findings[0]
		if nc.Ref != "NC-1" || nc.Kind != vigil.FindingMajorNC || nc.Requirement != "A.8.15" || nc.Status != vigil.FindingOpen || nc.Description != notes {
			t.Fatalf("finding = %+v", nc)
		}
		// An internal audit's finding has no body deadline.
		if nc.Deadline != "" {
			t.Fatalf("deadline = %q", nc.Deadline)
		}

		// Corrective action: the owner cannot verify their own action.
		ca, err := s.CreateCorrectiveAction(ctx, f.org.ID, vigil.CorrectiveActionInput{Finding: nc.Ref, Action: "Keep logs 90 days", Owner: "carol@acme.test", DueDate: "2026-12-31"})
		if err != nil {
			t.Fatal(err)
		}
		st := func(v vigil.ActionStatus) *vigil.ActionStatus { return &v }
		carol := f.asOf(f.carol)
		if _, err := s.UpdateCorrectiveAction(carol, f.org.ID, ca.ID, vigil.CorrectiveActionUpdate{Status: st(vigil.ActionDone)}); ismsField(err) != "root_cause" {
			t.Fatalf("done without root cause: %v", err)
		}
		cause := "Default retention never changed"
		if _, err := s.UpdateCorrectiveAction(carol, f.org.ID, ca.ID, vigil.CorrectiveActionUpdate{Status: st(vigil.ActionDone), RootCause: &cause}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateCorrectiveAction(carol, f.org.ID, ca.ID, vigil.CorrectiveActionUpdate{Status: st(vigil.ActionVerifiedEffective)}); vigil.ErrorCode(err) != vigil.EForbidden {
			t.Fatalf("owner verifying own action: %v", err)
		}
		if _, err := s.UpdateCorrectiveAction(ctx, f.org.ID, ca.ID, vigil.CorrectiveActionUpdate{Status: st(vigil.ActionOpen)}); ismsField(err) != "status" {
			t.Fatalf("done → open: %v", err)
		}
		// Ineffective reopens the finding (it stays open); a second action,
		// verified effective by someone else, closes it.
		if got, err := s.UpdateCorrectiveAction(ctx, f.org.ID, ca.ID, vigil.CorrectiveActionUpdate{Status: st(vigil.ActionIneffective)}); err != nil || got.VerifiedBy != f.manager.ID {
			t.Fatalf("ineffective: %+v %v", got, err)
		}
		if fd, _ := s.GetFinding(ctx, f.org.ID, nc.ID); fd.Status != vigil.FindingOpen {
			t.Fatalf("finding after ineffective = %s", fd.Status)
		}
		ca2, err := s.CreateCorrectiveAction(ctx, f.org.ID, vigil.CorrectiveActionInput{Finding: nc.ID, RootCause: cause, Action: "Retention set in config management", Owner: "carol@acme.test", DueDate: "2027-01-31"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateCorrectiveAction(carol, f.org.ID, ca2.ID, vigil.CorrectiveActionUpdate{Status: st(vigil.ActionDone)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateCorrectiveAction(ctx, f.org.ID, ca2.ID, vigil.CorrectiveActionUpdate{Status: st(vigil.ActionVerifiedEffective)}); err != nil {
			t.Fatal(err)
		}
		if fd, _ := s.GetFinding(ctx, f.org.ID, nc.ID); fd.Status != vigil.FindingClosed || fd.ClosedAt == nil {
			t.Fatalf("finding after effective action = %+v", fd)
		}
		// A result with a corrective action cannot be withdrawn.
		conform := vigil.ResultConform
		if _, err := s.UpdateChecklistItem(ctx, f.org.ID, a.ID, items[3].ID, vigil.ChecklistUpdate{Result: &conform}); vigil.ErrorCode(err) != vigil.EConflict {
			t.Fatalf("withdraw acted-on finding: %v", err)
		}
		// One without is withdrawn.
		ofi := vigil.ResultOFI
		it, err = s.UpdateChecklistItem(ctx, f.org.ID, a.ID, items[0].ID, vigil.ChecklistUpdate{Result: &ofi})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateChecklistItem(ctx, f.org.ID, a.ID, items[0].ID, vigil.ChecklistUpdate{Result: &conform}); err != nil {
			t.Fatal(err)
		}
		if fd, _ := s.GetFinding(ctx, f.org.ID, it.Finding); fd.Status != vigil.FindingWithdrawn {
			t.Fatalf("withdrawn? %+v", fd)
		}

		// A certification body's major gets the 90-day deadline.
		ext, err := s.CreateAudit(ctx, f.org.ID, vigil.AuditInput{Type: vigil.AuditSurveillance, Title: "Surveillance 1", PlannedStart: "2027-01-10",
			CertificationBody: "CertCo", BodyAuditors: []string{"Rita Auditor"}, Scope: vigil.AuditScope{Requirements: []string{"A.5"}}}, store.AuditWrite{})
		if err != nil {
			t.Fatal(err)
		}
		bf, err := s.CreateFinding(ctx, f.org.ID, vigil.FindingInput{Audit: ext.Ref, Requirement: "A.5.23", Kind: vigil.FindingMajorNC, Description: "Cloud services not assessed"})
		if err != nil {
			t.Fatal(err)
		}
		if want := s.Now().UTC().AddDate(0, 0, 90).Format(time.DateOnly); bf.Deadline != want {
			t.Fatalf("body deadline = %q; want %q", bf.Deadline, want)
		}
	})
}

func TestAuditReportImmutable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newAuditFixture(t, s)
		ctx := f.admin
		a, err := s.CreateAudit(ctx, f.org.ID, vigil.AuditInput{Type: vigil.AuditInternal, Title: "Full ISMS audit", PlannedStart: "2026-11-01", PlannedEnd: "2026-11-03",
			ActualStart: "2026-11-01", ActualEnd: "2026-11-03", LeadAuditor: "bob@acme.test",
			Scope: vigil.AuditScope{Requirements: []string{"4", "5", "6", "7", "8", "9", "10"}}}, store.AuditWrite{})
		if err != nil {
			t.Fatal(err)
		}
		render := func(r vigil.AuditReport) ([]byte, error) { return json.Marshal(r) }
		if _, err := s.IssueAuditReport(ctx, f.org.ID, a.ID, " ", render); ismsField(err) != "summary" {
			t.Fatalf("empty summary: %v", err)
		}
		got, err := s.IssueAuditReport(ctx, f.org.ID, a.ID, "The ISMS conforms.", render)
		if err != nil {
			t.Fatal(err)
		}
		_, pdf, digest, err := s.AuditReportPDF(ctx, f.org.ID, a.Ref)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(pdf)
		if hex.EncodeToString(sum[:]) != digest || got.ReportSHA256 != digest || got.Status != vigil.AuditReported {
			t.Fatalf("digest %s, audit %+v", digest, got)
		}
		var rep vigil.AuditReport
		if err := json.Unmarshal(pdf, &rep); err != nil || rep.Summary != "The ISMS conforms." || len(rep.Team) != 1 || !strings.Contains(rep.Team[0], "bob@acme.test") {
			t.Fatalf("report = %+v %v", rep, err)
		}
		entries, err := s.ListTrail(ctx, f.org.ID, vigil.TrailFilter{EntityType: "audit", EntityID: a.ID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(entries, func(e vigil.TrailEntry) bool {
			return e.Action == "audit.report_issued" && strings.Contains(string(e.Changes), digest)
		}) {
			t.Fatalf("no report hash in the trail")
		}
		title := "Changed"
		for name, err := range map[string]error{
			"reissue": func() error { _, err := s.IssueAuditReport(ctx, f.org.ID, a.ID, "Again", render); return err }(),
			"update": func() error {
				_, err := s.UpdateAudit(ctx, f.org.ID, a.ID, vigil.AuditUpdate{Title: &title}, store.AuditWrite{})
				return err
			}(),
			"delete": s.DeleteAudit(ctx, f.org.ID, a.ID),
			"checklist": func() error {
				items, _ := s.Checklist(ctx, f.org.ID, a.ID)
				r := vigil.ResultConform
				_, err := s.UpdateChecklistItem(ctx, f.org.ID, a.ID, items[0].ID, vigil.ChecklistUpdate{Result: &r})
				return err
			}(),
		} {
			if vigil.ErrorCode(err) != vigil.EConflict {
				t.Errorf("%s after issue: %v; want conflict", name, err)
			}
		}
		// The internal-audit readiness check now passes: the audit covered clauses 4-10.
		rd, err := s.Readiness(ctx, f.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rd.Checks {
			if c.ID == vigil.CheckInternalAudit && !c.Passed {
				t.Fatalf("internal audit check = %+v", c)
			}
		}
	})
}

func TestAuditCoverage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newAuditFixture(t, s)
		ctx := f.admin
		no := false
		just := "No offices"
		if _, err := s.UpdateSoA(ctx, f.org.ID, "7.1", vigil.SoAUpdate{SetApplicable: true, Applicable: &no, Justification: &just}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutAuditProgramme(ctx, f.org.ID, vigil.AuditProgrammeInput{CycleStart: "2026-01-01", Objectives: vigil.TextList{"Cover the ISMS yearly"},
			Areas: []vigil.ProgrammeArea{{Ref: "A.8.15", FrequencyMonths: 6, Reason: "High risk"}, {Ref: "Backup", Kind: "process"}}}); err != nil {
			t.Fatal(err)
		}
		done, err := s.CreateAudit(ctx, f.org.ID, vigil.AuditInput{Type: vigil.AuditInternal, Title: "Clause 9", PlannedStart: "2026-03-01", ActualStart: "2026-03-01", ActualEnd: "2026-03-02",
			LeadAuditor: "bob@acme.test", Scope: vigil.AuditScope{Requirements: []string{"9"}}}, store.AuditWrite{})
		if err != nil {
			t.Fatal(err)
		}
		items, _ := s.Checklist(ctx, f.org.ID, done.ID)
		conform, skipped := vigil.ResultConform, vigil.ResultNotAudited
		for _, it := range items {
			r := &conform
			if it.Ref == "9.3.3" {
				r = &skipped
			}
			if _, err := s.UpdateChecklistItem(ctx, f.org.ID, done.ID, it.ID, vigil.ChecklistUpdate{Result: r}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateAudit(ctx, f.org.ID, vigil.AuditInput{Type: vigil.AuditInternal, Title: "Logging", PlannedStart: "2026-12-10",
			LeadAuditor: "bob@acme.test", Scope: vigil.AuditScope{Requirements: []string{"A.8.15"}, Processes: []string{"backup"}}}, store.AuditWrite{}); err != nil {
			t.Fatal(err)
		}
		// An audit before the cycle does not count.
		if _, err := s.CreateAudit(ctx, f.org.ID, vigil.AuditInput{Type: vigil.AuditInternal, Title: "Old", PlannedStart: "2025-06-01",
			LeadAuditor: "bob@acme.test", Scope: vigil.AuditScope{Requirements: []string{"4"}}}, store.AuditWrite{}); err != nil {
			t.Fatal(err)
		}
		cov, err := s.AuditCoverage(ctx, f.org.ID, "2026-11-28")
		if err != nil {
			t.Fatal(err)
		}
		status := map[string]vigil.CoverageItem{}
		for _, it := range cov.Items {
			status[it.Kind+":"+it.Ref] = it
		}
		for key, want := range map[string]vigil.CoverageStatus{
			"clause:9.2": vigil.CoverageAudited, "clause:9.3.2": vigil.CoverageAudited, "clause:9.3.3": vigil.CoverageNotCovered,
			"control:A.8.15": vigil.CoveragePlanned, "process:Backup": vigil.CoveragePlanned,
			"clause:4.1": vigil.CoverageNotCovered, "control:A.5.1": vigil.CoverageNotCovered,
		} {
			if got := status[key]; got.Status != want {
				t.Errorf("%s = %+v; want %s", key, got, want)
			}
		}
		if _, ok := status["control:A.7.1"]; ok {
			t.Error("a control excluded in the SoA is in the programme")
		}
		if it := status["control:A.8.15"]; it.FrequencyMonths != 6 || it.NextDue != "2026-07-01" || !it.Overdue {
			t.Errorf("A.8.15 = %+v", it)
		}
		if it := status["clause:9.2"]; it.LastAudited != "2026-03-02" || it.NextDue != "2027-03-02" || it.Overdue {
			t.Errorf("9.2 = %+v", it)
		}
		if cov.CycleEnd != "2029-01-01" || cov.Audited+cov.Planned+cov.NotCovered != len(cov.Items) || len(cov.Items) != 34+92+1 {
			t.Errorf("coverage counts: %d/%d/%d of %d, end %s", cov.Audited, cov.Planned, cov.NotCovered, len(cov.Items), cov.CycleEnd)
		}
	})
}

func TestManagementReview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newAuditFixture(t, s)
		ctx := f.admin
		if _, err := s.CreateManagementReview(ctx, f.org.ID, vigil.ManagementReviewInput{Title: "MR"}); ismsField(err) != "meeting_date" {
			t.Fatalf("no date: %v", err)
		}
		m, err := s.CreateManagementReview(ctx, f.org.ID, vigil.ManagementReviewInput{Title: "Annual review 2026", MeetingDate: "2026-11-20",
			Attendees: vigil.TextList{"CEO", "CISO"}, Actions: []vigil.ReviewAction{{Description: "Budget for SIEM", Owner: "carol@acme.test", DueDate: "2027-03-01"}}})
		if err != nil {
			t.Fatal(err)
		}
		if m.Ref != "MR-1" || m.Status != vigil.ReviewDraft || m.Actions[0].Owner != f.carol.ID || m.Actions[0].Status != "open" {
			t.Fatalf("review = %+v", m)
		}
		if _, err := s.SignOffManagementReview(ctx, f.org.ID, m.ID); ismsField(err) != "decisions" {
			t.Fatalf("sign-off without decisions: %v", err)
		}
		// Live inputs see a new open major nonconformity.
		a, err := s.CreateAudit(ctx, f.org.ID, vigil.AuditInput{Type: vigil.AuditInternal, Title: "IA", PlannedStart: "2026-11-01", ActualStart: "2026-11-01", ActualEnd: "2026-11-01", LeadAuditor: "bob@acme.test",
			Scope: vigil.AuditScope{Requirements: []string{"A.5.1"}}}, store.AuditWrite{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateFinding(ctx, f.org.ID, vigil.FindingInput{Audit: a.ID, Requirement: "A.5.1", Kind: vigil.FindingMajorNC}); err != nil {
			t.Fatal(err)
		}
		m, err = s.GetManagementReview(ctx, f.org.ID, m.Ref)
		if err != nil || m.Inputs.Nonconformities.Open != 1 || len(m.Inputs.Nonconformities.OpenMajors) != 1 {
			t.Fatalf("inputs = %+v %v", m.Inputs, err)
		}
		dec := vigil.TextList{"Fund a SIEM"}
		if _, err := s.UpdateManagementReview(ctx, f.org.ID, m.ID, vigil.ManagementReviewUpdate{Decisions: &dec}); err != nil {
			t.Fatal(err)
		}
		signed, err := s.SignOffManagementReview(ctx, f.org.ID, m.ID)
		if err != nil || signed.Status != vigil.ReviewSignedOff || signed.SignedOffBy != f.manager.ID || signed.Inputs.Nonconformities.Open != 1 {
			t.Fatalf("signed = %+v %v", signed, err)
		}
		notes := "late"
		if _, err := s.UpdateManagementReview(ctx, f.org.ID, m.ID, vigil.ManagementReviewUpdate{Notes: &notes}); vigil.ErrorCode(err) != vigil.EConflict {
			t.Fatalf("update after sign-off: %v", err)
		}
		if err := s.DeleteManagementReview(ctx, f.org.ID, m.ID); vigil.ErrorCode(err) != vigil.EConflict {
			t.Fatalf("delete after sign-off: %v", err)
		}
		// The next review sees the previous one's actions.
		next, err := s.CreateManagementReview(ctx, f.org.ID, vigil.ManagementReviewInput{Title: "Next", MeetingDate: "2027-11-20"})
		if err != nil || len(next.Inputs.PreviousActions) != 1 || next.Inputs.Since != "2026-11-20" {
			t.Fatalf("next = %+v %v", next.Inputs, err)
		}
		rd, err := s.Readiness(ctx, f.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rd.Checks {
			switch c.ID {
			case vigil.CheckManagementReview:
				if !c.Passed {
					t.Errorf("management review check = %+v", c)
				}
			case vigil.CheckCorrectiveActions:
				if c.Passed || !strings.Contains(c.Detail, "NC-1") {
					t.Errorf("corrective actions check = %+v", c)
				}
			}
		}
	})
}

func TestAuditGuestsAndCertification(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newAuditFixture(t, s)
		ctx := f.admin
		a, err := s.CreateAudit(ctx, f.org.ID, vigil.AuditInput{Type: vigil.AuditSurveillance, Title: "Surveillance 1", PlannedStart: "2027-01-10",
			CertificationBody: "CertCo", Scope: vigil.AuditScope{Requirements: []string{"9"}}}, store.AuditWrite{})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.InviteAuditGuest(ctx, f.org.ID, a.ID, vigil.AuditGuestInput{Email: "rita@certco.test", ValidFrom: "2027-01-10", ValidUntil: "2027-01-09"}); ismsField(err) != "valid_until" {
			t.Fatalf("backwards window: %v", err)
		}
		if _, _, err := s.InviteAuditGuest(ctx, f.org.ID, a.ID, vigil.AuditGuestInput{Email: "bob@acme.test", ValidFrom: "2027-01-10", ValidUntil: "2027-01-12"}); vigil.ErrorCode(err) != vigil.EConflict {
			t.Fatalf("inviting a member: %v", err)
		}
		now := s.Now()
		g, tok, err := s.InviteAuditGuest(ctx, f.org.ID, a.ID, vigil.AuditGuestInput{Email: "rita@certco.test", Name: "Rita",
			ValidFrom: now.Add(-time.Hour).Format(time.RFC3339), ValidUntil: now.Add(48 * time.Hour).Format(time.RFC3339)})
		if err != nil || tok == "" || !g.ActiveAt(now) || g.ActiveAt(now.Add(49*time.Hour)) {
			t.Fatalf("guest = %+v %q %v", g, tok, err)
		}
		actor, err := s.AuthenticateToken(ctx, tok)
		if err != nil || actor.Role != vigil.RoleExternalAuditor {
			t.Fatalf("guest token: %+v %v", actor, err)
		}
		grants, err := s.GuestGrants(ctx, f.org.ID, actor.UserID)
		if err != nil || len(grants) != 1 || grants[0].Audit != a.ID {
			t.Fatalf("grants = %+v %v", grants, err)
		}
		if err := s.RevokeAuditGuest(ctx, f.org.ID, a.ID, g.ID); err != nil {
			t.Fatal(err)
		}
		if grants, _ := s.GuestGrants(ctx, f.org.ID, actor.UserID); grants[0].ActiveAt(now) {
			t.Fatal("revoked grant still active")
		}

		// Certification and its schedule with the surveillance audit linked.
		c, err := s.PutCertification(ctx, f.org.ID, vigil.CertificationInput{CertificationBody: "CertCo", CertificateNumber: "ISMS-123",
			Stage1Date: "2025-11-10", Stage2Date: "2025-12-15", IssueDate: "2026-01-15", SurveillanceIntervalMonths: 12})
		if err != nil || c.ExpiryDate != "2029-01-15" {
			t.Fatalf("certification = %+v %v", c, err)
		}
		sched, err := s.CertificationSchedule(ctx, f.org.ID, "2026-11-28")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range sched {
			got = append(got, it.Kind+" "+it.DueDate+" "+it.AuditRef)
		}
		want := []string{"surveillance 2027-01-15 " + a.Ref, "surveillance 2028-01-15 ", "recertification 2028-10-15 ", "expiry 2029-01-15 "}
		if !slices.Equal(got, want) {
			t.Fatalf("schedule = %q; want %q", got, want)
		}
		dues, err := s.DueDates(ctx, f.org.ID, "2026-11-28")
		if err != nil || !slices.ContainsFunc(dues, func(d vigil.DueDate) bool { return d.Kind == "expiry" && d.Date == "2029-01-15" }) {
			t.Fatalf("due dates = %+v %v", dues, err)
		}

		// Changes raise special audits and then stay on record.
		ch, err := s.CreateChange(ctx, f.org.ID, vigil.ChangeInput{Title: "Moved to a new data centre", ChangedOn: "2026-10-01", Reason: "Provider exit", Significant: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateAudit(ctx, f.org.ID, vigil.AuditInput{Type: vigil.AuditSpecial, Title: "After the move", PlannedStart: "2026-12-05", LeadAuditor: "carol@acme.test",
			Change: ch.Ref, Scope: vigil.AuditScope{Requirements: []string{"A.7"}}}, store.AuditWrite{}); err != nil {
			t.Fatal(err)
		}
		if ch, _ = s.GetChange(ctx, f.org.ID, ch.ID); len(ch.Audits) != 1 {
			t.Fatalf("change audits = %v", ch.Audits)
		}
		if err := s.DeleteChange(ctx, f.org.ID, ch.ID); vigil.ErrorCode(err) != vigil.EConflict {
			t.Fatalf("delete change with audit: %v", err)
		}
	})
}
