package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// pteClock fixes the store's clock at day (YYYY-MM-DD), noon UTC.
func pteClock(t *testing.T, s *store.Store, day string) {
	t.Helper()
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		t.Fatal(err)
	}
	at := d.Add(12 * time.Hour)
	s.Now = func() time.Time { return at }
}

func pteCoverage(t *testing.T, s *store.Store, orgID, campaignID string) vigil.TrainingCoverage {
	t.Helper()
	return pteMust(s.GetTrainingCampaign(context.Background(), orgID, campaignID))(t).TrainingCoverage
}

func TestTrainingCoverageAndRounds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pteClock(t, s, "2026-03-01")
		o := newPTEOrg(t, s, "trn")
		mgr := o.as(vigil.RoleISMSManager)
		emp, viewer, auditor := o.m[vigil.RoleEmployee], o.m[vigil.RoleViewer], o.m[vigil.RoleInternalAuditor]

		for _, bad := range []struct {
			in    vigil.TrainingCampaignInput
			field string
		}{
			{vigil.TrainingCampaignInput{Title: "", AudienceRoles: []vigil.Role{vigil.RoleEmployee}, DueDate: "2026-03-31"}, "title"},
			{vigil.TrainingCampaignInput{Title: "x", AudienceRoles: []vigil.Role{vigil.RoleEmployee}, DueDate: "31/03/2026"}, "due_date"},
			{vigil.TrainingCampaignInput{Title: "x", AudienceRoles: []vigil.Role{"boss"}, DueDate: "2026-03-31"}, "audience_roles"},
			{vigil.TrainingCampaignInput{Title: "x", AudienceRoles: []vigil.Role{vigil.RoleExternalAuditor}, DueDate: "2026-03-31"}, "audience_roles"},
			{vigil.TrainingCampaignInput{Title: "x", DueDate: "2026-03-31"}, "audience_roles"},
			{vigil.TrainingCampaignInput{Title: "x", AudiencePeople: []string{"stranger@else.test"}, DueDate: "2026-03-31"}, "audience_people"},
			{vigil.TrainingCampaignInput{Title: "x", AudiencePeople: []string{o.m[vigil.RoleExternalAuditor].ID}, DueDate: "2026-03-31"}, "audience_people"},
			{vigil.TrainingCampaignInput{Title: "x", AudienceRoles: []vigil.Role{vigil.RoleEmployee}, DueDate: "2026-03-31", Recurrence: "weekly"}, "recurrence"},
		} {
			_, err := s.CreateTrainingCampaign(mgr, o.id, bad.in)
			pteWantCode(t, "bad campaign "+bad.field, err, vigil.EInvalid, bad.field)
		}

		c := pteMust(s.CreateTrainingCampaign(mgr, o.id, vigil.TrainingCampaignInput{Title: "Security awareness",
			AudienceRoles: []vigil.Role{vigil.RoleEmployee, vigil.RoleViewer}, AudiencePeople: []string{auditor.Email},
			DueDate: "2026-03-31", Recurrence: vigil.RecurYearly}))(t)
		if c.Ref != "TRN-1" || c.Round != 1 || c.Assigned != 3 || c.Completed != 0 || c.Coverage != 0 || len(c.AudiencePeople) != 1 || c.AudiencePeople[0] != auditor.ID {
			t.Fatalf("created %+v", c)
		}
		as := pteMust(s.ListTrainingAssignments(ctx, o.id, store.TrainingAssignmentFilter{CampaignID: c.ID}))(t)
		byUser := map[string]vigil.TrainingAssignment{}
		for _, a := range as {
			byUser[a.UserID] = a
		}
		if len(as) != 3 || byUser[emp.ID].ID == "" || byUser[viewer.ID].ID == "" || byUser[auditor.ID].ID == "" {
			t.Fatalf("assignments %+v", as)
		}

		// Completion: by the assignee, or an admin or ISMS manager for them.
		_, err := s.CompleteTrainingAssignment(o.as(vigil.RoleViewer), o.id, byUser[emp.ID].ID, vigil.TrainingCompletion{})
		pteWantCode(t, "viewer completes the employee's", err, vigil.EForbidden, "")
		_, err = s.CompleteTrainingAssignment(o.as(vigil.RoleEmployee), o.id, byUser[emp.ID].ID, vigil.TrainingCompletion{CompletedAt: s.Now().Add(48 * time.Hour)})
		pteWantCode(t, "completion in the future", err, vigil.EInvalid, "completed_at")
		_, err = s.CompleteTrainingAssignment(o.as(vigil.RoleEmployee), o.id, byUser[emp.ID].ID, vigil.TrainingCompletion{Evidence: "EVD-99"})
		pteWantCode(t, "unknown evidence", err, vigil.EInvalid, "evidence")
		done := pteMust(s.CompleteTrainingAssignment(o.as(vigil.RoleEmployee), o.id, byUser[emp.ID].ID,
			vigil.TrainingCompletion{CompletedAt: s.Now().Add(-24 * time.Hour), Evidence: "watched the video"}))(t)
		if done.CompletedAt == nil || vigil.DayOf(*done.CompletedAt) != "2026-02-28" || done.Note != "watched the video" || done.CompletedBy != emp.ID {
			t.Fatalf("completed %+v", done)
		}
		_, err = s.CompleteTrainingAssignment(o.as(vigil.RoleEmployee), o.id, byUser[emp.ID].ID, vigil.TrainingCompletion{})
		pteWantCode(t, "complete twice", err, vigil.EConflict, "")
		if cov := pteCoverage(t, s, o.id, c.ID); cov != vigil.NewTrainingCoverage(3, 1, 0) || cov.Coverage != 33 {
			t.Fatalf("coverage before the due date: %+v", cov)
		}

		// Past the due date the other two are overdue.
		pteClock(t, s, "2026-04-02")
		if cov := pteCoverage(t, s, o.id, c.ID); cov != vigil.NewTrainingCoverage(3, 1, 2) {
			t.Fatalf("coverage after the due date: %+v", cov)
		}
		mine := pteMust(s.ListTrainingAssignments(ctx, o.id, store.TrainingAssignmentFilter{UserID: viewer.ID}))(t)
		if len(mine) != 1 || !mine[0].Overdue {
			t.Fatalf("viewer's assignments: %+v", mine)
		}
		assigned, completed, err := s.TrainingCoverage(ctx, o.id)
		if err != nil || assigned != 3 || completed != 1 {
			t.Fatalf("TrainingCoverage = %d, %d, %v", assigned, completed, err)
		}

		// A new member is assigned at the next refresh, which also starts
		// round 2 (due a year later). The employee's completion of round 1
		// holds until then; the two who missed round 1 stay overdue.
		late := pteMust(s.AddMember(o.sys, o.id, vigil.NewMember{Email: "late@trn.test", Name: "Late", Role: vigil.RoleEmployee}))(t)
		c = pteMust(s.RefreshTrainingCampaign(mgr, o.id, c.ID))(t)
		if c.Round != 2 || c.DueDate != "2027-03-31" {
			t.Fatalf("after refresh: round %d due %s", c.Round, c.DueDate)
		}
		if c.TrainingCoverage != vigil.NewTrainingCoverage(4, 1, 2) || c.Coverage != 25 {
			t.Fatalf("round 2 coverage: %+v", c.TrainingCoverage)
		}
		mine = pteMust(s.ListTrainingAssignments(ctx, o.id, store.TrainingAssignmentFilter{UserID: viewer.ID}))(t)
		if len(mine) != 2 {
			t.Fatalf("viewer sees %d assignments (current round and the missed one), want 2", len(mine))
		}
		r2 := pteMust(s.ListTrainingAssignments(ctx, o.id, store.TrainingAssignmentFilter{CampaignID: c.ID}))(t)
		var lateA, viewerA vigil.TrainingAssignment
		for _, a := range r2 {
			switch a.UserID {
			case late.ID:
				lateA = a
			case viewer.ID:
				viewerA = a
			}
		}
		if lateA.ID == "" || lateA.Round != 2 || lateA.Overdue || !viewerA.Overdue {
			t.Fatalf("round 2: late %+v, viewer %+v", lateA, viewerA)
		}
		// An admin records the viewer's training on their behalf.
		pteMust(s.CompleteTrainingAssignment(o.as(vigil.RoleAdmin), o.id, viewerA.ID, vigil.TrainingCompletion{}))(t)
		if cov := pteCoverage(t, s, o.id, c.ID); cov != vigil.NewTrainingCoverage(4, 2, 1) {
			t.Fatalf("after the admin's record: %+v", cov)
		}
		// Leaving the audience withdraws unfinished assignments only.
		c = pteMust(s.UpdateTrainingCampaign(mgr, o.id, c.ID, vigil.TrainingCampaignUpdate{AudiencePeople: &[]string{}}))(t)
		if c.TrainingCoverage != vigil.NewTrainingCoverage(3, 2, 0) {
			t.Fatalf("after dropping the auditor: %+v", c.TrainingCoverage)
		}
		// Saving it unchanged writes and records nothing.
		before := o.trailLen()
		same := pteMust(s.UpdateTrainingCampaign(mgr, o.id, c.ID, vigil.TrainingCampaignUpdate{Title: ptePtr(c.Title)}))(t)
		if o.trailLen() != before || !same.UpdatedAt.Equal(c.UpdatedAt) {
			t.Fatalf("no-op update: %d trail entries, updated_at %v -> %v", o.trailLen()-before, c.UpdatedAt, same.UpdatedAt)
		}
		// The coverage report sums the campaigns.
		overall, cs, err := s.TrainingCoverageReport(ctx, o.id)
		if err != nil || len(cs) != 1 || overall != c.TrainingCoverage {
			t.Fatalf("report = %+v, %+v, %v", overall, cs, err)
		}
		if err := s.DeleteTrainingCampaign(mgr, o.id, c.Ref); err != nil {
			t.Fatal(err)
		}
		if a, n, err := s.TrainingCoverage(ctx, o.id); err != nil || a != 0 || n != 0 {
			t.Fatalf("after delete: %d, %d, %v", a, n, err)
		}
	})
}

func TestTrainingIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newPTEOrg(t, s, "ta")
		b := newPTEOrg(t, s, "tb")
		c := pteMust(s.CreateTrainingCampaign(a.as(vigil.RoleAdmin), a.id, vigil.TrainingCampaignInput{Title: "A only",
			AudienceRoles: []vigil.Role{vigil.RoleEmployee}, DueDate: "2030-01-01"}))(t)
		as := pteMust(s.ListTrainingAssignments(ctx, a.id, store.TrainingAssignmentFilter{CampaignID: c.ID}))(t)
		if len(as) != 1 {
			t.Fatalf("%d assignments", len(as))
		}
		bm := b.as(vigil.RoleAdmin)
		for name, err := range map[string]error{
			"get":      pteSecond(s.GetTrainingCampaign(ctx, b.id, c.ID)),
			"by ref":   pteSecond(s.GetTrainingCampaign(ctx, b.id, c.Ref)),
			"update":   pteSecond(s.UpdateTrainingCampaign(bm, b.id, c.ID, vigil.TrainingCampaignUpdate{Title: ptePtr("mine")})),
			"refresh":  pteSecond(s.RefreshTrainingCampaign(bm, b.id, c.ID)),
			"delete":   s.DeleteTrainingCampaign(bm, b.id, c.ID),
			"complete": pteSecond(s.CompleteTrainingAssignment(bm, b.id, as[0].ID, vigil.TrainingCompletion{})),
			"get one":  pteSecond(s.GetTrainingAssignment(ctx, b.id, as[0].ID)),
		} {
			pteWantCode(t, name, err, vigil.ENotFound, "")
		}
		if cs := pteMust(s.ListTrainingCampaigns(ctx, b.id, "", 100))(t); len(cs) != 0 {
			t.Fatalf("B lists %d campaigns", len(cs))
		}
		if got := pteMust(s.ListTrainingAssignments(ctx, b.id, store.TrainingAssignmentFilter{CampaignID: c.ID}))(t); len(got) != 0 {
			t.Fatalf("B lists %d of A's assignments", len(got))
		}
		if n, _, _ := s.TrainingCoverage(ctx, b.id); n != 0 {
			t.Fatalf("B's coverage counts %d of A's assignments", n)
		}
		// B's people are never in A's audience.
		_, err := s.UpdateTrainingCampaign(a.as(vigil.RoleAdmin), a.id, c.ID, vigil.TrainingCampaignUpdate{AudiencePeople: &[]string{b.m[vigil.RoleEmployee].Email}})
		pteWantCode(t, "B's member in A's audience", err, vigil.EInvalid, "audience_people")
	})
}
