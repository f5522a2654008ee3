package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/demo"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// TestSeedAudits checks the demo's certification cycle: certificate
// issued, one surveillance audit done with one finding closed and one
// open, the next one planned, a review signed off, an expired guest.
func TestSeedAudits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := vigil.WithActor(context.Background(), vigil.SystemActor("test"))
		res, err := demo.Seed(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		today := s.Now().UTC().Format(time.DateOnly)
		sched, err := s.CertificationSchedule(ctx, res.OrgID, today)
		if err != nil || len(sched) != 4 {
			t.Fatalf("schedule = %+v %v", sched, err)
		}
		if sched[0].Status != vigil.ScheduleDone || sched[1].Status != vigil.SchedulePlanned {
			t.Errorf("surveillance slots = %+v", sched[:2])
		}
		audits, err := s.ListAudits(ctx, res.OrgID, vigil.AuditFilter{Type: vigil.AuditSurveillance}, "", 10)
		if err != nil || len(audits) != 2 || audits[0].Status != vigil.AuditReported {
			t.Fatalf("surveillance audits = %+v %v", audits, err)
		}
		findings, err := s.ListFindings(ctx, res.OrgID, vigil.FindingFilter{Audit: audits[0].ID}, "", 10)
		if err != nil || len(findings) != 2 || findings[0].Status != vigil.FindingClosed || findings[1].Status != vigil.FindingOpen {
			t.Fatalf("findings = %+v %v", findings, err)
		}
		guests, err := s.ListAuditGuests(ctx, res.OrgID, audits[0].ID)
		if err != nil || len(guests) != 1 || guests[0].ActiveAt(s.Now()) {
			t.Fatalf("guests = %+v %v", guests, err)
		}
		rd, err := s.Readiness(ctx, res.OrgID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rd.Checks {
			switch c.ID {
			case vigil.CheckInternalAudit, vigil.CheckManagementReview, vigil.CheckCorrectiveActions:
				if !c.Passed {
					t.Errorf("%s = %+v", c.ID, c)
				}
			}
		}
	})
}
